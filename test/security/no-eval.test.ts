// Nothing in the project evaluates strings as code: the source of engine, kernels, model, train,
// cli, tools and bench is searched for eval(, new Function(, Function(, vm.run*, vm.Script,
// vm.compileFunction and string timers, and each hit must be on the explicit allow-list below with
// its reason. (gpu.js compiles kernels from JavaScript source inside node_modules; we hand it
// functions, which is not string evaluation by us.)
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
const DIRS = ['engine', 'kernels', 'model', 'train', 'cli', 'tools', 'bench'];
const SOURCE = /\.(ts|js|mjs|cjs)$/;

const PATTERNS: [string, RegExp][] = [
  ['eval(', /(?<![\w$.])eval\s*\(/],
  ['new Function(', /\bnew\s+Function\s*\(/],
  ['Function(', /(?<![\w$.])Function\s*\(/],
  ['vm.run*', /\bvm\s*\.\s*run\w*/],
  ['vm.Script / compileFunction / SourceTextModule', /\bvm\s*\.\s*(Script|compileFunction|SourceTextModule)\b/],
  ['string timer', /\bset(Timeout|Interval|Immediate)\s*\(\s*['"`]/],
];

/** file, the exact (trimmed) line, and why it is not string evaluation. */
const ALLOWED: { file: string; line: string; why: string }[] = [
  { file: 'engine/nn/module.ts', line: 'eval(): this {', why: "the declaration of Module.eval(), PyTorch's inference-mode switch, not the global eval" },
  { file: 'bench/model/clip.bench.ts', line: "const gc = vm.runInNewContext('gc') as () => void;",
    why: "a constant string that fetches V8's gc function (exposed by --expose-gc) for memory benchmarks; no input reaches it" },
];

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (SOURCE.test(name)) yield path;
  }
}

t.test('no source file evaluates strings as code, outside the justified allow-list', async (t) => {
  const hits: string[] = [];
  const used = new Set<number>();
  let scanned = 0;
  for (const dir of DIRS) {
    for (const path of files(join(ROOT, dir))) {
      scanned++;
      const file = relative(ROOT, path);
      readFileSync(path, 'utf8').split('\n').forEach((text, i) => {
        for (const [what, re] of PATTERNS) {
          if (!re.test(text)) continue;
          const allowed = ALLOWED.findIndex((a) => a.file === file && a.line === text.trim());
          if (allowed >= 0) used.add(allowed);
          else hits.push(`${file}:${i + 1}: ${what}: ${text.trim()}`);
        }
      });
    }
  }
  t.ok(scanned > 50, `scanned ${scanned} source files`);
  t.same(hits, [], 'string evaluation found outside the allow-list');
  const stale = ALLOWED.filter((_, i) => !used.has(i)).map((a) => `${a.file}: ${a.line}`);
  t.same(stale, [], 'every allow-list entry still matches a line (remove stale ones)');
});

t.test('the patterns catch what they must and spare method calls', async (t) => {
  const caught = (s: string) => PATTERNS.some(([, re]) => re.test(s));
  for (const bad of ['eval("1+1")', 'x = eval (code)', 'new Function("a", "return a")', 'Function("return this")()',
    "vm.runInThisContext(src)", 'new vm.Script(src)', "setTimeout('alert(1)', 0)", 'vm.compileFunction(body)']) {
    t.ok(caught(bad), `caught: ${bad}`);
  }
  for (const ok of ['model.eval()', 'page.evaluate(() => 1)', 'this.evaluate(x)', 'setTimeout(() => done(), 10)', 'isFunction(x)']) {
    t.notOk(caught(ok), `spared: ${ok}`);
  }
});
