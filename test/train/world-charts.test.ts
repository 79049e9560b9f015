/**
 * The report's SVG charts (train/world/charts.ts) and their use in the world report (report.ts):
 * the SVG is well-formed, ticks are nice numbers that cover the data, values land where the ticks
 * say (higher values higher up), NaN points are skipped, log axes tick at powers of ten, text is
 * escaped, and the report draws the validation curve and one chart per loss term.
 */
import t from 'tap';
import { escapeXml, formatTick, logTicks, niceStep, niceTicks, svgLineChart, type LineChartOptions } from '../../train/world/charts.ts';
import { CURVE_CAPTION, renderWorldReport } from '../../train/world/report.ts';

/** Every tag of an SVG string opened and closed in order; returns the first problem or null. */
function unbalanced(svg: string): string | null {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)\b[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (!closing) stack.push(name);
    else if (stack.pop() !== name) return `</${name}> closes nothing open`;
  }
  return stack.length ? `<${stack.join('>, <')}> never closed` : null;
}

/** The attributes of every `<tag ...>` (optionally only those of a class). */
function elements(svg: string, tag: string, cls?: string): Record<string, string>[] {
  const all = [...svg.matchAll(new RegExp(`<${tag}\\b([^>]*)>`, 'g'))].map((m) =>
    Object.fromEntries([...m[1].matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])));
  return cls === undefined ? all : all.filter((a) => a.class === cls);
}

/** Each `<text>`'s content with its attributes. */
function texts(svg: string): { attrs: Record<string, string>; text: string }[] {
  return [...svg.matchAll(/<text\b([^>]*)>([^<]*)<\/text>/g)].map((m) => ({
    attrs: Object.fromEntries([...m[1].matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])), text: m[2],
  }));
}

/** The y tick labels: the texts right-aligned left of the plot area, top to bottom. */
function yTickLabels(svg: string): { value: number; y: number }[] {
  const plot = elements(svg, 'rect', 'plot-area')[0];
  return texts(svg).filter((x) => x.attrs['text-anchor'] === 'end' && Number(x.attrs.x) < Number(plot.x))
    .map((x) => ({ value: Number(x.text), y: Number(x.attrs.y) }));
}

const isNice = (step: number): boolean => {
  const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
  return [1, 2, 5, 10].some((m) => Math.abs(mantissa - m) < 1e-9);
};

t.test('niceTicks: nice steps, about five ticks, covering the range, no float noise', async (t) => {
  for (const [lo, hi] of [[0, 1], [0.013, 0.087], [3.2, 1234], [-5, 7], [0.1, 0.1 + 0.2], [200, 200], [1.004, 1.006]]) {
    const ticks = niceTicks(lo, hi);
    const step = ticks[1] - ticks[0];
    const slack = 1e-9 * step;   // float noise (0.1 + 0.2 = 0.30000000000000004) must not add a tick
    t.ok(ticks[0] <= lo + slack && ticks[ticks.length - 1] >= hi - slack, `[${ticks}] covers [${lo}, ${hi}]`);
    t.ok(ticks.length >= 3 && ticks.length <= 11, `${ticks.length} ticks for [${lo}, ${hi}]`);
    t.ok(isNice(step), `step ${step} is 1, 2 or 5 × 10^k`);
    t.ok(ticks.every((v, i) => i === 0 || Math.abs(v - ticks[i - 1] - step) < 1e-9 * Math.max(1, Math.abs(v))), 'evenly spaced');
    t.notOk(ticks.some((v) => /\d{7,}/.test(String(v))), `no float noise in [${ticks}]`);
  }
  t.same(niceTicks(0, 0.3), [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]);
  t.equal(niceStep(0.23), 0.2);
  t.equal(niceStep(3.4), 5);
  t.equal(formatTick(0.1 + 0.2, 0.1), '0.3');
  t.equal(formatTick(-0.0001, 0.1), '0.0');
  t.equal(formatTick(1e-5, 1e-5), '1e-5');
});

t.test('logTicks: powers of ten around the data', async (t) => {
  const ticks = logTicks(0.003, 250);
  t.same(ticks, [0.001, 0.01, 0.1, 1, 10, 100, 1000]);
  const wide = logTicks(1e-9, 1e9);
  t.ok(wide.length <= 8 && wide[0] <= 1e-9 && wide[wide.length - 1] >= 1e9, `at most ~6 decades labelled: [${wide}]`);
  t.ok(wide.every((v) => Number.isInteger(Math.log10(v))), 'every tick a power of ten');
});

const base: LineChartOptions = {
  width: 480, height: 300, xLabel: 'training step', yLabel: 'IoU (%)',
  series: [
    { name: 'hIoU', color: '#0072B2', markers: true, points: [[0, 10], [25, 20], [50, NaN], [75, 25], [100, 30]] },
    { name: 'mIoU(S)', color: '#009E73', points: [[0, 40], [100, 60]] },
  ],
  rules: [{ name: 'frozen CLIP hIoU 8.0', color: '#0072B2', y: 8 }],
};

t.test('svgLineChart: well-formed, with titles, legend and ticks that cover the data', async (t) => {
  const svg = svgLineChart(base);
  t.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  t.ok(svg.endsWith('</svg>'));
  t.equal(unbalanced(svg), null, 'every tag closed in order');
  t.notMatch(svg, /NaN|Infinity|undefined/);
  const words = texts(svg).map((x) => x.text);
  for (const name of ['training step', 'IoU (%)', 'hIoU', 'mIoU(S)', 'frozen CLIP hIoU 8.0']) t.ok(words.includes(name), `"${name}" is drawn`);
  const ys = yTickLabels(svg).map((l) => l.value);
  t.ok(ys.every(Number.isFinite) && Math.min(...ys) <= 8 && Math.max(...ys) >= 60, `y ticks [${ys}] cover 8..60`);
  t.ok(isNice(ys[0] - ys[1]) || isNice(ys[1] - ys[0]), 'y ticks are a nice step apart');
});

t.test('svgLineChart: a value lands on its tick, higher values higher up, NaN skipped', async (t) => {
  const svg = svgLineChart({ ...base, yInclude: [0] });
  const plot = elements(svg, 'rect', 'plot-area')[0];
  const [px, py, pw, ph] = [plot.x, plot.y, plot.width, plot.height].map(Number);
  const dots = elements(svg, 'circle', 'marker').map((c) => ({ x: Number(c.cx), y: Number(c.cy) }));
  t.equal(dots.length, 4, 'four finite points get markers, the NaN one none');
  t.ok(dots.every((d) => d.x >= px && d.x <= px + pw && d.y >= py && d.y <= py + ph), 'markers inside the plot area');
  t.ok(dots[0].y > dots[1].y && dots[1].y > dots[2].y && dots[2].y > dots[3].y, 'the rising series goes up (SVG y decreases)');
  t.ok(dots[0].x < dots[1].x && dots[1].x < dots[2].x, 'later steps further right');
  const tick10 = yTickLabels(svg).find((l) => l.value === 10);
  t.ok(tick10 && Math.abs(tick10.y - dots[0].y) < 0.15, 'the value 10 is drawn at the height of the "10" tick');
  t.ok(yTickLabels(svg).some((l) => l.value === 0), 'yInclude [0] puts 0 on the axis');
  const hiou = elements(svg, 'polyline', 'series').filter((p) => p.stroke === '#0072B2');
  t.equal(hiou.length, 2, 'the NaN point breaks the line in two');
  const rule = elements(svg, 'line', 'rule')[0];
  t.ok(Number(rule.y1) > dots[0].y && Number(rule.y1) < py + ph, 'the rule at 8 is just below the value 10');
  t.equal(Number(rule.x1), px);
  t.equal(Number(rule.x2), px + pw, 'the rule spans the plot');
  t.ok(rule['stroke-dasharray'], 'the rule is dashed');
});

t.test('svgLineChart: log axis ticks at powers of ten, non-positive values skipped', async (t) => {
  const points: [number, number][] = [[1, 250], [2, 40], [3, 0], [4, 5], [5, 3.1]];
  const svg = svgLineChart({ width: 320, height: 240, xLabel: 'step', yLabel: 'loss', log: true, series: [{ name: 'total', color: '#000', markers: true, points }] });
  t.equal(unbalanced(svg), null);
  t.notMatch(svg, /NaN|Infinity/);
  const labels = yTickLabels(svg);
  t.same(labels.map((l) => l.value), [1, 10, 100, 1000]);
  const dots = elements(svg, 'circle', 'marker').map((c) => Number(c.cy));
  t.equal(dots.length, 4, 'the 0 is not drawn on a log axis');
  const at = (v: number) => labels.find((l) => l.value === v)!.y;
  t.ok(Math.abs(at(10) - at(100) - (at(1) - at(10))) < 0.2, 'decades are equally spaced');
  t.ok(dots[0] < at(100) && dots[0] > at(1000), '250 is drawn between the 100 and 1000 ticks');
});

t.test('svgLineChart: text is escaped', async (t) => {
  const svg = svgLineChart({ ...base, title: 'a<b & "c"', series: [{ name: '<script>', color: 'red', points: [[0, 1], [1, 2]] }] });
  t.notMatch(svg, /<script>|a<b/);
  t.match(svg, /&lt;script&gt;/);
  t.match(svg, /a&lt;b &amp; &quot;c&quot;/);
  t.equal(unbalanced(svg), null);
  t.equal(escapeXml(`'`), '&#39;');
});

t.test('renderWorldReport: the validation curve and one chart per loss term', async (t) => {
  const curve = [0, 50, 100, 150, 200].map((step, i) => ({ step, mIoUSeen: 0.2 + 0.1 * i, mIoUUnseen: i === 2 ? NaN : 0.05 * i, hIoU: 0.08 + 0.05 * i }));
  const losses = Array.from({ length: 200 }, (_, i) => {
    const focal = 0.05 * Math.exp(-i / 60) + 0.02, ssim = 1.005;
    return { step: i + 1, loss: { total: i < 3 ? 250 / (i + 1) : 100 * focal + ssim, focal, ssim } };
  });
  const html = renderWorldReport({
    title: 'demo', settings: { steps: 200 }, classNames: ['square', 'ring'], unseenIds: [1], rows: [], triples: [],
    curve, curveBaselines: [{ name: 'frozen CLIP', mIoUSeen: 0.12, mIoUUnseen: 0.06, hIoU: 0.08 }],
    losses, lossCurve: new Uint8Array([137, 80, 78, 71]),
  });
  const svgs = [...html.matchAll(/<svg\b.*?<\/svg>/gs)].map((m) => m[0]);
  t.equal(svgs.length, 4, 'one validation chart and three loss charts');
  t.ok(svgs.every((s) => unbalanced(s) === null), 'each chart well-formed');
  t.ok(html.includes(CURVE_CAPTION), 'the validation caption');
  t.ok(html.includes('frozen CLIP hIoU 8.0'), 'the baseline named in the legend');
  t.ok(texts(svgs[0]).some((x) => x.text === 'training step'));
  t.equal(elements(svgs[0], 'circle', 'marker').length, 14, '3 metrics × 5 steps, less the NaN');
  const titles = svgs.slice(1).map((s) => texts(s).find((x) => x.attrs.class === 'title')?.text);
  t.same(titles, ['total', 'focal', 'ssim']);
  t.ok(html.includes('= 100·focal + (1 − SSIM)'), 'the total explained');
  t.same(yTickLabels(svgs[1]).map((l) => Math.log10(l.value) % 1), yTickLabels(svgs[1]).map(() => 0), 'total on a log axis (max/min > 20)');
  t.ok(yTickLabels(svgs[2]).some((l) => !Number.isInteger(Math.log10(l.value))), 'focal on a linear axis');
  t.ok(texts(svgs[2]).some((x) => x.text === 'mean of 4'), 'moving average over round(200/50) steps');
  t.notMatch(html, /alt="loss curve"/, 'the SVG charts replace the PNG');
});

t.test('renderWorldReport: older runs still show their PNG, and nothing breaks without data', async (t) => {
  const common = { title: 'old', settings: {}, classNames: ['square'], unseenIds: [], rows: [], triples: [] };
  t.match(renderWorldReport({ ...common, lossCurve: new Uint8Array([1, 2, 3]) }), /alt="loss curve"/);
  const bare = renderWorldReport(common);
  t.notMatch(bare, /<svg|alt="loss curve"/);
});
