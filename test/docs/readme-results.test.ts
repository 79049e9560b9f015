/**
 * The README's numbers are the committed run's numbers: the results table in the `npm start` output
 * block agrees with assets/world-sptseg.json (the metrics.json of the run whose weights are
 * assets/world-sptseg.safetensors), and the ablation table with assets/world-ablation.json (the
 * ablation.json `spt-seg ablate` wrote). A run re-made without updating the README fails here.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { meanStd, VARIANTS } from '../../cli/commands/ablate.ts';

const readme = readFileSync('README.md', 'utf8');
const pct = (v: number): string => (Number.isNaN(v) ? 'nan' : (100 * v).toFixed(1));

t.test('the npm start output in the README is the committed run\'s', (t) => {
  const run = JSON.parse(readFileSync('assets/world-sptseg.json', 'utf8')) as { rows: { name: string; offset: number; mIoUSeen: number; mIoUUnseen: number; hIoU: number }[] };
  t.ok(run.rows.length >= 4, 'SPT-SEG rows and the two frozen-CLIP rows');
  for (const row of run.rows) {
    const name = row.name.replace(/[()]/g, '\\$&');
    const re = new RegExp(`^ {2}${name} +${row.offset} +${pct(row.mIoUSeen)} +${pct(row.mIoUUnseen)} +${pct(row.hIoU)}$`, 'm');
    t.match(readme, re, `README row "${row.name}": offset ${row.offset}, ${pct(row.mIoUSeen)} / ${pct(row.mIoUUnseen)} / ${pct(row.hIoU)}`);
  }
  t.end();
});

t.test('the README\'s ablation table is the committed ablation\'s', (t) => {
  const ab = JSON.parse(readFileSync('assets/world-ablation.json', 'utf8')) as { results: { variant: string; mIoUSeen: number; mIoUUnseen: number; hIoU: number }[] };
  for (const v of VARIANTS) {
    const rs = ab.results.filter((r) => r.variant === v.name);
    t.ok(rs.length >= 3, `${v.name}: ${rs.length} seeds`);
    const cells = [meanStd(rs.map((r) => r.mIoUSeen)), meanStd(rs.map((r) => r.mIoUUnseen)), meanStd(rs.map((r) => r.hIoU))];
    const re = new RegExp(`^\\| ${v.name.replace(/[+()]/g, '\\$&')} \\|.*\\| ${cells.join(' \\| ')} \\|$`, 'm');
    t.match(readme, re, `${v.name}: ${cells.join(' / ')}`);
  }
  t.end();
});
