// Bounded resources on hostile files (issue 13, item 3): deflate bombs, lying sizes, huge tensors and
// headers fail cleanly, with the peak memory of a fresh process measured around the parse; pickle
// nesting, shared subtrees, LONG sizes, stack and memo are capped; every limit is exported and enforced.
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { inflateSync } from 'fflate';
import { PICKLE_LIMITS, PickleClass, PickleError, unpickle } from '../../engine/io/pickle.ts';
import { SAFETENSORS_LIMITS, SafetensorsError, parseSafetensors } from '../../engine/io/safetensors.ts';
import { TORCH_LIMITS, TorchZipError, readTorchArchive } from '../../engine/io/torchscript.ts';
import { ZIP_LIMITS, ZipError, readZip } from '../../engine/io/zip.ts';
import { deflateBomb, nestedDictPickle, rawZip, sharedDictPickle, tensorPickle, torchZip } from './hostile.ts';

const MiB = 2 ** 20;
const run = promisify(execFile);

interface ChildResult { error: string; message: string; fileBytes: number; peakDelta: number }
async function inChild(name: string): Promise<ChildResult> {
  const child = new URL('./bounds-child.ts', import.meta.url).pathname;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, name], { maxBuffer: MiB });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;
}

t.test('the bomb really is one: the hand-built stream inflates to 1 + 258 * units zeros', async (t) => {
  const out = inflateSync(deflateBomb(1000));
  t.equal(out.length, 1 + 258 * 1000);
  t.ok(out.every((b) => b === 0));
});

// Each hostile file in a fresh process: the peak RSS growth during the parse must stay under
// 2 × the file size + the documented limit that applies (and, tighter, under 2 × file + 64 MiB).
const cases: [string, string, RegExp, number][] = [
  ['deflate-bomb', 'ZipError', /hostile\.pt: entry "x\/data\/0" declares 2684354809 bytes, more than the limit/, ZIP_LIMITS.maxInflatedBytes],
  ['lying-bomb', 'ZipError', /hostile\.pt: entry "x\/data\/0" inflates past its declared 1048576 bytes/, ZIP_LIMITS.maxInflatedBytes],
  ['huge-tensor', 'TorchZipError', /hostile\.pt: tensor \[65536, 65536\] .* past the limit of 2147483648 bytes copied/, TORCH_LIMITS.maxCopiedBytes],
  ['huge-header', 'SafetensorsError', /huge-header\.safetensors: tensor "w": data_offsets \[0, 4398046511104\] run past/, SAFETENSORS_LIMITS.maxHeaderBytes],
];
t.test('hostile files fail cleanly with bounded peak memory (measured in a child process)', async (t) => {
  const results = await Promise.all(cases.map(([name]) => inChild(name)));
  cases.forEach(([name, error, message, limit], i) => {
    const r = results[i];
    t.equal(r.error, error, `${name}: ${error}`);
    t.match(r.message, message, `${name}: the message names the file and the problem`);
    t.ok(r.peakDelta < 2 * r.fileBytes + limit, `${name}: peak +${(r.peakDelta / MiB).toFixed(1)} MiB < 2 × file + documented limit`);
    t.ok(r.peakDelta < 2 * r.fileBytes + 64 * MiB,
      `${name}: peak +${(r.peakDelta / MiB).toFixed(1)} MiB for a ${(r.fileBytes / MiB).toFixed(1)} MiB file < 2 × file + 64 MiB`);
  });
});

t.test('zip limits: entry count, entry size, total inflated, deflate ratio', async (t) => {
  const stored = (name: string, data: Uint8Array) => ({ name, data, method: 0 as const, size: data.length });
  const three = rawZip(['a', 'b', 'c'].map((n) => stored(n, new Uint8Array(8))));
  t.throws(() => readZip(three, 'n.zip', { limits: { maxEntries: 2 } }), { name: 'ZipError', message: /n\.zip: 3 entries, more than the limit of 2/ });
  t.throws(() => readZip(three, 'n.zip', { limits: { maxEntryBytes: 4 } }), { message: /entry "a" declares 8 bytes, more than the limit of 4/ });
  const bomb = rawZip([{ name: 'b', data: deflateBomb(10000), method: 8, size: 1 + 258 * 10000 }]);
  t.throws(() => readZip(bomb, 'b.zip', { limits: { maxInflatedBytes: MiB } }), { message: /b\.zip: entries inflate to more than the limit of 1048576 bytes/ });
  t.throws(() => readZip(bomb, 'b.zip'), { message: /fails its CRC-32 check/ }, 'within the limits it inflates, then the (wrong) CRC is caught');
  const liar = rawZip([{ name: 'l', data: new Uint8Array(100), method: 8, size: 2 ** 31 - 2 }]);
  t.throws(() => readZip(liar, 'l.zip'), { message: /declares 2147483646 bytes from 100 compressed: more than deflate can expand/ });
  t.equal(ZIP_LIMITS.maxInflatedBytes, 2 ** 30, 'documented default');
});

t.test('zip64: sizes from the extra field and the zip64 end record are read, then checked like the rest', async (t) => {
  const data = new Uint8Array([1, 2, 3, 4, 5]);
  const entry = { name: 'big/data/0', data, method: 0 as const, size: data.length };
  const files = readZip(rawZip([entry], {}), 'z64.zip');
  t.same([...files.get('big/data/0')!], [1, 2, 3, 4, 5], 'a zip64 archive reads');
  t.throws(() => readZip(rawZip([entry], { zip64Size: 2n ** 40n }), 'z64.zip'), { name: 'ZipError', message: /z64\.zip: entry "big\/data\/0" declares 1099511627776 bytes, more than the limit/ });
  t.throws(() => readZip(rawZip([entry], { zip64Size: 2n ** 64n - 1n }), 'z64.zip'), { name: 'ZipError', message: /zip64 size 18446744073709551615 is beyond 2\^53/ });
});

t.test('pickle and torch walk limits: depth, shared subtrees, LONG size, stack, memo', async (t) => {
  const deep = torchZip(nestedDictPickle(100_000));
  t.throws(() => readTorchArchive(deep, 'deep.pt'), { name: 'TorchZipError', message: /deep\.pt: dicts \/ modules nested deeper than 1000/ });
  const start = performance.now();
  t.throws(() => readTorchArchive(torchZip(sharedDictPickle(64)), 'dag.pt'),
    { name: 'TorchZipError', message: /dag\.pt: the pickled object graph has more than 1048576 values/ }, '2^64 paths through 64 dicts');
  t.comment(`shared-subtree walk refused after ${(performance.now() - start).toFixed(0)} ms`);
  const resolveGlobal = (m: string, n: string) => new PickleClass(`${m}.${n}`);
  const long4 = Uint8Array.from([0x8b, 0, 0, 0x10, 0, ...new Uint8Array(MiB), 0x2e]);
  t.throws(() => unpickle(long4, { resolveGlobal, source: 'long.pkl' }), { name: 'PickleError', message: /long\.pkl: LONG of 1048576 bytes, more than the limit of 1024/ });
  const nones = Uint8Array.from([...new Array(100).fill(0x4e), 0x2e]);
  t.throws(() => unpickle(nones, { resolveGlobal, source: 's.pkl', limits: { maxStack: 50 } }), { name: 'PickleError', message: /s\.pkl: stack deeper than the limit of 50/ });
  const memos = Uint8Array.from([0x4e, ...new Array(100).fill(0x94), 0x2e]);
  t.throws(() => unpickle(memos, { resolveGlobal, source: 'm.pkl', limits: { maxMemo: 10 } }), { message: /m\.pkl: more memo entries than the limit of 10/ });
  t.ok(unpickle(nones, { resolveGlobal }) === null && PICKLE_LIMITS.maxStack >= 1 << 20, 'the defaults accept ordinary pickles');
});

t.test('safetensors limits: header size and tensor count', async (t) => {
  const header = (obj: unknown) => {
    const json = new TextEncoder().encode(JSON.stringify(obj));
    const f = new Uint8Array(8 + json.length);
    new DataView(f.buffer).setBigUint64(0, BigInt(json.length), true);
    f.set(json, 8);
    return f;
  };
  const two = header({ a: { dtype: 'U8', shape: [0], data_offsets: [0, 0] }, b: { dtype: 'U8', shape: [0], data_offsets: [0, 0] } });
  t.throws(() => parseSafetensors(two, 'h.safetensors', { maxHeaderBytes: 16 }), { name: 'SafetensorsError', code: 'TOO_LARGE', message: /h\.safetensors: header of \d+ bytes, more than the limit of 16/ });
  t.throws(() => parseSafetensors(two, 'h.safetensors', { maxTensors: 1 }), { code: 'TOO_LARGE', message: /2 tensors, more than the limit of 1/ });
  t.equal(parseSafetensors(two, 'h.safetensors').tensors.size, 2, 'within the defaults it parses');
  t.equal(SAFETENSORS_LIMITS.maxHeaderBytes, 100_000_000, "the Rust crate's MAX_HEADER_SIZE");
  const big = tensorPickle([1024, 1024], [0, 0]); // 4 MiB from a 4-byte storage
  t.throws(() => readTorchArchive(torchZip(big, { 0: new Uint8Array(4) }), 'e.pt', { limits: { maxCopiedBytes: MiB } }),
    { name: 'TorchZipError', message: /e\.pt: tensor \[1024, 1024\] on storage 0 needs a copy of/ });
  t.equal(readTorchArchive(torchZip(big, { 0: new Uint8Array(4) }), 'e.pt').tensors.get('w')!.data.length, 1 << 20, 'an expanded tensor within the budget loads');
  t.ok(SafetensorsError && ZipError && PickleError, 'error classes are exported');
});
