// Loss-curve charts: pixels land where the values say, log axes skip what they cannot show, ticks sit
// at 1-2-5 values, and the axis titles, tick labels and legend are drawn in the bitmap font.
import t from 'tap';
import { drawText, textWidth } from '../../train/bitmap-font.ts';
import { formatTick, lineChart, logTicks, movingAverage, niceTicks } from '../../train/plot.ts';

function count(img: ReturnType<typeof lineChart>, c: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < img.width * img.height; i++) {
    if (img.data[i * 3] === c[0] && img.data[i * 3 + 1] === c[1] && img.data[i * 3 + 2] === c[2]) n++;
  }
  return n;
}

function columnOf(img: ReturnType<typeof lineChart>, c: readonly number[], px: number): number[] {
  const rows: number[] = [];
  for (let py = 0; py < img.height; py++) {
    const o = (py * img.width + px) * 3;
    if (img.data[o] === c[0] && img.data[o + 1] === c[1] && img.data[o + 2] === c[2]) rows.push(py);
  }
  return rows;
}

t.test('a falling series is drawn from top-left to bottom-right', async (t) => {
  const red = [200, 0, 0] as const;
  const img = lineChart([{ values: [4, 3, 2, 1], color: red }], { width: 300, height: 200 });
  t.equal(img.data.length, 300 * 200 * 3);
  const cols = Array.from({ length: img.width }, (_, x) => x).filter((x) => columnOf(img, red, x).length > 0);
  const leftRows = columnOf(img, red, cols[0]), rightRows = columnOf(img, red, cols[cols.length - 1]);
  t.ok(cols.length > 100, 'the line spans the plot');
  t.ok(Math.min(...leftRows) < Math.min(...rightRows), 'the first value is higher on the picture');
});

t.test('a log axis skips non-positive values; NaN breaks the line', async (t) => {
  const blue = [0, 0, 200] as const;
  const withBad = lineChart([{ values: [1, 0, -1, NaN, 0.1], color: blue }], { log: true, width: 120, height: 60 });
  const onlyGood = lineChart([{ values: [1, NaN, NaN, NaN, 0.1], color: blue }], { log: true, width: 120, height: 60 });
  t.same(withBad.data, onlyGood.data, 'non-positive values are not drawn on a log axis');
  t.ok(count(withBad, blue) > 0);
});

t.test('moving average and tick labels', async (t) => {
  t.same(movingAverage([1, 3, 5, NaN, 7], 2), [1, 2, 4, 5, 7]);
  t.same(movingAverage([1, 2], 1), [1, 2]);
  t.equal(formatTick(0), '0');
  t.equal(formatTick(0.123456), '0.123');
  t.equal(formatTick(12000), '12k');
  t.equal(formatTick(0.0004), '4.0e-4');
});

t.test('ticks at 1, 2 or 5 times a power of ten; log axes by decades or 1-2-5', async (t) => {
  t.same(niceTicks(0.388, 6.47, 5).ticks, [0, 2, 4, 6, 8], 'the range widens to whole ticks');
  t.same(niceTicks(0, 1, 5).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  t.same(niceTicks(1, 800, 4, false, 1).ticks, [200, 400, 600, 800], 'inside the run only');
  t.same(niceTicks(1, 4, 10, false, 1).ticks, [1, 2, 3, 4], 'whole steps at least');
  t.same(logTicks(0.388, 6.47).ticks, [0.2, 0.5, 1, 2, 5, 10], 'the issue\'s 6.47 .. 0.388: 1-2-5 within 1.2 decades');
  t.same(logTicks(0.001, 50).ticks, [0.001, 0.01, 0.1, 1, 10, 100], 'decades over many');
  t.same(logTicks(0.3, 0.5).ticks, [0.3, 0.4, 0.5]);
});

t.test('axis titles, readable tick labels and a legend of the series names', async (t) => {
  const blue = [31, 119, 180] as const, orange = [255, 127, 14] as const;
  const values = Array.from({ length: 100 }, (_, i) => 6.47 * Math.exp(-i / 30) + 0.388);
  const img = lineChart([{ name: 'total', values, color: blue }, { name: 'focal', values: values.map((v) => v / 1.5), color: orange }], { log: true, width: 640, height: 360 });
  const ink = [40, 40, 40];
  // Where a word is drawn: render it alone and look for the same pixels in the chart.
  const stamp = (word: string, scale = 2) => {
    const w = textWidth(word, scale) + 2, h = 9 * scale + 2;
    const one = { width: w, height: h, channels: 3, data: new Uint8Array(w * h * 3).fill(255) };
    drawText(one, word, 1, 1, ink, scale);
    return one;
  };
  const find = (word: string): boolean => {
    const s = stamp(word);
    for (let oy = 0; oy + s.height <= img.height; oy++) {
      for (let ox = 0; ox + s.width <= img.width; ox++) {
        let ok = true;
        for (let y = 0; y < s.height && ok; y++) {
          for (let x = 0; x < s.width && ok; x++) {
            const a = (y * s.width + x) * 3, b = ((oy + y) * img.width + ox + x) * 3;
            if (s.data[a] === 40 && img.data[b] !== 40) ok = false;
          }
        }
        if (ok) return true;
      }
    }
    return false;
  };
  t.ok(find('step'), 'the x axis title');
  t.ok(find('total') && find('focal'), 'the legend names both series');
  for (const tick of ['0.2', '0.5', '1', '2', '5', '10']) t.ok(find(tick), `tick label ${tick} (2x font: 14 px digits)`);
  t.notOk(find('6.47'), 'no raw extremes as ticks');
  // The y title reads upwards on the left: ink in the first 24 columns, in the middle rows.
  let left = 0;
  for (let y = 100; y < 260; y++) for (let x = 0; x < 24; x++) if (img.data[(y * img.width + x) * 3] === 40) left++;
  t.ok(left > 50, 'the y axis title (vertical) is drawn');
  t.ok(count(img, blue) > 0 && count(img, orange) > 0);
});
