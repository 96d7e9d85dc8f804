import { addedLatency, addedOverRounds, cpuPer1000, pool, summarizeOverhead, usableRounds } from './overhead.js';
import { classifyHealth } from '../load/health.js';
import { generatorFigures, newHistogram, type LoadResult } from '../load/result.js';
import { profile, type Sample } from '../load/profile.js';
import { seededRng } from '../util/seeded-rng.js';

function run(latenciesUs: number[], headers: Record<string, string> = {}): LoadResult {
  const histogram = newHistogram();
  const samples: Sample[] = latenciesUs.map((latencyUs) => ({ status: 200, version: 'v1', latencyUs, overloaded: false, flags: '-' }));
  for (const s of samples) histogram.recordValue(s.latencyUs);
  const p = profile({ service: 'reviews', rps: 500, requests: latenciesUs.length, headers });
  const generator = generatorFigures(p, {
    arrivals: samples.length,
    dropped: 0,
    completed: samples.length,
    sendWindowMs: (samples.length - 1) * 2,
    durationMs: samples.length * 2,
  });
  return { engine: 'embedded', profile: p, startedAt: 0, durationMs: latenciesUs.length * 2, sent: latenciesUs.length, dropped: 0, stoppedEarly: false, samples, histogram, timeline: [], generator };
}

const r = seededRng(11);
const base = () => Array.from({ length: 500 }, () => Math.round(150 + 300 * r()));

describe('overhead', () => {
  it('finds an added millisecond with an interval around it', () => {
    const b = base();
    const m = base().map((x) => x + 1000);
    const a = addedLatency(b, m, 0.5);
    expect(a.estimate).toBeCloseTo(1, 1);
    expect(a.lo!).toBeLessThan(1);
    expect(a.hi!).toBeGreaterThan(1);
  });

  it('gives no bound when the sample is too small for the quantile', () => {
    expect(addedLatency([100, 200], [300, 400], 0.99).hi).toBeNull();
  });

  it('reads vCPU per 1000 rps as CPU-seconds per 1000 requests, pooled, with a t interval over rounds', () => {
    const c = cpuPer1000([0.1, 0.12, 0.11].map((cpuSeconds) => ({ instance: 'a', cpuSeconds, rssBytes: 1, requests: 400 })));
    expect(c.estimate).toBeCloseTo(0.275, 6);
    expect(c.rounds).toEqual([0.25, 0.3, 0.275]);
    expect(c.lo!).toBeLessThan(0.275);
    expect(c.hi!).toBeGreaterThan(0.275);
  });

  it('pools rounds and summarises both sides with the conditions they ran under', () => {
    const rounds = { service: 'reviews', rps: 500, warmupRequests: 1000, baseline: [run(base()), run(base())], mesh: [run(base().map((x) => x + 500)), run(base().map((x) => x + 500))], usage: [[{ instance: 'c', cpuSeconds: 0.1, rssBytes: 80 * 1_048_576, requests: 500 }], [{ instance: 'c', cpuSeconds: 0.12, rssBytes: 90 * 1_048_576, requests: 500 }]] };
    expect(pool(rounds.mesh).samples).toHaveLength(1000);
    expect(pool(rounds.mesh).histogram.totalCount).toBe(1000);
    const withTimelines = [{ ...rounds.mesh[0]!, timeline: [{ second: 0, completed: 3, errors: 0 }] }, { ...rounds.mesh[1]!, timeline: [{ second: 0, completed: 4, errors: 1 }] }];
    expect(pool(withTimelines).timeline).toEqual([{ second: 0, completed: 3, errors: 0 }, { second: 1, completed: 4, errors: 1 }]);
    const s = summarizeOverhead('sc', 'reference', rounds);
    expect(s.conditions).toMatchObject({ rps: 500, rounds: 2, requestsPerRound: 500, warmupRequests: 1000, connections: 512, payloadBytes: 0 });
    expect(s.samples).toEqual({ baseline: 1000, mesh: 1000 });
    expect(s.addedMs.p50!.estimate).toBeCloseTo(0.5, 1);
    expect(s.sidecars).toEqual([{ instance: 'c', vcpuPer1000Rps: expect.objectContaining({ estimate: 0.22, rounds: [0.2, 0.24] }), memoryMb: 90 }]);
    expect(typeof s.histograms.mesh).toBe('string');
  });

  it('widens the interval to the paired rounds when the machine drifts, and reports the baseline noise', () => {
    // The machine slows by 0.3 ms a round; the mesh adds 0.5 ms on top, every round.
    const drift = (i: number) => 300 * i;
    const baseline = Array.from({ length: 10 }, (_, i) => run(base().map((x) => x + drift(i))));
    const mesh = Array.from({ length: 10 }, (_, i) => run(base().map((x) => x + drift(i) + 500)));
    const a = addedOverRounds(baseline, mesh, 0.5);
    expect(a.estimate).toBeCloseTo(0.5, 1);
    expect(a.pairs).toHaveLength(10);
    expect(a.lo!).toBeLessThan(0.5);
    expect(a.hi!).toBeGreaterThan(0.5);
    // The baseline moved by about 2.7 ms over the rounds: its noise figure says so.
    expect(a.noise!).toBeGreaterThan(0.5);
    const steady = addedOverRounds(Array.from({ length: 10 }, () => run(base())), Array.from({ length: 10 }, () => run(base().map((x) => x + 500))), 0.5);
    expect(steady.noise!).toBeLessThan(0.05);
  });

  it('leaves out pairs of rounds with a load that was not healthy, while at least half remain', () => {
    const sick = (r: LoadResult): LoadResult => ({
      ...r,
      health: classifyHealth({
        ...r.generator,
        sendLagMs: { p50: 20, p99: 40, max: 50 },
        eventLoopDelayMs: null,
        machine: { cores: 2, otherCpuCores: 0, stealCores: 0, meshcheckCpuCores: 1, cpuPressure: 0.2, meshcheckCpuWaitMs: 0, measured: true },
        cpuWaitMsPerRequest: 0,
      }),
    });
    const rounds = (bad: number) => ({
      service: 'reviews', rps: 500, warmupRequests: 0,
      baseline: Array.from({ length: 10 }, () => run(base())),
      mesh: Array.from({ length: 10 }, (_, i) => (i < bad ? sick(run(base().map((x) => x + 50_000))) : run(base().map((x) => x + 500)))),
      usage: Array.from({ length: 10 }, () => [{ instance: 'c', cpuSeconds: 0.1, rssBytes: 1, requests: 500 }]),
    });
    const two = usableRounds(rounds(2));
    expect(two.dropped).toBe(2);
    expect(two.mesh).toHaveLength(8);
    // The stalled rounds (50 ms) no longer move the added latency.
    expect(summarizeOverhead('s', 'reference', rounds(2)).addedMs.p50!.estimate).toBeCloseTo(0.5, 1);
    expect(summarizeOverhead('s', 'reference', rounds(2)).conditions).toMatchObject({ rounds: 8, droppedRounds: 2 });
    // Most rounds sick: all are used, and the verdict carries their health.
    expect(usableRounds(rounds(6)).dropped).toBe(0);
  });
});
