import { percentile, rateBand, type SampleCheck } from './sample-checks.js';
import { simulateLoad, type Draw } from './simulate.js';
import { seededRng } from '../util/seeded-rng.js';

/**
 * The looks read responses in send order. When one category answers slower than the other, the
 * first responses to complete over-represent the fast one; a look over them decides on a biased
 * sample. These simulations run the plan as the engine does, 2000 loads each.
 */
const RUNS = 2000;

interface Scenario {
  budget: number;
  rps: number;
  draw: () => Draw;
  check: () => SampleCheck;
}

function failedShare(order: 'send' | 'completion', { draw, check, budget, rps }: Scenario, runs = RUNS): number {
  let failed = 0;
  for (let i = 0; i < runs; i++) {
    const v = simulateLoad({ budget, rps, draw, checks: [check()], order }).verdicts[0]!;
    if (v.outcome === 'FAILED') failed++;
  }
  return failed / runs;
}

/**
 * An 80/20 split whose 80% side answers 5x slower (about 500 ms against 100 ms: a busy v1, as on a
 * loaded machine), 2000 requests at 1000 rps.
 */
function split(seed: number): Scenario {
  const r = seededRng(seed);
  const exp = (mean: number) => -mean * Math.log(1 - r());
  return {
    budget: 2000, rps: 1000,
    draw: (): Draw => (r() < 0.8 ? { sample: { status: 200, version: 'v1', overloaded: false, flags: '-' }, latencyMs: 400 + exp(100) } : { sample: { status: 200, version: 'v2', overloaded: false, flags: '-' }, latencyMs: 80 + exp(20) }),
    check: () => rateBand('version "v2" receives 20% ± 5% of requests', (s) => s.version === 'v2', 0.15, 0.25, 'came from v2'),
  };
}

/** Half the requests delayed by 1 s, the claim "the p75 latency is at least 1s" (true), 400 requests at 200 rps. */
function delayed(seed: number): Scenario {
  const r = seededRng(seed);
  return {
    budget: 400, rps: 200,
    draw: (): Draw => ({ sample: { status: 200, version: 'v1', overloaded: false, flags: '-' }, latencyMs: (r() < 0.5 ? 1000 : 0) + 0.5 + r() }),
    check: () => percentile('the p75 latency is at least 1s', 0.75, 1000, 'atLeast'),
  };
}

describe('looks in send order are unbiased when categories answer at different speeds', () => {
  it('an 80/20 split with the 80% side 5x slower decides FAILED in at most 1% of 2000 runs', () => {
    expect(failedShare('send', split(101))).toBeLessThanOrEqual(0.01);
  });

  // The contrast needs fewer runs: the bias is large.
  it('...while looks in completion order decide it FAILED far more often (the bias this prevents)', () => {
    expect(failedShare('completion', split(102), 200)).toBeGreaterThan(0.2);
  });

  it('a latency claim with a 50% slow share decides FAILED in at most 1% of 2000 runs', () => {
    expect(failedShare('send', delayed(103))).toBeLessThanOrEqual(0.01);
  });

  it('...while looks in completion order decide it FAILED far more often', () => {
    expect(failedShare('completion', delayed(104), 200)).toBeGreaterThan(0.2);
  });

  it('still stops early when the truth is clear and answers are quick', () => {
    const r = seededRng(105);
    const draw = (): Draw => ({ sample: { status: r() < 0.3 ? 503 : 200, overloaded: false, flags: '-' }, latencyMs: 1 + r() });
    let sent = 0;
    for (let i = 0; i < 200; i++) sent += simulateLoad({ budget: 1000, rps: 1000, draw, checks: [rateBand('fewer than 5% of responses have status 503', (s) => s.status === 503, 0, 0.05, 'had 503')], order: 'send' }).sent;
    expect(sent / 200 / 1000).toBeLessThanOrEqual(0.5);
  });
});
