import type { Sample } from '../load/profile.js';
import type { LoadResult } from '../load/result.js';
import { addedOverRounds, type OverheadRounds, type OverheadSummary } from '../overhead/overhead.js';
import { seededRng } from '../util/seeded-rng.js';
import { checkAddedLatency, checkSidecarCpu, type Observed } from './observed-checks.js';

/*
 * The overhead claims are one-sided ("below", "less than"): decided on one-sided bounds at the stated
 * level. Each case here sits between the one-sided and the two-sided bound, so it PASSES under the
 * one-sided rule and would be INCONCLUSIVE under the two-sided one: put that back and they fail.
 */

/** A round of latencies (ms) around a median, as a load's result (healthy). */
function round(r: () => number, medianMs: number, n = 400): LoadResult {
  const samples = Array.from({ length: n }, (): Sample => ({ status: 200, latencyUs: Math.round((medianMs + (r() - 0.5) * 0.4) * 1000), overloaded: false, flags: '-' }));
  return { samples } as unknown as LoadResult;
}

/** What an overhead run observed: its rounds and the summary's figures the checks read. */
function observed(rounds: OverheadRounds, sidecars: OverheadSummary['sidecars'] = []): Observed {
  const n = rounds.mesh.length;
  const summary = {
    errors: { mesh: 0, baseline: 0 }, samples: { mesh: n * 400, baseline: n * 400 }, conditions: { rounds: n, rps: 500 }, sidecars,
  } as unknown as OverheadSummary;
  return { lacks: () => undefined, overhead: summary, overheadRounds: rounds, meshCounts: () => Promise.reject(new Error('not asked')) };
}

test('"each sidecar uses less than 0.332 vCPU per 1000 rps" over ten rounds of mean 0.3: PASSED on the one-sided bound (0.329), which the two-sided (0.336) would leave undecided', () => {
  // Ten rounds with mean 0.3 and standard deviation 0.05 exactly.
  const rounds = [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3 + 0.05 * Math.sqrt(4.5), 0.3 - 0.05 * Math.sqrt(4.5)];
  const sidecars = [{ instance: 'reviews-v1-0', vcpuPer1000Rps: { estimate: 0.3, lo: 0.264, hi: 0.336, rounds }, memoryMb: 60 }];
  const none = Array.from({ length: 10 }, () => ({}) as LoadResult);
  const v = checkSidecarCpu(observed({ service: 'reviews', rps: 500, warmupRequests: 0, baseline: none, mesh: none, usage: [] }, sidecars), 0.332);
  expect(v.outcome).toBe('PASSED');
  expect(v.interval).toMatchObject({ oneSided: true });
  expect(v.interval!.hi!).toBeCloseTo(0.329, 3);
});

test('"the added p50 latency is below" a bound between its one-sided and two-sided upper bounds: PASSED', () => {
  // Every round alike (no drift between rounds, so no noise and no spread of the pairs): the pooled
  // bound of the added p50 decides, and it is one-sided.
  const r = seededRng(7);
  const base = round(r, 1);
  const mesh = round(r, 1.5);
  const rounds: OverheadRounds = { service: 'reviews', rps: 500, warmupRequests: 0, baseline: Array(10).fill(base), mesh: Array(10).fill(mesh), usage: [] };
  const oneSided = addedOverRounds(rounds.baseline, rounds.mesh, 0.5, 0.9, 0.95).hi!;
  const twoSided = addedOverRounds(rounds.baseline, rounds.mesh, 0.5, 0.95).hi!;
  expect(oneSided).toBeLessThan(twoSided);
  const v = checkAddedLatency(observed(rounds), 0.5, (oneSided + twoSided) / 2);
  expect(v.outcome).toBe('PASSED');
  expect(v.interval).toMatchObject({ oneSided: true });
});

test('a sidecar whose CPU counter moved in no round while it carried requests was not measured: INCONCLUSIVE, never PASSED on zero', () => {
  // As cAdvisor read through the kubelet gives it for rounds of 0.3 s (measured on the node: every round 0).
  const sidecars = [{ instance: 'reviews-v1-abc', vcpuPer1000Rps: { estimate: 0, lo: 0, hi: 0, rounds: Array(10).fill(0) as number[] }, memoryMb: 37.6 }];
  const none = Array.from({ length: 10 }, () => ({}) as LoadResult);
  const v = checkSidecarCpu(observed({ service: 'reviews', rps: 1000, warmupRequests: 0, baseline: none, mesh: none, usage: [] }, sidecars), 1.5);
  expect(v).toMatchObject({ outcome: 'INCONCLUSIVE', samples: 0, explanation: expect.stringMatching(/CPU counter of reviews-v1-abc did not move in any round/) });
});
