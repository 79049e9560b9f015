// The Node edge: atomic writes leave no temp file behind and replace the old file whole.
import t from 'tap';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  readSafetensorsFile, readTorchArchiveFile, writeFileAtomic, writeSafetensorsFile,
} from '../../../engine/io/files.ts';
import type { RawTensor } from '../../../engine/io/safetensors.ts';

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'spt-seg-io-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('writeSafetensorsFile then readSafetensorsFile', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'model.safetensors');
  const tensors: Record<string, RawTensor> = {
    'w': { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
    'h': { dtype: 'F16', shape: [1], data: new Uint16Array([0x3c00]) },
  };
  await writeSafetensorsFile(path, tensors, { step: '10' });
  const back = await readSafetensorsFile(path);
  t.same(back.metadata, { step: '10' });
  t.same(Array.from(back.tensors.get('w')!.data as Float32Array), [1, 2, 3, 4]);
  t.same(Array.from(back.tensors.get('h')!.data as Uint16Array), [0x3c00]);
  t.same(await readdir(dir), ['model.safetensors'], 'no temp file left');
});

t.test('writeFileAtomic overwrites and leaves no temp file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'notes.txt');
  await writeFile(path, 'old contents that are longer than the new ones');
  await writeFileAtomic(path, 'new');
  t.equal(await readFile(path, 'utf8'), 'new');
  await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  t.same([...(await readFile(path))], [1, 2, 3]);
  t.same(await readdir(dir), ['notes.txt']);
});

t.test('a failed write leaves the old file and no temp file', async (t) => {
  const dir = await tempDir(t);
  await t.rejects(writeFileAtomic(join(dir, 'missing', 'x.bin'), 'data'), { code: 'ENOENT' });
  const path = join(dir, 'keep.safetensors');
  await writeFile(path, 'old');
  const bad = { w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } as RawTensor };
  await t.rejects(writeSafetensorsFile(path, bad), { code: 'BYTE_LENGTH' });
  t.equal(await readFile(path, 'utf8'), 'old', 'old file untouched');
  t.same((await readdir(dir)).sort(), ['keep.safetensors']);
});

t.test('readTorchArchiveFile reads a fixture and names the path in errors', async (t) => {
  const fixture = fileURLToPath(new URL('../../fixtures/io/state_dict.pt', import.meta.url));
  const archive = await readTorchArchiveFile(fixture);
  t.ok(archive.tensors.has('0.weight'));
  const dir = await tempDir(t);
  const bogus = join(dir, 'bogus.pt');
  await writeFile(bogus, 'not a zip');
  await t.rejects(readTorchArchiveFile(bogus), { message: new RegExp(`${bogus}: not a zip archive`) });
});

t.test('saveSafetensors / loadSafetensors round-trip engine tensors', async (t) => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { tensor } = await import('../../../engine/index.ts');
  const { loadSafetensors, saveSafetensors } = await import('../../../engine/io/files.ts');
  const dir = mkdtempSync(join(tmpdir(), 'spt-st-'));
  const path = join(dir, 'state.safetensors');
  const a = tensor([[1.5, -2], [3, 4]]);
  const b = tensor([1, 2, 3], undefined, { dtype: 'int32' });
  const c = tensor([0.1, 0.2], undefined, { dtype: 'float64' });
  await saveSafetensors(path, new Map([['a', a], ['b', b], ['c', c]]), { note: 'x' });
  const back = await loadSafetensors(path);
  t.same(back.metadata, { note: 'x' });
  t.same(back.tensors.get('a')!.shape, [2, 2]);
  t.same(back.tensors.get('a')!.toArray(), [1.5, -2, 3, 4]);
  t.equal(back.tensors.get('b')!.dtype, 'int32');
  t.equal(back.tensors.get('c')!.dtype, 'float32', 'float data loads as float32 by default');
  t.equal((await loadSafetensors(path, 'float64')).tensors.get('c')!.toArray()[0], 0.1);
});
