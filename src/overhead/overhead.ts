import { defaults } from '../config.js';
import { encodeHistogram } from '../load/histogram-codec.js';
import { achievedRps, newHistogram, type LoadResult } from '../load/result.js';
import { meanInterval, quantileInterval, zFor } from '../verdicts/stats.js';

/**
 * Overhead = the same load with and without the mesh. The measurement follows the vendors'
 * method (documented-figures.md, "How the anchors measure"): the same fixed rate, payload and
 * connection limit both ways, a trimmed warm-up, and repeated runs pooled. Rounds alternate
 * (baseline first, then mesh first) so a drift of the machine does not land on one side only.
 */

export const QUANTILES = [0.5, 0.9, 0.99] as const;

/** What one sidecar on the path used during one mesh round. */
export interface RoundUsage {
  instance: string;
  cpuSeconds: number;
  rssBytes: number;
  requests: number;
}

export interface OverheadRounds {
  service: string;
  rps: number;
  warmupRequests: number;
  baseline: LoadResult[];
  mesh: LoadResult[];
  /** Per mesh round, the sidecars on the path. */
  usage: RoundUsage[][];
}

export interface Estimate {
  estimate: number;
  lo: number | null;
  hi: number | null;
}

/** The serialisable result of an overhead measurement (run record `overhead[]`, reports, compare). */
export interface OverheadSummary {
  scenario: string;
  service: string;
  /** The mesh measured and the no-mesh baseline it is compared with. */
  mesh: string;
  baseline: 'none';
  engine: string;
  conditions: { rps: number; payloadBytes: number; connections: number; rounds: number; requestsPerRound: number; warmupRequests: number; protocol: 'HTTP/1.1'; mtls: boolean };
  confidence: number;
  samples: { baseline: number; mesh: number };
  achievedRps: { baseline: number; mesh: number };
  errors: { baseline: number; mesh: number };
  latencyMs: { baseline: Record<string, number>; mesh: Record<string, number> };
  /** Mesh minus baseline at p50/p90/p99, with the interval (each side's quantile interval at alpha/2). */
  addedMs: Record<string, Estimate>;
  sidecars: { instance: string; vcpuPer1000Rps: Estimate & { rounds: number[] }; memoryMb: number }[];
  histograms: { baseline: string; mesh: string };
}

const key = (q: number) => `p${Math.round(q * 100)}`;

/** Pools repeated runs of one profile into one result (samples and histograms added, times summed). */
export function pool(runs: readonly LoadResult[]): LoadResult {
  if (runs.length === 0) throw new Error('pool: no runs');
  const histogram = newHistogram();
  for (const r of runs) histogram.add(r.histogram);
  return {
    engine: runs[0]!.engine, profile: { ...runs[0]!.profile, requests: runs.reduce((a, r) => a + r.profile.requests, 0) }, startedAt: runs[0]!.startedAt,
    durationMs: runs.reduce((a, r) => a + r.durationMs, 0), sent: runs.reduce((a, r) => a + r.sent, 0), dropped: runs.reduce((a, r) => a + r.dropped, 0),
    stoppedEarly: false, samples: runs.flatMap((r) => r.samples), histogram, timeline: joinTimelines(runs),
  };
}

/** The rounds' per-second timelines one after the other, seconds counted from the first round's start. */
function joinTimelines(runs: readonly LoadResult[]): LoadResult['timeline'] {
  const out: LoadResult['timeline'] = [];
  for (const r of runs) for (const t of r.timeline) out.push({ ...t, second: out.length });
  return out;
}

/** Added latency at quantile q: mesh minus baseline, bounds from each side's interval at alpha/2. */
export function addedLatency(baselineUs: readonly number[], meshUs: readonly number[], q: number, confidence: number = defaults.confidence): Estimate & { mesh: number; baseline: number } {
  const z = zFor((1 - confidence) / 2);
  const sorted = (xs: readonly number[]) => xs.map((x) => x / 1000).sort((a, b) => a - b);
  const m = quantileInterval(sorted(meshUs), q, z);
  const b = quantileInterval(sorted(baselineUs), q, z);
  return {
    estimate: m.estimate - b.estimate, mesh: m.estimate, baseline: b.estimate,
    lo: m.lo !== undefined && b.hi !== undefined ? m.lo - b.hi : null,
    hi: m.hi !== undefined && b.lo !== undefined ? m.hi - b.lo : null,
  };
}

/**
 * vCPU per 1000 rps of one sidecar: CPU-seconds per 1000 requests (the rate cancels out). The
 * estimate pools every round; the interval is a t interval over the per-round values.
 */
export function cpuPer1000(rounds: readonly RoundUsage[], confidence: number = defaults.confidence): Estimate & { rounds: number[] } {
  const per = rounds.filter((r) => r.requests > 0).map((r) => (r.cpuSeconds * 1000) / r.requests);
  const requests = rounds.reduce((a, r) => a + r.requests, 0);
  const estimate = requests > 0 ? (rounds.reduce((a, r) => a + r.cpuSeconds, 0) * 1000) / requests : NaN;
  const t = meanInterval(per, 1 - confidence);
  return { estimate, lo: t.lo ?? null, hi: t.hi ?? null, rounds: per.map((x) => Number(x.toFixed(4))) };
}

export function summarizeOverhead(scenario: string, mesh: string, r: OverheadRounds, confidence: number = defaults.confidence): OverheadSummary {
  const base = pool(r.baseline);
  const meshed = pool(r.mesh);
  const lat = (x: LoadResult) => Object.fromEntries(QUANTILES.map((q) => [key(q), Number((x.histogram.getValueAtPercentile(q * 100) / 1000).toFixed(3))]));
  const baseUs = base.samples.map((s) => s.latencyUs);
  const meshUs = meshed.samples.map((s) => s.latencyUs);
  const addedMs = Object.fromEntries(QUANTILES.map((q) => {
    const a = addedLatency(baseUs, meshUs, q, confidence);
    return [key(q), { estimate: round3(a.estimate), lo: a.lo === null ? null : round3(a.lo), hi: a.hi === null ? null : round3(a.hi) }];
  }));
  const instances = [...new Set(r.usage.flat().map((u) => u.instance))];
  const sidecars = instances.map((instance) => {
    const rows = r.usage.map((round) => round.find((u) => u.instance === instance)).filter((u): u is RoundUsage => u !== undefined);
    const cpu = cpuPer1000(rows, confidence);
    return {
      instance,
      vcpuPer1000Rps: { estimate: round3(cpu.estimate), lo: cpu.lo === null ? null : round3(cpu.lo), hi: cpu.hi === null ? null : round3(cpu.hi), rounds: cpu.rounds },
      memoryMb: Number((Math.max(...rows.map((u) => u.rssBytes)) / 1_048_576).toFixed(1)),
    };
  });
  const errors = (x: LoadResult) => x.samples.filter((s) => s.status < 200 || s.status >= 300).length;
  const p = r.mesh[0]!.profile;
  return {
    scenario, service: r.service, mesh, baseline: 'none', engine: meshed.engine,
    conditions: { rps: r.rps, payloadBytes: p.payloadBytes, connections: p.maxInFlight, rounds: r.mesh.length, requestsPerRound: p.requests, warmupRequests: r.warmupRequests, protocol: 'HTTP/1.1', mtls: true },
    confidence,
    samples: { baseline: base.samples.length, mesh: meshed.samples.length },
    achievedRps: { baseline: Number(achievedRps(base).toFixed(1)), mesh: Number(achievedRps(meshed).toFixed(1)) },
    errors: { baseline: errors(base), mesh: errors(meshed) },
    latencyMs: { baseline: lat(base), mesh: lat(meshed) },
    addedMs, sidecars,
    histograms: { baseline: encodeHistogram(base.histogram), mesh: encodeHistogram(meshed.histogram) },
  };
}

function round3(x: number): number {
  return Number(x.toFixed(3));
}
