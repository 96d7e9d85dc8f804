import { k6OutputOfLog, K6_SUMMARY_MARK, mergeK6 } from './k6.js';
import { profile } from './profile.js';

/** One line of k6's JSON output for meshcheck's per-request metric, as `--out json=-` prints it. */
function point(sent: number, status = 200): string {
  return JSON.stringify({ metric: 'meshcheck_latency', type: 'Point', data: { time: new Date(sent + 2).toISOString(), value: 2, tags: { status: String(status), version: 'v1', sent: String(sent) } } });
}
function log(sent: number[], droppedByK6: number): string {
  const summary = JSON.stringify({ metrics: { dropped_iterations: { values: { count: droppedByK6 } } } });
  return [...sent.map((t) => point(t)), `${K6_SUMMARY_MARK} ${summary}`, ''].join('\n');
}

describe('merging k6 processes', () => {
  const p = profile({ service: 'reviews', requests: 10, rps: 10 });

  it('puts every request in send order, one histogram entry each', () => {
    const r = mergeK6(p, [k6OutputOfLog(log([0, 200, 400, 600, 800], 0), 0), k6OutputOfLog(log([100, 300, 500, 700, 900], 0), 0)], 0, 1000);
    expect(r.samples).toHaveLength(10);
    expect(r.dropped).toBe(0);
    expect(r.histogram.totalCount).toBe(10);
    expect(r.k6).toEqual({ exitCodes: [0, 0], thresholdsCrossed: false, droppedCounted: 0 });
  });

  it('leaves out an arrival past the budget that k6 counted as dropped', () => {
    const r = mergeK6(p, [k6OutputOfLog(log([0, 100, 200, 300, 400, 500, 600, 700, 800, 900], 1), 0)], 0, 1000);
    expect(r.dropped).toBe(0);
    expect(r.k6?.droppedCounted).toBe(0);
  });

  it('counts the arrivals k6 never started (its loop behind at the end of the window) as dropped too', () => {
    // 7 sent, 1 counted by k6, 2 due when the window closed and neither started nor counted.
    const r = mergeK6(p, [k6OutputOfLog(log([0, 100, 200, 300, 400, 500, 600], 1), 0)], 0, 1000);
    expect(r.samples.length + r.dropped).toBe(10);
    expect(r.dropped).toBe(3);
    expect(r.k6?.droppedCounted).toBe(1);
    expect(r.generator?.droppedShare).toBeCloseTo(0.3);
  });

  it('without a duration (a load in a cluster), rates come from the requests\' own span, not the Job\'s wall time (D9)', () => {
    // 10 requests sent 100 ms apart, each answered in 2 ms: 902 ms from the first sent to the last answered.
    const r = mergeK6(p, [k6OutputOfLog(log([0, 100, 200, 300, 400, 500, 600, 700, 800, 900], 0), 0)], 0);
    expect(r.durationMs).toBeCloseTo(902);
    expect(r.generator?.achievedRps).toBeCloseTo(11.1, 1);
    expect(r.generator?.sentRps).toBe(10);
    // With the wall time of a Job (scheduling, start, log read: 27 s), the rate would be 0.4 per second.
    expect(mergeK6(p, [k6OutputOfLog(log([0, 100, 200, 300, 400, 500, 600, 700, 800, 900], 0), 0)], 0, 27_000).generator?.achievedRps).toBeCloseTo(0.4, 1);
  });
});
