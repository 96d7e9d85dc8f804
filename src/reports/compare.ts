import { decodeHistogram } from '../load/histogram-codec.js';
import { histogramQuantileInterval, zFor } from '../verdicts/stats.js';
import { defaults } from '../config.js';
import type { RunRecord } from './run-record.js';

/**
 * The regression gate: every load both runs sent (matched by scenario and order within it) is
 * compared at p99. A regression must be both statistically significant (the candidate's p99 lower
 * bound above the baseline's p99 upper bound, each at alpha/2, so the difference is significant at
 * alpha) and beyond the threshold (the candidate's p99 more than the threshold above the baseline's).
 */

export interface LoadComparison {
  key: string;
  scenario: string;
  service: string;
  samples: { baseline: number; candidate: number };
  baselineP99: { estimate: number; lo: number | null; hi: number | null };
  candidateP99: { estimate: number; lo: number | null; hi: number | null };
  /** candidate / baseline - 1 */
  change: number;
  significant: boolean;
  beyondThreshold: boolean;
  regression: boolean;
}

export interface CompareResult {
  threshold: number;
  confidence: number;
  loads: LoadComparison[];
  regressions: LoadComparison[];
  onlyInBaseline: string[];
  onlyInCandidate: string[];
  outcomeChanges: { scenario: string; baseline: string; candidate: string }[];
}

/** Keys loads by scenario and their order within it ("name #1", "name (mesh) #1"). */
function keyed(r: RunRecord): Map<string, RunRecord['histograms'][number]> {
  const out = new Map<string, RunRecord['histograms'][number]>();
  const seen = new Map<string, number>();
  for (const h of r.histograms) {
    const n = (seen.get(h.scenario) ?? 0) + 1;
    seen.set(h.scenario, n);
    out.set(`${h.scenario} #${n}`, h);
  }
  return out;
}

const ms = (us: number | undefined) => (us === undefined ? null : us / 1000);

export function compareRuns(baseline: RunRecord, candidate: RunRecord, threshold: number, confidence: number = defaults.confidence): CompareResult {
  const z = zFor((1 - confidence) / 2);
  const a = keyed(baseline);
  const b = keyed(candidate);
  const loads: LoadComparison[] = [];
  for (const [key, hb] of a) {
    const hc = b.get(key);
    if (!hc) continue;
    const x = decodeHistogram(hb.hdr);
    const y = decodeHistogram(hc.hdr);
    if (x.totalCount === 0 || y.totalCount === 0) continue;
    const pb = histogramQuantileInterval(x, 0.99, z);
    const pc = histogramQuantileInterval(y, 0.99, z);
    const change = pc.estimate / pb.estimate - 1;
    // Too few samples for a bound: the difference cannot be shown significant.
    const significant = pc.lo !== undefined && pb.hi !== undefined && pc.lo > pb.hi;
    const beyondThreshold = change > threshold;
    loads.push({
      key, scenario: hb.scenario, service: hb.service, samples: { baseline: x.totalCount, candidate: y.totalCount },
      baselineP99: { estimate: pb.estimate / 1000, lo: ms(pb.lo), hi: ms(pb.hi) },
      candidateP99: { estimate: pc.estimate / 1000, lo: ms(pc.lo), hi: ms(pc.hi) },
      change, significant, beyondThreshold, regression: significant && beyondThreshold,
    });
  }
  const outcomes = new Map(baseline.scenarios.map((s) => [s.name, s.outcome]));
  return {
    threshold,
    confidence,
    loads,
    regressions: loads.filter((l) => l.regression),
    onlyInBaseline: [...a.keys()].filter((k) => !b.has(k)),
    onlyInCandidate: [...b.keys()].filter((k) => !a.has(k)),
    outcomeChanges: candidate.scenarios
      .filter((s) => outcomes.has(s.name) && outcomes.get(s.name) !== s.outcome)
      .map((s) => ({ scenario: s.name, baseline: outcomes.get(s.name)!, candidate: s.outcome })),
  };
}

export function formatCompare(r: CompareResult, names: { baseline: string; candidate: string }): string {
  const f = (x: number | null) => (x === null ? '?' : x.toFixed(3));
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  const out = [`meshcheck compare: ${names.baseline} -> ${names.candidate}; p99 regression gate at ${pct(r.threshold)}, ${Math.round(r.confidence * 100)}% confidence`, ''];
  for (const l of r.loads) {
    const mark = l.regression ? 'REGRESSION' : l.beyondThreshold ? 'noise?    ' : 'ok        ';
    out.push(`${mark}  ${l.key}: p99 ${f(l.baselineP99.estimate)}ms [${f(l.baselineP99.lo)}, ${f(l.baselineP99.hi)}] -> ${f(l.candidateP99.estimate)}ms [${f(l.candidateP99.lo)}, ${f(l.candidateP99.hi)}] (${pct(l.change)}${l.beyondThreshold && !l.significant ? ', not significant' : ''}; ${l.samples.baseline} / ${l.samples.candidate} samples)`);
  }
  if (r.loads.length === 0) out.push('no load appears in both runs; nothing to compare');
  for (const k of r.onlyInBaseline) out.push(`only in the baseline: ${k}`);
  for (const k of r.onlyInCandidate) out.push(`only in the candidate: ${k}`);
  for (const c of r.outcomeChanges) out.push(`outcome changed: ${c.scenario}: ${c.baseline} -> ${c.candidate}`);
  out.push('', r.regressions.length ? `${r.regressions.length} significant p99 regression(s) beyond ${pct(r.threshold)}` : `no significant p99 regression beyond ${pct(r.threshold)}`);
  return `${out.join('\n')}\n`;
}
