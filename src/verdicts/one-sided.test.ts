import type { Sample } from '../load/profile.js';
import { newHistogram, type LoadResult } from '../load/result.js';
import { addedOverRounds } from '../overhead/overhead.js';
import { seededRng } from '../util/seeded-rng.js';
import { percentile } from './latency-checks.js';
import { rateBand, rateBelow } from './rate-checks.js';
import { SequentialPlan, type SampleCheck } from './sample-checks.js';
import { simulateLoad, type Draw } from './simulate.js';
import { lookSchedule, meanInterval } from './stats.js';

/*
 * One-sided claims ("fewer than", "below", "at least", "less than") are decided on one-sided bounds at
 * the error each look spends (ADR 0002): a false pass and a false fail are each at most the stated 5%.
 * Each form is simulated 2000 times with the truth on the claim's edge, where both errors are largest,
 * the looks reading responses in send order. The contrast tests show what the two-sided rule they
 * replace would decide: swap it back and they fail.
 */
const RUNS = 2000;
const ALPHA = 0.05;
/** The stated level, with the simulation's own error (two standard errors of RUNS runs) for exact procedures. */
const EXACT_TOLERANCE = ALPHA + 2 * Math.sqrt((ALPHA * (1 - ALPHA)) / RUNS);

const ok = (status: number): Draw['sample'] => ({ status, overloaded: false, flags: '-' });

/** The share of simulated loads that end PASSED and FAILED. */
function outcomes(runs: number, load: () => { budget: number; rps: number; draw: () => Draw; check: SampleCheck }): { passed: number; failed: number } {
  let passed = 0;
  let failed = 0;
  for (let i = 0; i < runs; i++) {
    const l = load();
    const v = simulateLoad({ budget: l.budget, rps: l.rps, draw: l.draw, checks: [l.check], order: 'send' }).verdicts[0]!;
    if (v.outcome === 'PASSED') passed++;
    if (v.outcome === 'FAILED') failed++;
  }
  return { passed: passed / runs, failed: failed / runs };
}

describe('"fewer than" a share: one-sided bounds', () => {
  const fewerThan2 = () => rateBelow('fewer than 2% of responses have status 503', (s) => s.status === 503, 0.02, 'had status 503');
  const all200 = Array.from({ length: 300 }, (): Sample => ({ status: 200, latencyUs: 1000, overloaded: false, flags: '-' }));

  test('0 of 300 against "fewer than 2%" PASSES; the two-sided interval at the same looks left it INCONCLUSIVE', () => {
    const check = fewerThan2();
    const plan = new SequentialPlan([check], 300);
    for (let n = 20; n <= 300; n += 20) plan.update(all200.slice(0, n));
    const v = plan.verdict(check, all200);
    expect(v.outcome).toBe('PASSED');
    expect(v.interval).toMatchObject({ oneSided: true });
    expect(v.interval!.hi!).toBeLessThan(2);
    // The rule this replaced: the same band decided on the two-sided interval.
    const twoSided = rateBand('fewer than 2% (two-sided)', (s) => s.status === 503, 0, 0.02, 'had status 503');
    expect(new SequentialPlan([twoSided], 300).verdict(twoSided, all200).outcome).toBe('INCONCLUSIVE');
  });

  const at = (truth: number, seed: number) => {
    const r = seededRng(seed);
    return () => ({ budget: 1000, rps: 1000, check: fewerThan2(), draw: (): Draw => ({ sample: ok(r() < truth ? 503 : 200), latencyMs: 1 + r() }) });
  };

  test('a true rate of 3% PASSES in at most 5% of 2000 runs', () => {
    expect(outcomes(RUNS, at(0.03, 201)).passed).toBeLessThanOrEqual(ALPHA);
  });

  test('on the edge (a true 2%), neither a false pass nor a false fail passes 5% of 2000 runs', () => {
    const o = outcomes(RUNS, at(0.02, 202));
    expect(o.passed).toBeLessThanOrEqual(ALPHA);
    expect(o.failed).toBeLessThanOrEqual(ALPHA);
  });

  test('a true 0.5% passes in most runs of 1000 requests', () => {
    expect(outcomes(200, at(0.005, 203)).passed).toBeGreaterThan(0.5);
  });
});

describe('a latency percentile "below" or "at least" a bound: one-sided order-statistic bounds', () => {
  /** Latency exponential with a 10 ms mean: its p90 is 10 ln 10 = 23.03 ms. */
  const P90 = 10 * Math.log(10);
  const exponential = (seed: number, check: () => SampleCheck) => {
    const r = seededRng(seed);
    return () => ({ budget: 400, rps: 200, check: check(), draw: (): Draw => ({ sample: ok(200), latencyMs: -10 * Math.log(1 - r()) }) });
  };

  test.each([
    ['below', 301],
    ['atLeast', 302],
  ] as const)('"the p90 latency is %s" its true value: neither error passes 5% of 2000 runs', (direction, seed) => {
    const o = outcomes(RUNS, exponential(seed, () => percentile(`the p90 latency is ${direction} ${P90}ms`, 0.9, P90, direction)));
    expect(o.passed).toBeLessThanOrEqual(ALPHA);
    expect(o.failed).toBeLessThanOrEqual(ALPHA);
  });

  test('the last look bounds the p90 of 400 values 1..400 ms at rank 375 (one-sided), not 376 (two-sided)', () => {
    const samples = Array.from({ length: 400 }, (_, i): Sample => ({ status: 200, latencyUs: (i + 1) * 1000, overloaded: false, flags: '-' }));
    const last = lookSchedule(400, ALPHA).at(-1)!;
    const check = percentile('the p90 latency is below 375.5ms', 0.9, 375.5, 'below');
    expect(check.decide(samples, last, true)!.outcome).toBe('PASSED');
    // The rule this replaced: the same bound at the two-sided z.
    expect(check.decide(samples, { ...last, z1: last.z, zFinal1: last.zFinal }, true)!.outcome).toBe('INCONCLUSIVE');
  });
});

describe('overhead and sidecar claims: one-sided bounds over the rounds', () => {
  /** A round of `n` latencies (ms) drawn around a median, as a load's result. */
  const round = (r: () => number, medianMs: number, n = 200): LoadResult => {
    const samples = Array.from({ length: n }, (): Sample => ({ status: 200, latencyUs: Math.round((medianMs + (r() - 0.5) * 0.4) * 1000), overloaded: false, flags: '-' }));
    return { samples, histogram: newHistogram() } as unknown as LoadResult;
  };

  test('"the added p50 latency is below" its true value: the upper bound falls under it in at most 5% of 2000 runs', () => {
    const r = seededRng(401);
    let under = 0;
    for (let i = 0; i < RUNS; i++) {
      // Each pair of rounds drifts with the machine; the mesh adds 0.5 ms to the median.
      const drift = Array.from({ length: 10 }, () => (r() - 0.5) * 0.2);
      const baseline = drift.map((d) => round(r, 1 + d));
      const mesh = drift.map((d) => round(r, 1.5 + d));
      const a = addedOverRounds(baseline, mesh, 0.5, 1 - 2 * ALPHA, 1 - ALPHA);
      if (a.hi !== null && a.hi < 0.5) under++;
    }
    expect(under / RUNS).toBeLessThanOrEqual(ALPHA);
  });

  test('"each sidecar uses less than" its true CPU per 1000 rps: the one-sided t bound falls under it in about 5% of 2000 runs, the two-sided in about 2.5%', () => {
    const r = seededRng(402);
    const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    let one = 0;
    let two = 0;
    for (let i = 0; i < RUNS; i++) {
      const rounds = Array.from({ length: 10 }, () => 0.3 + 0.05 * normal());
      if (meanInterval(rounds, 2 * ALPHA).hi! < 0.3) one++;
      if (meanInterval(rounds, ALPHA).hi! < 0.3) two++;
    }
    expect(one / RUNS).toBeLessThanOrEqual(EXACT_TOLERANCE);
    // One-sided spends the whole 5% on the side that matters; the two-sided interval spent half of it.
    expect(one).toBeGreaterThan(two);
  });
});
