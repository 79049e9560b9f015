// Fuzz readTorchArchive (torch.save state dicts and TorchScript archives): byte mutations of the zip,
// lying size / offset / count fields in its headers, data.pkl mutated and re-zipped (so the pickle
// machine and the tensor rebuilding see it past the CRC check), storages cut or renamed, deflated
// entries corrupted. Every failure must be a ZipError, TorchZipError or PickleError naming the file.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { zipSync, type Zippable } from 'fflate';
import { PickleError } from '../../engine/io/pickle.ts';
import { numel } from '../../engine/io/safetensors.ts';
import { TorchZipError, readTorchArchive, type TorchArchive } from '../../engine/io/torchscript.ts';
import { ZipError, readZip } from '../../engine/io/zip.ts';
import { caseCount, fuzz } from './harness.ts';
import { Rng, copy, mutateBytes, mutatePickle, mutateZipField } from './mutate.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/io/${name}`, import.meta.url));
const zips = [fixture('state_dict.pt'), fixture('torchscript.pt')].map(copy);
const entries = zips.map((z) => readZip(z, 'seed'));
/** The state dict again, every entry deflated (torch stores them; other zip writers compress). */
const deflated = zipSync(Object.fromEntries([...entries[0]].map(([k, v]) => [k, [v, { level: 6 }]])) as Zippable);

/** Entries -> a stored zip (as torch writes). */
const rezip = (files: Map<string, Uint8Array>) => zipSync(Object.fromEntries(files) as Zippable, { level: 0 });

function generate(rng: Rng): Uint8Array {
  const k = rng.int(zips.length);
  const files = new Map(entries[k]);
  const pkl = [...files.keys()].find((n) => n.endsWith('/data.pkl'))!;
  switch (rng.int(7)) {
    case 0: return mutateBytes(zips[k], rng);
    case 1: return mutateZipField(zips[k], rng);
    case 2: case 3: { // the pickle, past the CRC: opcode-level or byte-level
      files.set(pkl, rng.chance(0.6) ? mutatePickle(files.get(pkl)!, rng) : mutateBytes(files.get(pkl)!, rng));
      return rezip(files);
    }
    case 4: { // a storage cut, grown, removed, or an entry renamed
      const names = [...files.keys()].filter((n) => n.includes('/data/'));
      const name = rng.pick(names);
      const data = files.get(name)!;
      const edit = rng.int(4);
      if (edit === 0) files.set(name, data.subarray(0, rng.int(data.length)));
      else if (edit === 1) files.set(name, new Uint8Array(data.length + 1 + rng.int(16)));
      else if (edit === 2) files.delete(name);
      else { files.delete(name); files.set(rng.pick([`${name}x`, pkl.replace('data.pkl', 'other/data.pkl'), name.replace(/\/data\//, '/')]), data); }
      return rezip(files);
    }
    case 5: return rng.chance(0.5) ? mutateBytes(deflated, rng) : mutateZipField(deflated, rng);
    default: return Uint8Array.of(0x50, 0x4b, 3, 4, ...rng.bytes(rng.int(128)));
  }
}

/** An accepted archive: every tensor's array matches its shape. */
function check(result: unknown): string | undefined {
  for (const [name, raw] of (result as TorchArchive).tensors) {
    if (raw.data.length !== numel(raw.shape)) return `${name} has ${raw.data.length} elements for shape [${raw.shape}]`;
  }
  return undefined;
}

t.test('torch zip: malformed archives fail as ZipError / TorchZipError / PickleError naming the file', async (t) => {
  const stats = fuzz(t, {
    name: 'torchzip', generate, check, errors: [ZipError, TorchZipError, PickleError],
    // A small copy budget keeps stride-0 "expanded" tensors from mutated shapes cheap; the default is tested in bounds.test.ts.
    parse: (bytes, source) => readTorchArchive(bytes, source, { limits: { maxCopiedBytes: 1 << 22 } }),
  }, 2, caseCount(10000));
  t.ok(stats.accepted > 0, 'some mutations stay loadable');
  for (const kind of ['ZipError', 'TorchZipError', 'PickleError']) t.ok(stats.rejected.has(kind), `the mutations reach ${kind}s`);
});
