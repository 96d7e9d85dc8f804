import { decodeHistogram, encodeHistogram } from './histogram-codec.js';
import { newHistogram } from './result.js';

describe('run-record histograms', () => {
  it('survive the round trip through the run record encoding', () => {
    const h = newHistogram();
    for (let us = 100; us <= 200_000; us += 37) h.recordValue(us);
    const back = decodeHistogram(encodeHistogram(h));
    expect(back.totalCount).toBe(h.totalCount);
    for (const p of [50, 90, 99, 99.9]) expect(back.getValueAtPercentile(p)).toBe(h.getValueAtPercentile(p));
  });
});
