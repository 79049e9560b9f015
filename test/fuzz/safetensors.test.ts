// Fuzz parseSafetensors: byte mutations of valid files, semantic edits of the JSON header (offsets,
// shapes, dtypes, metadata), lying header lengths, and random bytes. Every failure must be a
// SafetensorsError naming the file; every success must describe tensors that lie inside the file.
import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  DTYPE_SIZE, SafetensorsError, numel, parseSafetensors, serializeSafetensors, toFloat64, type ParsedSafetensors,
} from '../../engine/io/safetensors.ts';
import { caseCount, fuzz } from './harness.ts';
import { INTERESTING, Rng, copy, mutateBytes, mutateJson, mutateJsonText, writeInt } from './mutate.ts';

const seeds: Uint8Array[] = [
  serializeSafetensors({
    w: { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
    h: { dtype: 'F16', shape: [2], data: new Uint16Array([0x3c00, 0xc000]) },
    b: { dtype: 'BF16', shape: [1, 1], data: new Uint16Array([0x3f80]) },
    d: { dtype: 'F64', shape: [], data: new Float64Array([Math.PI]) },
    i: { dtype: 'I64', shape: [2], data: new BigInt64Array([-1n, 2n ** 40n]) },
    j: { dtype: 'I32', shape: [0, 4], data: new Int32Array(0) },
    u: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 255]) },
  }, { format: 'pt', note: 'fuzz seed' }),
  copy(readFileSync(new URL('../fixtures/io/handmade.safetensors', import.meta.url))),
];

/** The header JSON and data section of a valid file. */
function split(file: Uint8Array): { header: unknown; data: Uint8Array } {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))), data: file.subarray(8 + n) };
}
const parts = seeds.map(split);

/** A file from header text and data, with a correct header length. */
function join(headerText: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function generate(rng: Rng): Uint8Array {
  const k = rng.int(seeds.length);
  switch (rng.int(6)) {
    case 0: case 1: return mutateBytes(seeds[k], rng);
    case 2: case 3: { // semantic: one field of the header JSON, the data kept (sometimes cut)
      const { header, data } = parts[k];
      const cut = rng.chance(0.2) ? data.subarray(0, rng.int(data.length)) : data;
      return join(JSON.stringify(mutateJson(header, rng)), cut);
    }
    case 4: { // the header length field lies, or the header text is broken at the text level
      if (rng.chance(0.5)) {
        const out = copy(seeds[k]);
        writeInt(out, 0, 8, rng.chance(0.8) ? rng.pick(INTERESTING) : BigInt(rng.int(out.length + 16)));
        return out;
      }
      return join(mutateJsonText(JSON.stringify(parts[k].header), rng), parts[k].data);
    }
    default: return rng.bytes(rng.int(64));
  }
}

/** An accepted file: every tensor's array has numel elements, sits inside the file, and dtypes are known. */
function check(result: unknown, input: Uint8Array): string | undefined {
  for (const [name, raw] of (result as ParsedSafetensors).tensors) {
    if (!Object.hasOwn(DTYPE_SIZE, raw.dtype)) return `${name} has dtype ${raw.dtype}`;
    if (raw.data.length !== numel(raw.shape)) return `${name} has ${raw.data.length} elements for shape [${raw.shape}]`;
    if (raw.data.byteLength > input.length) return `${name} is larger than the file`;
  }
  return undefined;
}

t.test('safetensors: malformed files fail as SafetensorsError naming the file, within 1 s each', async (t) => {
  const stats = fuzz(t, {
    name: 'safetensors', generate, check, errors: [SafetensorsError],
    parse: (bytes, source) => { // parse, then decode every tensor as loading does (an I64 beyond 2^53 fails here)
      const parsed = parseSafetensors(bytes, source);
      for (const [name, raw] of parsed.tensors) toFloat64(raw, `${source}: tensor "${name}"`);
      return parsed;
    },
  }, 1, caseCount(12000));
  t.ok(stats.accepted > 0, 'some mutations stay valid (the fuzzer reaches the success path)');
  const codes = [...stats.rejected.keys()];
  for (const code of ['I64_RANGE', 'TRUNCATED', 'HEADER_LENGTH', 'BAD_JSON', 'UNKNOWN_DTYPE', 'BAD_SHAPE', 'BAD_OFFSETS', 'OUT_OF_BOUNDS', 'BYTE_LENGTH']) {
    t.ok(codes.includes(`SafetensorsError:${code}`), `the mutations reach the ${code} check`);
  }
});
