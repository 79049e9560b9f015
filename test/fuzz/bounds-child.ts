/**
 * One hostile case, run in a fresh process so its peak memory can be read: builds the file, notes the
 * peak RSS, parses, notes the peak again, and prints one JSON line { error, message, fileBytes, peakDelta }.
 * Used by bounds.test.ts (`node --import tsx test/fuzz/bounds-child.ts <case>`); not a test itself.
 */
import { parseSafetensors } from '../../engine/io/safetensors.ts';
import { readTorchArchive } from '../../engine/io/torchscript.ts';
import { deflateBomb, rawZip, tensorPickle, torchZip } from './hostile.ts';

const GB = 2 ** 30;

/** Each case: the file, and the parse expected to refuse it. */
const CASES: Record<string, () => { file: Uint8Array; parse: (f: Uint8Array) => unknown }> = {
  // an honest bomb: data/0 declares and really inflates to 2.5 GB, from ~15 MB
  'deflate-bomb': () => {
    const units = Math.ceil((2.5 * GB) / 258);
    const data = deflateBomb(units);
    const pkl = torchZipPickle();
    return { file: rawZip([pkl, { name: 'x/data/0', data, method: 8, size: 1 + 258 * units }]), parse: torch };
  },
  // a lying bomb: data/0 declares 1 MiB but inflates to 2.5 GB
  'lying-bomb': () => {
    const data = deflateBomb(Math.ceil((2.5 * GB) / 258));
    return { file: rawZip([torchZipPickle(), { name: 'x/data/0', data, method: 8, size: 2 ** 20 }]), parse: torch };
  },
  // a tensor of 2^32 float32 elements (16 GiB) expanded from a 4-byte storage with stride 0
  'huge-tensor': () => ({ file: torchZip(tensorPickle([65536, 65536], [0, 0]), { 0: new Uint8Array(4) }), parse: torch }),
  // a safetensors header declaring a 4 TiB tensor in a 200-byte file
  'huge-header': () => {
    const header = JSON.stringify({ w: { dtype: 'F32', shape: [2 ** 20, 2 ** 20], data_offsets: [0, 2 ** 42] } });
    const json = new TextEncoder().encode(header);
    const file = new Uint8Array(8 + json.length);
    new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
    file.set(json, 8);
    return { file, parse: (f) => parseSafetensors(f, 'huge-header.safetensors') };
  },
};

function torchZipPickle() {
  const data = tensorPickle([4], [1]);
  return { name: 'x/data.pkl', data, method: 0 as const, size: data.length };
}
function torch(f: Uint8Array): unknown { return readTorchArchive(f, 'hostile.pt'); }

const name = process.argv[2];
const make = CASES[name];
if (!make) throw new Error(`bounds-child: unknown case ${name} (known: ${Object.keys(CASES).join(', ')})`);
const { file, parse } = make();
const before = process.resourceUsage().maxRSS * 1024;
let error = 'none';
let message = '';
try {
  parse(file);
} catch (err) {
  error = (err as Error).name;
  message = (err as Error).message;
}
const peakDelta = process.resourceUsage().maxRSS * 1024 - before;
console.log(JSON.stringify({ error, message, fileBytes: file.length, peakDelta }));
