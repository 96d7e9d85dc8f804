import { newHistogram } from '../../src/load/result.js';
import { encodeHistogram } from '../../src/load/histogram-codec.js';
import { seededRng } from '../../src/util/seeded-rng.js';
import type { RunRecord } from '../../src/reports/run-record.js';
import type { OverheadSummary } from '../../src/overhead/overhead.js';

/** Synthetic run records with real HDR histograms, for the report and compare tests. */

/** A latency sample like the local suite's: a floor plus a long right tail (microseconds). */
export function latencies(seed: number, n: number, scale = 1): number[] {
  const r = seededRng(seed);
  return Array.from({ length: n }, () => Math.round(scale * (400 + 300 * r() + 4000 * r() ** 12)));
}

export function hdr(xs: number[]): string {
  const h = newHistogram();
  for (const x of xs) h.recordValue(x);
  return encodeHistogram(h);
}

export function record(seed: number, scale = 1, overhead: OverheadSummary[] = []): RunRecord {
  const names = ['Traffic is split', 'A share is aborted', 'Retries hide a failure'];
  return {
    schema: 'meshcheck.run/v1', runId: `run-${seed}`, mesh: 'reference', target: 'local', engine: 'embedded', startedAt: '2026-11-22T00:00:00Z', finishedAt: '2026-11-22T00:01:00Z',
    convergenceMs: [], scenarios: names.map((name) => ({ name, feature: 'f', capability: 'c', outcome: 'PASSED', verdicts: [], loads: [], convergenceMs: [] })),
    histograms: names.map((scenario, i) => ({ scenario, service: 'reviews', engine: 'embedded', hdr: hdr(latencies(seed * 10 + i, 2000, scale)) })),
    overhead,
  };
}

