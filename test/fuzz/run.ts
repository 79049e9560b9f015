/**
 * Long fuzz runs: `npm run fuzz -- --cases 1000000 [--seed 7] [--only torchzip]`.
 * Runs the parser suites of this folder under tap with FUZZ_CASES (and FUZZ_SEED) set, without the
 * per-file timeout; CI runs the same files with their defaults (10,000+ cases each).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const SUITES = ['safetensors', 'torchzip', 'pickle', 'config', 'train-config', 'image'];

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const cases = flag('cases');
if (cases !== undefined && !(Number.isInteger(Number(cases)) && Number(cases) > 0)) {
  console.error(`fuzz: --cases needs a positive integer, got ${cases}`);
  process.exit(2);
}
const only = flag('only');
const present = readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.test.ts')).map((f) => f.slice(0, -8));
const suites = SUITES.filter((s) => present.includes(s) && (!only || only.split(',').includes(s)));
if (suites.length === 0) {
  console.error(`fuzz: no suite matches --only ${only} (suites: ${SUITES.filter((s) => present.includes(s)).join(', ')})`);
  process.exit(2);
}
const env = { ...process.env, ...(cases ? { FUZZ_CASES: cases } : {}), ...(flag('seed') ? { FUZZ_SEED: flag('seed') } : {}) };
const files = suites.map((s) => `test/fuzz/${s}.test.ts`);
console.log(`fuzz: ${files.join(' ')} with ${cases ?? 'the CI default number of'} cases each`);
const result = spawnSync('npx', ['tap', '--timeout=0', ...files], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
