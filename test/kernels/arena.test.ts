/**
 * The wasm backend's arena (kernels/wasm/arena.ts): float32 arrays inside the kernels' memory, used
 * in place. Checked here:
 *   - the Arena itself: views in its memory, zero-filled when asked (a reused block too), temporary
 *     blocks given back at the end of a call and reused, null (not an exception) when full; reclaim,
 *     and compaction (adjacent freed blocks merged into a hole, the top run lowering the bump pointer);
 *   - the CPU pool hands its free arrays back to the arena when the arena runs short, and arrays
 *     kept out of a scope and then dropped come back through the FinalizationRegistry after a collection;
 *   - inside a tidy scope the CPU backends' fresh float32 arrays are arena views once a wasm backend
 *     exists, so a kernel chain runs without copies (and the arena's high-water mark stays put on a
 *     repeated step); outside every scope they are ordinary arrays;
 *   - the two paths compute the same numbers: the spec table on a backend without an arena (the
 *     copying path), and on one whose arena is too small for most calls (fallbacks mid-chain),
 *     element for element equal to the default backend's (arena) results, bit for bit.
 */
import { spawnSync } from 'node:child_process';
import t from 'tap';
import type { Storage } from '../../kernels/backend.ts';
import { CpuBackend } from '../../kernels/cpu/index.ts';
import { clearPool, pooledBytes, useFloat32Source } from '../../kernels/cpu/pool.ts';
import { Arena } from '../../kernels/wasm/arena.ts';
import { copyF32 } from '../../kernels/wasm/copy.ts';
import { WasmBackend, createWasmBackend } from '../../kernels/wasm/index.ts';
import { compileLocalKernels, createKernels, float32Arena, residentKernels } from '../../kernels/wasm/module.ts';
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

t.test('Arena: reclaim, and compaction when full (holes reused, top lowered, stale blocks zeroed)', (t) => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 }); // 65536 bytes
  const arena = new Arena(memory, 0);
  // Fill it with 16 blocks of 4 KiB (1024 floats).
  const blocks = Array.from({ length: 16 }, () => arena.alloc(1024, false)!);
  t.ok(blocks.every((b) => b !== null), '16 blocks of 4 KiB fit in 64 KiB');
  t.equal(arena.alloc(1024, false), null, 'and a 17th does not');
  blocks.forEach((b, i) => b.fill(i + 1));
  t.ok(arena.reclaim(blocks[3]), 'reclaim takes back a view of its own');
  t.notOk(arena.reclaim(blocks[3]), 'but only once');
  t.notOk(arena.reclaim(new Float32Array(1024)), 'and never an ordinary array');
  t.ok(arena.reclaim(blocks[4]));
  // Freed: blocks 3 and 4 (adjacent, 8 KiB). A 2048-float request fits only once they are merged.
  const big = arena.alloc(2048, true);
  t.ok(big !== null, 'two adjacent freed blocks are merged into one hole that fits twice their length');
  t.equal(big!.byteOffset, blocks[3].byteOffset, 'cut from the start of the hole');
  t.ok(big!.every((v) => v === 0), 'zeroed when asked: the hole had been written');
  // Free the top two blocks: compaction lowers the bump pointer instead of keeping a hole.
  arena.reclaim(blocks[14]);
  arena.reclaim(blocks[15]);
  const topBefore = arena.usedBytes();
  t.ok(arena.alloc(2048, false) !== null, 'the top run is reused');
  t.ok(arena.usedBytes() <= topBefore, 'and the arena did not grow past its old top');
  t.end();
});

t.test('the CPU pool gives its free arrays back when the arena runs short', (t) => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const arena = new Arena(memory, 0);
  const cpu = new CpuBackend();
  useFloat32Source(arena);
  try {
    // 12 arrays of 1024 floats in a scope: 48 of the 64 KiB, all released to the pool at the end.
    cpu.tidy(() => { for (let i = 0; i < 12; i++) cpu.full(1024, 1, 'float32'); return null; }, () => []);
    const pooled = pooledBytes();
    t.ok(pooled >= 12 * 4096, 'the scope\'s arrays wait in the pool');
    // Six arrays of another length (2000 floats, 8 KiB each): only two fit in the 16 KiB left, so the
    // other four need the room of the arrays the pool holds.
    cpu.tidy(() => {
      const made = Array.from({ length: 6 }, () => cpu.full(2000, 2, 'float32') as Storage & { data: Float32Array });
      t.ok(made.every((s) => arena.owns(s.data)), 'they all live in the arena: the pool handed its arrays back');
      t.ok(pooledBytes() < pooled, 'and holds fewer bytes now');
      t.ok(made.every((s) => s.data.every((v) => v === 2)), 'with the right values');
      return null;
    }, () => []);
  } finally {
    useFloat32Source(null);
    clearPool();
    const restored = float32Arena();
    if (restored !== null) useFloat32Source(restored);
  }
  t.end();
});

t.test('fresh float32 arrays of the CPU backends live in the arena; a repeated step takes no new room', (t) => {
  const wasm = createWasmBackend({ threads: 1 })!;
  const arena = float32Arena();
  if (arena === null) { t.fail('on Node the wasm kernels make an arena'); t.end(); return; }
  t.equal(wasm.kernels.resident?.arena, arena, 'every backend runs on the one arena');
  const cpu = new CpuBackend();
  const dataOfFull = (b: CpuBackend, n: number) => (b.full(n, 0, 'float32') as Storage & { data: Float32Array }).data;
  cpu.tidy(() => {
    t.ok(arena.owns(dataOfFull(cpu, 512)), 'inside a scope the reference backend\'s fresh arrays are arena views too');
    t.ok(arena.owns(dataOfFull(wasm, 300)), 'a float32 storage of 300 floats is an arena view');
    t.notOk(arena.owns(dataOfFull(wasm, 100)), 'under 256 floats: an ordinary array');
    return null;
  }, () => []);
  // (a length the pool holds no array of: a pooled array is reused whatever it is)
  t.notOk(arena.owns(dataOfFull(wasm, 777)), 'outside every scope a fresh array is an ordinary one (its end is the garbage collector\'s)');
  const step = () => wasm.tidy(() => {
    const x = wasm.full(4096, 1.5, 'float32');
    const y = wasm.unary('exp', wasm.binary('mul', x, [1], x, [1], [4096]));
    return wasm.reduce('sum', y, 1, 4096);
  }, (s) => [s]);
  step();
  const mark = arena.usedBytes();
  for (let i = 0; i < 5; i++) step();
  t.equal(arena.usedBytes(), mark, 'the scope recycles its arrays: the high-water mark stays put');
  t.end();
});

/** A backend on the same compiled kernels with no arena (the copying path), or a tiny one. */
function variant(arenaPages: number | null): WasmBackend {
  const base = createKernels();
  const resident = arenaPages === null ? null : residentKernels(compileLocalKernels(base.shape.fma), [arenaPages]);
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

t.test('arrays kept out of a scope and then dropped come back to the arena once the garbage collector has them', (t) => {
  // A child process with --expose-gc: 100 arrays of 1 MiB made in scopes, kept (returned) and then
  // dropped, a collection and a turn of the event loop (FinalizationRegistry callbacks run there),
  // then 100 more: they reuse the reclaimed blocks, so the arena's top does not move.
  const script = `
    const { createWasmBackend } = await import('./kernels/wasm/index.ts');
    const { float32Arena } = await import('./kernels/wasm/module.ts');
    const w = createWasmBackend({ threads: 1 });
    const make = () => { for (let i = 0; i < 100; i++) w.tidy(() => w.full(262144, 1, 'float32'), (s) => [s]); };
    make();
    const top = float32Arena().usedBytes();
    for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
    make();
    console.log(JSON.stringify({ top, after: float32Arena().usedBytes() }));`;
  const res = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  t.equal(res.status, 0, `the child ran (${res.stderr.slice(-300)})`);
  const { top, after } = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as { top: number; after: number };
  t.ok(top >= 100 * 262144 * 4, `the first 100 arrays took ${(top / 2 ** 20).toFixed(0)} MiB of the arena`);
  t.equal(after, top, 'the next 100 reused the reclaimed blocks');
  t.end();
});

t.test('copy between resident arrays runs in wasm and matches the reference bit for bit', (t) => {
  const wasm = createWasmBackend({ threads: 1 })!;
  const cpu = new CpuBackend();
  // 600 values (a storage of 256 floats or more is resident), float32 already; the cases read the first 210.
  const values = Array.from({ length: 600 }, (_, i) => Math.fround(Math.sin(i) * 100));
  // [6, 7, 5]: a transpose, a flip of two axes (negative strides), a broadcast row, a sub-block, one column.
  const cases: [string, number, number[], number[]][] = [
    ['transpose of the last two', 0, [35, 1, 5], [6, 5, 7]],
    ['flip of the first and last', 5 * 35 + 4, [-35, 5, -1], [6, 7, 5]],
    ['broadcast of one row', 0, [0, 0, 1], [4, 3, 5]],
    ['a [3, 4, 2] sub-block', 35 + 5 + 1, [35, 5, 1], [3, 4, 2]],
    ['one strided column', 2, [5], [42]],
    ['one element', 17, [], []],
  ];
  wasm.tidy(() => {
    const src = wasm.fromArray(values, 'float32') as Storage & { data: Float32Array };
    t.ok(float32Arena()!.owns(src.data), 'the source is resident');
    for (const [name, offset, strides, shape] of cases) {
      const got = wasm.read(wasm.copy({ storage: src, offset, strides }, shape));
      const want = cpu.read(cpu.copy({ storage: cpu.fromArray(values, 'float32'), offset, strides }, shape));
      t.ok(got.length === want.length && got.every((v, i) => Object.is(v, want[i])), name);
    }
    // Into a view of an existing resident storage (every other element of a [2, 10] block).
    const into = wasm.full(300, -1, 'float32') as Storage & { data: Float32Array };
    t.ok(float32Arena()!.owns(into.data), 'the destination is resident');
    wasm.copy({ storage: src, offset: 0, strides: [35, 1] }, [2, 5], { storage: into, offset: 1, strides: [10, 2] });
    t.same([...wasm.read(into)].slice(0, 21), [-1, values[0], -1, values[1], -1, values[2], -1, values[3], -1, values[4],
      -1, values[35], -1, values[36], -1, values[37], -1, values[38], -1, values[39], -1], 'into a strided view');
    const s = (src as Storage & { data: Float32Array }).data, d = new Float32Array(4);
    t.notOk(copyF32(wasm.kernels, s, 0, [1], s, 1, [1], [4]), 'source and destination in one storage: left to the reference');
    t.notOk(copyF32(wasm.kernels, s, 0, [1], d, 0, [1], [4]), 'a destination outside the arena: left to the reference');
    return null;
  }, () => []);
  t.end();
});
