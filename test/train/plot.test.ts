// Loss-curve charts: pixels land where the values say, log axes skip what they cannot show.
import t from 'tap';
import { formatTick, lineChart, movingAverage } from '../../train/plot.ts';

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
  const img = lineChart([{ values: [4, 3, 2, 1], color: red }], { width: 200, height: 100 });
  t.equal(img.data.length, 200 * 100 * 3);
  const leftRows = columnOf(img, red, 45), rightRows = columnOf(img, red, 200 - 13);
  t.ok(leftRows.length > 0 && rightRows.length > 0, 'both ends are drawn');
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
