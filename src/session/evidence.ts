import type { Evidence } from '../evidence.js';
import { decodeHistogram } from '../load/histogram-codec.js';
import { percentileChart, percentilePoints } from '../reports/charts.js';
import type { RunRecord } from '../reports/run-record.js';

/** Loads as evidence: each one's summary, then one latency chart (latency by percentile, a line per load). */
export function loadEvidence(summaries: readonly Record<string, unknown>[], histograms: RunRecord['histograms']): Evidence[] {
  const series = histograms.map((h) => ({ label: /\(([^)]*)\)$/.exec(h.scenario)?.[1] ?? `${h.service} (${h.engine})`, points: percentilePoints(decodeHistogram(h.hdr)) }));
  const services = histograms.map((h) => h.service).filter((v, i, a) => a.indexOf(v) === i).join(', ');
  return [
    ...summaries.map((l) => ({ name: 'load summary', contentType: 'application/json', body: JSON.stringify(l, null, 2) })),
    { name: 'latency chart', contentType: 'image/svg+xml', body: percentileChart({ title: `Latency by percentile: ${services}`, series }) },
  ];
}
