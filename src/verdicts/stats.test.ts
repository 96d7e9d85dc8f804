import { histogramQuantileInterval, lookSchedule, meanInterval, normalQuantile, quantileInterval, tFor, wilson, zFor, medianInterval, smallestDecidingCount } from './stats.js';
import { newHistogram } from '../load/result.js';
import { seededRng as rng } from '../util/seeded-rng.js';


describe('normal quantile', () => {
  it('matches known values', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(zFor(0.01)).toBeCloseTo(2.575829, 5);
  });
});

describe('wilson interval', () => {
  it.each([0.05, 0.3, 0.5, 0.9])('a 95%% interval covers the true rate %p in at least 93%% of 2000 runs', (p) => {
    const r = rng(Math.round(p * 1000));
    let covered = 0;
    for (let run = 0; run < 2000; run++) {
      let k = 0;
      for (let i = 0; i < 400; i++) if (r() < p) k++;
      const ci = wilson(k, 400, zFor(0.05));
      if (ci.lo <= p && p <= ci.hi) covered++;
    }
    expect(covered / 2000).toBeGreaterThanOrEqual(0.93);
  });

  it('is the whole range with no samples', () => {
    expect(wilson(0, 0, 1.96)).toEqual({ lo: 0, hi: 1 });
  });
});

describe('quantile interval', () => {
  it('a 95% interval for the median of an exponential covers it in at least 93% of 2000 runs', () => {
    const r = rng(7);
    const trueMedian = Math.log(2);
    let covered = 0;
    for (let run = 0; run < 2000; run++) {
      const xs = Array.from({ length: 300 }, () => -Math.log(1 - r())).sort((a, b) => a - b);
      const ci = quantileInterval(xs, 0.5, zFor(0.05));
      if (ci.lo! <= trueMedian && trueMedian <= ci.hi!) covered++;
    }
    expect(covered / 2000).toBeGreaterThanOrEqual(0.93);
  });

  it('leaves the upper bound undefined when the sample is too small for the percentile', () => {
    const ci = quantileInterval([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99, 1.96);
    expect(ci.hi).toBeUndefined();
  });
});

describe('look schedule', () => {
  it('spends exactly alpha over all looks and ends at the budget', () => {
    const looks = lookSchedule(1000, 0.05);
    expect(looks.reduce((a, l) => a + l.alpha, 0)).toBeCloseTo(0.05, 12);
    expect(looks.at(-1)!.n).toBe(1000);
    expect(looks[0]!.z).toBeGreaterThan(looks.at(-1)!.z);
  });
});

describe('t quantile and mean interval', () => {
  it.each([[1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [9, 2.262], [30, 2.042]])('df %p matches the table (%p)', (df, table) => {
    expect(Math.abs(tFor(0.05, df) - table) / table).toBeLessThan(0.003);
  });

  it('a 95% mean interval over 5 rounds covers the true mean in at least 93% of runs', () => {
    const r = rng(7);
    let covered = 0;
    for (let run = 0; run < 2000; run++) {
      const xs = Array.from({ length: 5 }, () => 0.3 + 0.05 * normalQuantile(Math.min(0.9999, Math.max(0.0001, r()))));
      const ci = meanInterval(xs, 0.05);
      if (ci.lo! <= 0.3 && 0.3 <= ci.hi!) covered++;
    }
    expect(covered / 2000).toBeGreaterThanOrEqual(0.93);
  });

  it('has no bounds with one value', () => {
    expect(meanInterval([0.4], 0.05)).toEqual({ estimate: 0.4 });
  });
});

describe('quantile interval from an HDR histogram', () => {
  it('agrees with the order statistics of the raw values to the histogram precision', () => {
    const r = rng(3);
    const xs = Array.from({ length: 5000 }, () => Math.round(200 + 5000 * r() ** 3));
    const h = newHistogram();
    for (const x of xs) h.recordValue(x);
    const sorted = [...xs].sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.99]) {
      const raw = quantileInterval(sorted, q, 1.96);
      const hist = histogramQuantileInterval(h, q, 1.96);
      for (const k of ['estimate', 'lo', 'hi'] as const) expect(Math.abs(hist[k]! - raw[k]!) / raw[k]!).toBeLessThan(0.002);
    }
  });

  it('widens to the ranks of m independent looks when only m of the n values are independent; m = n changes nothing', () => {
    const h = newHistogram();
    for (let v = 1; v <= 1000; v++) h.recordValue(v);
    expect(histogramQuantileInterval(h, 0.5, 1.96, 1000)).toEqual(histogramQuantileInterval(h, 0.5, 1.96));
    // 1000 values as 100 looks: 500 -/+ 1000 * 1.96 * sqrt(0.25 / 100) = 500 -/+ 98 (as a sample of 1000 it is -/+ 31).
    const i = histogramQuantileInterval(h, 0.5, 1.96, 100);
    expect([i.estimate, i.lo, i.hi]).toEqual([500, 402, 598]);
    // 10 looks cannot bound the p99 from above.
    expect(histogramQuantileInterval(h, 0.99, 1.96, 10).hi).toBeUndefined();
  });
});

describe('medianInterval (sign test)', () => {
  it('takes the order statistics whose coverage is at least 95%: ranks 2 and 9 of 10', () => {
    expect(medianInterval([5, 1, 9, 3, 7, 2, 8, 4, 6, 10], 0.05)).toEqual({ estimate: 5.5, lo: 2, hi: 9 });
  });

  it('is not moved by one outlier at each end', () => {
    expect(medianInterval([1, 2, 3, 4, 5, 6, 7, 8, 9, 1000], 0.05)).toMatchObject({ lo: 2, hi: 9 });
  });

  it('gives no bounds for too few values', () => {
    expect(medianInterval([1, 2, 3, 4, 5], 0.05)).toEqual({ estimate: 3 });
    expect(medianInterval([1, 2, 3, 4, 5, 6], 0.05)).toMatchObject({ lo: 1, hi: 6 });
  });
});

describe('smallestDecidingCount', () => {
  it('finds the first count that decides, from where it starts', () => {
    expect(smallestDecidingCount(1, (n) => n * n >= 50)).toBe(8);
    expect(smallestDecidingCount(300, (n) => n >= 545)).toBe(545);
    expect(smallestDecidingCount(600, (n) => n >= 545)).toBe(600);
  });

  it('gives up past its limit', () => {
    expect(smallestDecidingCount(10, () => false, 1000)).toBeUndefined();
  });
});
