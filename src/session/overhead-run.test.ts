import { generatorFigures, newHistogram, type LoadResult } from '../load/result.js';
import type { LoadProfile } from '../load/profile.js';
import { measureOverhead, type OverheadHost } from './overhead-run.js';

/** A load of 50 requests at 1 ms (baseline) or 2 ms (mesh); healthy unless `sick` says otherwise for this load. */
function load(p: LoadProfile, meshed: boolean, healthy: boolean): LoadResult {
  const histogram = newHistogram();
  const samples = Array.from({ length: p.requests ?? 50 }, () => ({ status: 200, version: 'v1', latencyUs: meshed ? 2000 : 1000, overloaded: false, flags: '-' }));
  for (const s of samples) histogram.recordValue(s.latencyUs);
  const generator = generatorFigures(p, { arrivals: samples.length, dropped: 0, completed: samples.length, sendWindowMs: samples.length * 2, durationMs: samples.length * 2 });
  const health = { healthy, reasons: healthy ? [] : ['machine busy: the host took 0.6 of 2 cores for other guests (steal > 20%)'] } as unknown as LoadResult['health'];
  return { engine: 'embedded', profile: p, startedAt: 0, durationMs: samples.length * 2, sent: samples.length, dropped: 0, stoppedEarly: false, samples, histogram, timeline: [], generator, health };
}

/** An overhead run on a stand-in scenario: `sick(n)` says whether the n-th measured mesh round (from 0) is not healthy. */
async function rounds(sick: (n: number) => boolean): Promise<{ pairs: number; labels: string[] }> {
  const labels: string[] = [];
  let meshRounds = 0;
  const instance = { service: 'reviews', version: 'v1', name: 'reviews-v1-0' };
  const host = {
    name: 'Added latency', loads: [],
    run: { settings: { progress: false, mesh: 'reference' }, addLoad: () => ({}) },
    target: {
      workloads: { instancesOf: () => [instance] }, policy: { apply: () => Promise.resolve({ undo: () => Promise.resolve() }) },
      lacks: () => 'no sidecars here', traffic: { callerInstance: () => undefined }, mesh: { name: 'reference' },
    },
    load: (p: LoadProfile, how: { direct?: unknown; label?: string } = {}) => {
      if (how.label) labels.push(how.label);
      const meshed = !how.direct;
      const measured = meshed && how.label !== undefined;
      const healthy = !(measured && sick(meshRounds));
      if (measured) meshRounds++;
      return Promise.resolve(load(p, meshed, healthy));
    },
  } as unknown as OverheadHost;
  const { rounds: out } = await measureOverhead(host, 'reviews', 500, 1000, () => undefined);
  return { pairs: out.mesh.length, labels };
}

describe('overhead rounds on a busy machine', () => {
  it('runs the stated pairs when every load is healthy', async () => {
    expect((await rounds(() => false)).pairs).toBe(10);
  });

  it('runs a pair in place of each pair with a load that was not healthy, until the stated pairs are healthy', async () => {
    const r = await rounds((n) => n === 2 || n === 5 || n === 10);
    expect(r.pairs).toBe(13);
    expect(r.labels).toContain('mesh 13 (in place of one not healthy)');
  });

  it('stops at twice the stated pairs however busy the machine stays: the load is bounded', async () => {
    expect((await rounds(() => true)).pairs).toBe(20);
  });
});
