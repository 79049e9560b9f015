/**
 * A seeded random number generator that gives the same numbers on every machine and backend.
 *
 * xoshiro128** (Blackman & Vigna) over 32-bit integer state, seeded through splitmix32. Integer
 * arithmetic (`Math.imul`, shifts) is exact in every JS engine, and doubles are built from 53 random
 * bits, so `manualSeed(s)` reproduces runs bit for bit. It does not reproduce PyTorch's numbers:
 * tests that compare with PyTorch load the initial weights from a fixture instead.
 *
 * `stateDict()` / `loadStateDict()` save and restore a generator exactly (its four state words and
 * the spare Box-Muller normal) as JSON-friendly data, for checkpoints: a resumed run draws the same
 * dropout masks and augmentations as an uninterrupted one.
 */

/** A generator's state as plain JSON data: the xoshiro128** words and the pending normal, if any. */
export type GeneratorState = { readonly s: readonly number[]; readonly spare: number | null };

/**
 * A seeded random-number generator (xoshiro128**, with Box-Muller normals): pass one to the random
 * creation functions (`opts.generator`) for a stream that other code cannot disturb.
 *
 * @example
 * const g = new Generator(42);
 * const x = randn([2, 3], { generator: g });
 * g.random();   // a number in [0, 1)
 */
export class Generator {
  private s = new Uint32Array(4);
  /** A second normal from Box-Muller, kept for the next call. */
  private spare: number | null = null;

  constructor(seed = 0) {
    this.seed(seed);
  }

  seed(seed: number): void {
    // splitmix32 spreads the seed over the 128-bit state, so nearby seeds give unrelated streams.
    let x = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
    this.spare = null;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal by the Box-Muller transform. */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u1 = 1 - this.random(); // (0, 1]: log is finite
    const u2 = this.random();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** An integer in [low, high). */
  int(low: number, high: number): number {
    return low + Math.floor(this.random() * (high - low));
  }

  /** The state, for exact resume: `{ s: [4 uint32 words], spare: number | null }` (JSON-safe). */
  stateDict(): GeneratorState {
    return { s: [...this.s], spare: this.spare };
  }

  /** Restore what `stateDict()` returned (checked: four uint32 words, not all zero; a finite spare or null). */
  loadStateDict(state: unknown): void {
    const where = 'Generator.loadStateDict';
    if (state === null || typeof state !== 'object') throw new Error(`${where}: expected { s, spare }, got ${String(state)}`);
    const { s, spare } = state as { s?: unknown; spare?: unknown };
    if (!Array.isArray(s) || s.length !== 4 || !s.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32)) {
      throw new Error(`${where}: "s" must be 4 unsigned 32-bit integers, got ${JSON.stringify(s)}`);
    }
    if (s.every((w) => w === 0)) throw new Error(`${where}: an all-zero state is not a valid xoshiro128** state`);
    if (spare !== null && (typeof spare !== 'number' || !Number.isFinite(spare))) {
      throw new Error(`${where}: "spare" must be a finite number or null, got ${JSON.stringify(spare)}`);
    }
    this.s.set(s as number[]);
    this.spare = spare;
  }

  /** Snapshot of the state as 5 numbers (the spare normal is NaN when there is none), for exact resume. */
  getState(): number[] {
    return [...this.s, this.spare ?? NaN];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 5) throw new Error('Generator.setState: expected 5 numbers from getState()');
    for (let i = 0; i < 4; i++) this.s[i] = state[i];
    this.spare = Number.isNaN(state[4]) ? null : state[4];
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * The generator used when none is passed explicitly.
 *
 * @example
 * defaultGenerator.seed(1);   // what manualSeed(1) does
 */
export const defaultGenerator = new Generator(0);

/**
 * Seed the default generator, like torch.manual_seed.
 *
 * @example
 * manualSeed(0);
 * randn([2]).toArray();   // the same two numbers on every run
 */
export function manualSeed(seed: number): void {
  defaultGenerator.seed(seed);
}
