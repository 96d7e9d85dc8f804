import type { Sample } from '../load/profile.js';
import { SequentialPlan, all } from './sample-checks.js';
import { rateBand } from './rate-checks.js';
import { percentile } from './latency-checks.js';
import { seededRng as rng } from '../util/seeded-rng.js';


const sample = (status: number, latencyMs = 1): Sample => ({ status, latencyUs: latencyMs * 1000, overloaded: false, flags: '-' });

/** Feeds samples one at a time as the engine would and returns the verdict and how many were used. */
function simulate(p503: number, budget: number, r: () => number, band: [number, number]) {
  const check = rateBand('x', (s) => s.status === 503, band[0], band[1], 'had 503');
  const plan = new SequentialPlan([check], budget);
  const samples: Sample[] = [];
  while (samples.length < budget) {
    samples.push(sample(r() < p503 ? 503 : 200));
    if (samples.length % 20 === 0 && plan.update(samples)) break;
  }
  return { verdict: plan.verdict(check, samples), used: samples.length };
}

describe('sequential rate verdicts', () => {
  it('keeps the false-pass rate under 5% across repeated looks (truth just outside the band)', () => {
    const r = rng(11);
    let passes = 0;
    for (let i = 0; i < 2000; i++) if (simulate(0.36, 1000, r, [0.25, 0.35]).verdict.outcome === 'PASSED') passes++;
    expect(passes / 2000).toBeLessThan(0.05);
  });

  it('keeps the false-fail rate under 5% across repeated looks (truth inside the band)', () => {
    const r = rng(12);
    let fails = 0;
    for (let i = 0; i < 2000; i++) if (simulate(0.3, 3000, r, [0.25, 0.35]).verdict.outcome === 'FAILED') fails++;
    expect(fails / 2000).toBeLessThan(0.05);
  });

  it('stops early when the truth is clear-cut', () => {
    const r = rng(13);
    const runs = Array.from({ length: 200 }, () => simulate(0, 1000, r, [0, 0.05]));
    expect(runs.every((x) => x.verdict.outcome === 'PASSED')).toBe(true);
    const meanShare = runs.reduce((a, x) => a + x.used, 0) / runs.length / 1000;
    expect(meanShare).toBeLessThanOrEqual(0.5);
  });

  it('fails as soon as no outcome of the rest of the budget could save the claim', () => {
    const r = rng(14);
    const x = simulate(0.9, 1000, r, [0.25, 0.35]);
    expect(x.verdict.outcome).toBe('FAILED');
    // With 90% failing, the last look is sure to fail "30% ± 5%" once about 450 of the 1000 have failed.
    expect(x.used).toBeLessThanOrEqual(500);
  });

  it('says how many more requests are needed when undecided', () => {
    const r = rng(15);
    const x = simulate(0.34, 200, r, [0.25, 0.35]);
    expect(x.verdict.outcome).toBe('INCONCLUSIVE');
    expect(x.verdict.explanation).toMatch(/about \d+ more requests needed/);
  });
});

describe('zero samples never pass', () => {
  it.each([
    ['a rate band', rateBand('x', () => true, 0, 1, 'y')],
    ['an all-responses claim', all('x', () => true, () => '')],
    ['a percentile', percentile('x', 0.5, 100, 'below')],
  ])('%s with no samples is INCONCLUSIVE', (_n, check) => {
    const plan = new SequentialPlan([check], 100);
    expect(plan.verdict(check, []).outcome).toBe('INCONCLUSIVE');
  });
});

describe('when no response came back (D7)', () => {
  it('the verdict names why, as the load generator said it, most frequent first', async () => {
    const { HTTP_READING: r } = await import('../load/reading.js');
    const { k6Point } = await import('../load/k6.js');
    // A k6 point of a request that failed, as load/requests.js writes it.
    const line = JSON.stringify({
      metric: 'meshcheck_latency', type: 'Point',
      data: { time: '2026-12-07T00:00:00Z', value: 3, tags: { status: '0', flags: 'NC', sent: '1', failure: 'dial tcp: lookup reviews on 127.0.0.1:53: read udp: connection refused' } },
    });
    const failed = k6Point(line)!;
    expect(failed.error).toBe('dial tcp: lookup reviews on 127.0.0.1:53: read udp: connection refused');
    const samples = [...Array(19).fill(failed), { ...failed, error: 'read: connection reset by peer' }, sample(200)];
    const check = all('all responses have status 200', (s) => r.hasStatus(s, 200), r.statusText, r.answered);
    const v = check.decide(samples, undefined as never, true)!;
    expect(v.outcome).toBe('FAILED');
    expect(v.observed).toBe('20 of 21 responses did not match: 19 x no HTTP response (dial tcp: lookup reviews on 127.0.0.1:53: read udp: connection refused), 1 x no HTTP response (read: connection reset by peer)');
  });
});
