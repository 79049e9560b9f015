// The `spt-seg` bin as npm installs it: run through a node_modules/.bin-style symlink (what npx and
// `npm i -g` create), it prints the commands, and an unknown command exits non-zero. Before the fix
// the entry check compared import.meta.url with the link's path and the program silently did nothing.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { COMMANDS } from '../../cli/spt-seg.ts';

const NAMES = COMMANDS.map((c) => c.spec.name);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(ROOT, 'cli/spt-seg.ts');
const dir = mkdtempSync(join(tmpdir(), 'spt-seg-bin-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
const link = join(dir, 'node_modules/.bin/spt-seg');
symlinkSync(SCRIPT, link);

/** Run the bin link; cwd is the repository, where `node --import tsx` (the shebang) finds tsx. */
function runLink(...args: string[]) {
  return spawnSync(link, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
}

t.test('the bin file is executable (npm would otherwise chmod it and dirty git status)', async (tt) => {
  tt.ok((statSync(SCRIPT).mode & 0o111) !== 0, 'cli/spt-seg.ts has its executable bit');
});

t.test('--help through the bin link prints every command and exits 0', async (tt) => {
  const r = runLink('--help');
  tt.equal(r.status, 0, r.stderr);
  tt.match(r.stdout, /Usage: spt-seg <command>/);
  for (const name of NAMES) tt.match(r.stdout, new RegExp(`^  ${name} `, 'm'));
});

t.test('an unknown command through the bin link exits 2 and names the commands', async (tt) => {
  const r = runLink('segment-everything');
  tt.equal(r.status, 2);
  tt.ok(r.stderr.includes(`unknown command "segment-everything". Commands: ${NAMES.join(', ')}.`), r.stderr);
  tt.equal(r.stdout, '');
});

t.test('no command through the bin link: the overview on stderr, exit 2', async (tt) => {
  const r = runLink();
  tt.equal(r.status, 2);
  tt.match(r.stderr, /Commands:/);
});

t.test('node started on the link itself (as Windows shims and `node $(which spt-seg)` do)', async (tt) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', link, 'demo', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  tt.equal(r.status, 0, r.stderr);
  tt.match(r.stdout, /--steps/);
});
