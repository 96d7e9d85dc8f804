import { guardVerdict, INFRASTRUCTURE_MARKER } from './infrastructure.js';
import { all, atLeast, SequentialPlan } from './sample-checks.js';
import { rateBand, rateBelow } from './rate-checks.js';
import { percentile } from './latency-checks.js';
import { classifyHealth } from '../load/health.js';
import { QUIET_LOAD } from '../../test/helpers/load-health.js';
import type { Sample } from '../load/profile.js';
import type { Verdict } from './outcome.js';

const figures = { ...QUIET_LOAD, askedRps: 1000, sentRps: 999, achievedRps: 990 };
const healthy = classifyHealth(figures);
const behind = classifyHealth({ ...figures, sentRps: 296, dropped: 1867, droppedShare: 0.62 });
const failed: Verdict = { outcome: 'FAILED', claim: 'c', observed: 'o', samples: 10, explanation: 'outside the band' };
const s = (status: number): Sample => ({ status, latencyUs: 1000, overloaded: false, flags: '-' });

describe('a verdict never turns FAILED because meshcheck fell behind', () => {
  it('keeps a FAILED from a healthy load', () => {
    expect(guardVerdict(failed, { kind: 'rate' }, [healthy])).toBe(failed);
  });

  it.each(['rate', 'latency'] as const)('makes a %s claim from an unhealthy load INCONCLUSIVE, with the figures', (kind) => {
    const v = guardVerdict(failed, { kind }, [behind]);
    expect(v.outcome).toBe('INCONCLUSIVE');
    expect(v.explanation).toContain(INFRASTRUCTURE_MARKER);
    expect(v.explanation).toMatch(/kept 296 of 1000 arrivals per second/);
    expect(v.explanation).toMatch(/1867 arrivals dropped/);
    expect(v.infrastructure?.reasons).toHaveLength(2);
    expect(v.infrastructure?.withheld).toBe('FAILED');
  });

  it('does the same for an overhead claim when any round was unhealthy', () => {
    expect(guardVerdict(failed, 'overhead', [healthy, behind, healthy]).outcome).toBe('INCONCLUSIVE');
  });

  it('never touches a PASSED', () => {
    const passed: Verdict = { ...failed, outcome: 'PASSED' };
    expect(guardVerdict(passed, { kind: 'rate' }, [behind])).toBe(passed);
  });

  it('adds the load\'s reasons to an INCONCLUSIVE, without a withheld outcome', () => {
    const v = guardVerdict({ ...failed, outcome: 'INCONCLUSIVE', explanation: 'about 83 more requests needed' }, { kind: 'rate' }, [behind]);
    expect(v.outcome).toBe('INCONCLUSIVE');
    expect(v.explanation).toMatch(/about 83 more requests needed; the load was not healthy: load generator behind \/ machine busy/);
    expect(v.infrastructure?.withheld).toBeUndefined();
  });

  it('keeps a count claim and an every-response claim with a real counter-example FAILED', () => {
    expect(guardVerdict(failed, { kind: 'count' }, [behind]).outcome).toBe('FAILED');
    const every = all('all responses have status 200', (x) => x.status === 200, () => '');
    expect(guardVerdict(failed, every, [behind], [s(200), s(503), s(0)]).outcome).toBe('FAILED');
  });

  it('does not fail an every-response claim on missing responses alone from an unhealthy load', () => {
    const every = all('all responses have status 200', (x) => x.status === 200, () => '');
    expect(guardVerdict(failed, every, [behind], [s(200), s(0)]).outcome).toBe('INCONCLUSIVE');
  });

  it('has a count claim kind for "at least N"', () => {
    expect(atLeast('x', () => true, 1, 'y').kind).toBe('count');
  });
});

describe('latency claims and the generator\'s own send lag', () => {
  // 200 responses that took 5 ms once sent, but left 30 ms late: 35 ms from the intended time.
  const late = Array.from({ length: 200 }, (): Sample => ({ status: 200, latencyUs: 35_000, lagUs: 30_000, overloaded: false, flags: '-' }));

  it('does not fail "below" on latency the generator added by sending late', () => {
    const check = percentile('the p50 latency is below 10ms', 0.5, 10, 'below');
    const v = new SequentialPlan([check], 200).verdict(check, late);
    expect(v.outcome).toBe('INCONCLUSIVE');
    expect(v.explanation).toMatch(/the generator's lag removed\) p50 = 5\.00ms/);
  });

  it('does not pass "at least" on that latency either', () => {
    const check = percentile('the p50 latency is at least 20ms', 0.5, 20, 'atLeast');
    expect(new SequentialPlan([check], 200).verdict(check, late).outcome).toBe('INCONCLUSIVE');
  });

  it('fails "below" when the latency from the actual send is over the bound too', () => {
    const check = percentile('the p50 latency is below 2ms', 0.5, 2, 'below');
    expect(new SequentialPlan([check], 200).verdict(check, late).outcome).toBe('FAILED');
  });
});

describe('how many more requests a rate claim needs', () => {
  it('gives a number when no failure was seen ("fewer than 5%" with 0 of 40)', () => {
    const check = rateBelow('fewer than 5% of responses have status 503', (x) => x.status === 503, 0.05, 'had status 503');
    const v = new SequentialPlan([check], 40).verdict(check, Array.from({ length: 40 }, () => s(200)));
    expect(v.outcome).toBe('INCONCLUSIVE');
    const n = Number(/about (\d+) more requests needed/.exec(v.explanation)![1]);
    // One-sided: 0 of about 105 puts the upper bound at 5% at the last look's error.
    expect(n).toBeGreaterThan(40);
    expect(n).toBeLessThan(200);
    expect(v.explanation).not.toMatch(/many/);
  });

  it('says so when the share sits on the edge of the band', () => {
    const check = rateBand('25% ± 5% of responses have status 503', (x) => x.status === 503, 0.2, 0.25, 'had status 503');
    const v = new SequentialPlan([check], 200).verdict(check, Array.from({ length: 200 }, (_, i) => s(i % 4 === 0 ? 503 : 200)));
    expect(v.outcome).toBe('INCONCLUSIVE');
    expect(v.explanation).toMatch(/sits on the edge of the band/);
  });
});
