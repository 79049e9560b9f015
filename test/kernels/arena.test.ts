/**
 * The wasm backend's arena (kernels/wasm/arena.ts): float32 arrays inside the kernels' memory, used
 * in place. Checked here:
 *   - the Arena itself: views in its memory, zero-filled when asked (a reused block too), temporary
 *     blocks given back at the end of a call and reused, null (not an exception) when full;
 *   - the CPU backends' fresh float32 arrays are arena views once a wasm backend exists, so a kernel
 *     chain runs without copies (and the arena's high-water mark stays put on a repeated step);
 *   - the two paths compute the same numbers: the spec table on a backend without an arena (the
 *     copying path), and on one whose arena is too small for most calls (fallbacks mid-chain),
 *     element for element equal to the default backend's (arena) results, bit for bit.
 */
import t from 'tap';
import type { Storage } from '../../kernels/backend.ts';
import { CpuBackend } from '../../kernels/cpu/index.ts';
import { Arena } from '../../kernels/wasm/arena.ts';
import { WasmBackend, createWasmBackend } from '../../kernels/wasm/index.ts';
import { compileLocalKernels, createKernels, float32Arena, type KernelExports, type WasmKernels } from '../../kernels/wasm/module.ts';
import { SPEC_CASES } from './spec-table.ts';

t.test('Arena: views in its memory, zeroing, scratch reuse, null when full', (t) => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 }); // 64 KiB
  const arena = new Arena(memory, 256);
  const a = arena.alloc(1000, true)!;
  t.ok(arena.owns(a), 'the view is in the arena memory');
  t.equal(a.byteOffset % 64, 0, 'on a cache line');
  t.ok(a.every((v) => v === 0), 'a fresh block is zero');
  t.notOk(arena.owns(new Float32Array(10)), 'an ordinary array is not');
  a.fill(7);
  // Give the block back as a scratch block would be, then take it again: zeroed only when asked.
  const s = arena.scratch(1000)!;
  new Float32Array(memory.buffer, s, 1000).fill(3);
  arena.endCall();
  t.equal(arena.scratch(1000), s, 'a scratch block is reused after endCall');
  arena.endCall();
  const stale = arena.alloc(1000, false)!;
  t.equal(stale.byteOffset, s, 'alloc takes the freed block');
  t.equal(stale[0], 3, 'uninitialised: its old contents');
  arena.endCall();
  const before = arena.usedBytes();
  t.equal(arena.alloc(20000, true), null, 'no room: null');
  t.equal(arena.usedBytes(), before, 'and nothing taken');
  t.equal(arena.place(new Float32Array(20000)), null, 'place: null when a copy does not fit');
  t.equal(arena.place(a), a.byteOffset, 'place of a resident array: its own address');
  t.end();
});

t.test('fresh float32 arrays of the CPU backends live in the arena; a repeated step takes no new room', (t) => {
  const wasm = createWasmBackend({ threads: 1 })!;
  const arena = float32Arena();
  if (arena === null) { t.fail('on Node the wasm kernels make an arena'); t.end(); return; }
  t.equal(wasm.kernels.resident?.arena, arena, 'every backend runs on the one arena');
  t.ok(arena.owns((new CpuBackend().full(512, 0, 'float32') as Storage & { data: Float32Array }).data),
    'the reference backend\'s fresh arrays are arena views too');
  const step = () => wasm.tidy(() => {
    const x = wasm.full(4096, 1.5, 'float32');
    const y = wasm.unary('exp', wasm.binary('mul', x, [1], x, [1], [4096]));
    return wasm.reduce('sum', y, 1, 4096);
  }, (s) => [s]);
  step();
  const mark = arena.usedBytes();
  for (let i = 0; i < 5; i++) step();
  t.equal(arena.usedBytes(), mark, 'the scope recycles its arrays: the high-water mark stays put');
  t.ok(arena.owns((wasm.full(300, 2, 'float32') as Storage & { data: Float32Array }).data), 'a float32 storage of 300 floats is an arena view');
  t.notOk(arena.owns((wasm.full(100, 2, 'float32') as Storage & { data: Float32Array }).data), 'under 256 floats: an ordinary array');
  t.end();
});

/** A backend on the same compiled kernels with no arena (the copying path), or a tiny one. */
function variant(arenaPages: number | null): WasmBackend {
  const base = createKernels();
  let resident: WasmKernels['resident'] = null;
  if (arenaPages !== null) {
    const memory = new WebAssembly.Memory({ initial: arenaPages, maximum: arenaPages });
    const instance = new WebAssembly.Instance(compileLocalKernels(base.shape.fma), { env: { memory } });
    resident = { arena: new Arena(memory, 256), exports: instance.exports as unknown as KernelExports };
  }
  return new WasmBackend({ ...base, resident }, { threads: 1 });
}

t.test('the copying path and a too-small arena give the arena path\'s numbers, bit for bit', (t) => {
  const arenaPath = createWasmBackend({ threads: 1 })!; // the shared arena: operands in place
  const backends: [string, WasmBackend][] = [['no arena', variant(null)], ['a 64 KiB arena', variant(1)]];
  for (const c of SPEC_CASES) {
    let want: Float32Array | Float64Array | Int32Array;
    try { want = arenaPath.read(c.run(arenaPath)); } catch { continue; } // cases that test errors
    for (const [label, b] of backends) {
      const got = b.read(c.run(b));
      const same = got.length === want.length && got.every((v, i) => Object.is(v, want[i]) || v === want[i]);
      t.ok(same, `${c.name}: ${label}`);
    }
  }
  t.end();
});
