// Zip entries with ".." or absolute paths are refused, and nothing is ever written to disk: the
// readers of archives import no file-system module (names are only map keys), which this test
// checks in their source, and reading a hostile archive leaves the working directory untouched.
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { readTorchArchive } from '../../engine/io/torchscript.ts';
import { readZip } from '../../engine/io/zip.ts';
import { rawZip, tensorPickle } from '../fuzz/hostile.ts';

const UNSAFE = ['../evil', 'x/../../evil', 'x/data/../../../etc/passwd', '/etc/passwd', '/x/data.pkl', 'C:/Windows/evil',
  'c:evil', 'x\\..\\..\\evil', 'x/data/\\evil', 'x/data/0\0.txt', '..', 'x/..', ''];

const entry = (name: string, data: Uint8Array = new Uint8Array(4)) => ({ name, data, method: 0 as const, size: data.length });
const pkl = tensorPickle([1], [1]);

t.test('entries with "..", absolute or drive paths, backslashes or NUL are refused by name', async (t) => {
  for (const name of UNSAFE) {
    const zip = rawZip([entry('x/data.pkl', pkl), entry('x/data/0'), entry(name)]);
    const shown = JSON.stringify(name).slice(1, -1).replace(/[\\.$^()[\]|*+?{}]/g, '\\$&');
    t.throws(() => readZip(zip, 'paths.zip'), { name: 'ZipError', message: new RegExp(`paths\\.zip: unsafe entry name "${shown}"`) }, JSON.stringify(name));
    t.throws(() => readTorchArchive(zip, 'paths.pt'), { name: 'ZipError', message: /paths\.pt: unsafe entry name/ },
      `${JSON.stringify(name)}: refused even though the torch reader would skip that entry`);
  }
});

t.test('duplicate names (which entry would win?) are refused', async (t) => {
  const zip = rawZip([entry('x/data.pkl', pkl), entry('x/data/0'), entry('x/data/0', new Uint8Array(8))]);
  t.throws(() => readTorchArchive(zip, 'dup.pt'), { name: 'ZipError', message: /dup\.pt: entry "x\/data\/0" appears twice/ });
});

t.test('ordinary names still load', async (t) => {
  const zip = zipSync({ 'archive/data.pkl': pkl, 'archive/data/0': new Uint8Array(4), 'archive/.data/version': new Uint8Array([51]) });
  t.same([...readTorchArchive(zip, 'ok.pt').tensors.keys()], ['w']);
});

t.test('the archive readers import no file-system module: entry names are only map keys', async (t) => {
  for (const file of ['zip.ts', 'torchscript.ts', 'pickle.ts', 'safetensors.ts']) {
    const source = readFileSync(new URL(`../../engine/io/${file}`, import.meta.url), 'utf8');
    const imports = [...source.matchAll(/^import\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
    t.ok(imports.every((m) => m === 'fflate' || /^\.\/(zip|pickle|safetensors)\.ts$/.test(m)), `${file} imports only ${imports.join(', ')}`);
    t.notMatch(source, /\b(require\(|import\(|process\.|Deno\.|Bun\.)/, `${file} reaches no runtime API dynamically`);
  }
});

t.test('reading hostile archives writes nothing to the working directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spt-zip-'));
  const cwd = process.cwd();
  try {
    process.chdir(dir);
    for (const name of UNSAFE) {
      try { readTorchArchive(rawZip([entry('x/data.pkl', pkl), entry('x/data/0'), entry(name)]), 'p.pt'); } catch { /* refused */ }
    }
    t.same(readdirSync(dir), [], 'the directory is still empty');
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});
