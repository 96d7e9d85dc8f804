import { defaults } from '../config.js';
import { encodeHistogram } from '../load/histogram-codec.js';
import { achievedRps, newHistogram, type LoadResult } from '../load/result.js';
import { quantiles } from '../load/health.js';
import { meanInterval, medianInterval, quantileInterval, zFor } from '../verdicts/stats.js';

/**
 * Overhead = the same load with and without the mesh. The measurement follows the vendors'
 * method (documented-figures.md, "How the anchors measure"): the same fixed rate, payload and
 * connection limit both ways, a trimmed warm-up, and repeated runs pooled. Many short rounds
 * alternate (baseline first, then mesh first), so a drift of the machine lands on both sides
 * and cancels in each pair of neighbouring rounds; the spread of those pairs is part of the
 * interval, and the baseline's own spread between rounds is reported as the noise a claim's
 * margin must beat (docs/adr/0007-honest-verdicts-on-a-busy-machine.md).
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

/** Added latency at one quantile: the pooled estimate, its interval, and the baseline's own noise. */
export interface Added extends Estimate {
  /** Pooled mesh and baseline quantiles, ms. */
  mesh: number;
  baseline: number;
  /**
   * Half-width (ms) of the 95% sign-test interval of the median of the baseline's per-round quantile:
   * how far the no-mesh baseline itself moved from round to round. null with fewer than six rounds.
   */
  noise: number | null;
  /** Mesh minus baseline per pair of neighbouring rounds, ms. */
  pairs: number[];
}

/** The serialisable result of an overhead measurement (run record `overhead[]`, reports, compare). */
export interface OverheadSummary {
  scenario: string;
  service: string;
  /** The mesh measured and the no-mesh baseline it is compared with. */
  mesh: string;
  baseline: 'none';
  engine: string;
  /** `rounds`: the pairs used; `droppedRounds`: pairs left out because a load in them was not healthy. */
  conditions: {
    rps: number;
    payloadBytes: number;
    connections: number;
    rounds: number;
    droppedRounds?: number;
    requestsPerRound: number;
    warmupRequests: number;
    protocol: string;
    mtls: boolean;
    path?: string;
    /** Worker threads of each proxy on the path, where known. */
    proxyWorkers?: number;
    /** Conditions no published figure names (upstream Envoy, one machine, one node's bridge). */
    notes?: string[];
  };
  /** Set when the mesh's data plane is not sidecars (proxyless gRPC): vendors' sidecar figures do not apply. */
  dataPlane?: string;
  confidence: number;
  samples: { baseline: number; mesh: number };
  achievedRps: { baseline: number; mesh: number };
  errors: { baseline: number; mesh: number };
  latencyMs: { baseline: Record<string, number>; mesh: Record<string, number> };
  /**
   * Mesh minus baseline at p50/p90/p99: the pooled estimate, with the wider of the pooled interval
   * (each side's quantile interval at alpha/2) and the t interval over paired rounds.
   */
  addedMs: Record<string, Estimate>;
  /** The baseline's own round-to-round noise at p50/p90/p99 (see Added.noise); absent in older records. */
  noiseMs?: Record<string, number | null>;
  sidecars: { instance: string; vcpuPer1000Rps: Estimate & { rounds: number[] }; memoryMb: number }[];
  histograms: { baseline: string; mesh: string };
}

const key = (q: number) => `p${Math.round(q * 100)}`;

/** Pools repeated runs of one profile into one result (samples and histograms added, times summed, health the worst). */
export function pool(runs: readonly LoadResult[]): LoadResult {
  if (runs.length === 0) throw new Error('pool: no runs');
  const histogram = newHistogram();
  for (const r of runs) histogram.add(r.histogram);
  const samples = runs.flatMap((r) => r.samples);
  const first = runs[0]!;
  const durationMs = runs.reduce((a, r) => a + r.durationMs, 0);
  const dropped = runs.reduce((a, r) => a + r.dropped, 0);
  const arrivals = runs.reduce((a, r) => a + r.sent + r.dropped, 0);
  const sentRates = runs.map((r) => r.generator.sentRps).filter((x): x is number => x !== null);
  const generator = {
    askedRps: first.generator.askedRps, sentRps: sentRates.length ? Math.min(...sentRates) : null,
    achievedRps: durationMs > 0 ? Number(((samples.length * 1000) / durationMs).toFixed(1)) : 0,
    sendLagMs: first.generator.sendLagMs ? quantiles(samples.map((s) => (s.lagUs ?? 0) / 1000)) : null,
    dropped, droppedShare: arrivals > 0 ? dropped / arrivals : 0,
  };
  const sick = runs.map((r) => r.health).filter((h) => h !== undefined && !h.healthy);
  const health = sick[0] ?? runs.find((r) => r.health)?.health;
  return {
    engine: first.engine, profile: { ...first.profile, requests: runs.reduce((a, r) => a + r.profile.requests, 0) }, startedAt: first.startedAt,
    durationMs, sent: runs.reduce((a, r) => a + r.sent, 0), dropped, stoppedEarly: false, samples, histogram, timeline: joinTimelines(runs), generator,
    ...(health ? { health: { ...health, ...generator, healthy: sick.length === 0, reasons: [...new Set(sick.flatMap((h) => h!.reasons))] } } : {}),
  };
}

/** The rounds' per-second timelines one after the other, seconds counted from the first round's start. */
function joinTimelines(runs: readonly LoadResult[]): LoadResult['timeline'] {
  const out: LoadResult['timeline'] = [];
  for (const r of runs) for (const t of r.timeline) out.push({ ...t, second: out.length });
  return out;
}

/** Added latency at quantile q: mesh minus baseline, bounds from each side's interval at alpha/2. */
export function addedLatency(
  baselineUs: readonly number[],
  meshUs: readonly number[],
  q: number,
  confidence: number = defaults.confidence,
): Estimate & { mesh: number; baseline: number } {
  const z = zFor((1 - confidence) / 2);
  const m = quantileInterval(sortedMs(meshUs), q, z);
  const b = quantileInterval(sortedMs(baselineUs), q, z);
  return {
    estimate: m.estimate - b.estimate,
    mesh: m.estimate,
    baseline: b.estimate,
    lo: m.lo !== undefined && b.hi !== undefined ? m.lo - b.hi : null,
    hi: m.hi !== undefined && b.lo !== undefined ? m.hi - b.lo : null,
  };
}

/**
 * Added latency at quantile q over alternating rounds. The pooled interval assumes every request
 * is drawn from one distribution; when the machine drifts between rounds it is too narrow, so the
 * interval is widened to the paired rounds' interval where that is wider: the sign-test interval
 * for the median of the pairs' differences, which a stalled pair at either end does not move (a t
 * interval did: one stall in ten rounds made it four times wider).
 */
export function addedOverRounds(
  baseline: readonly LoadResult[],
  mesh: readonly LoadResult[],
  q: number,
  confidence: number = defaults.confidence,
  /** The level of the baseline's own noise between rounds (its median's interval). */
  noiseConfidence: number = confidence,
): Added {
  const us = (rs: readonly LoadResult[]) => rs.flatMap((r) => r.samples.map((s) => s.latencyUs));
  const pooled = addedLatency(us(baseline), us(mesh), q, confidence);
  const at = (r: LoadResult) => quantileInterval(sortedMs(r.samples.map((s) => s.latencyUs)), q, 0).estimate;
  const n = Math.min(baseline.length, mesh.length);
  const pairs = Array.from({ length: n }, (_, i) => at(mesh[i]!) - at(baseline[i]!)).filter(Number.isFinite);
  const paired = medianInterval(pairs, 1 - confidence);
  const base = medianInterval(baseline.map(at).filter(Number.isFinite), 1 - noiseConfidence);
  const lo = pooled.lo === null ? null : paired.lo === undefined ? pooled.lo : Math.min(pooled.lo, paired.lo);
  const hi = pooled.hi === null ? null : paired.hi === undefined ? pooled.hi : Math.max(pooled.hi, paired.hi);
  return { ...pooled, lo, hi, noise: base.hi === undefined || base.lo === undefined ? null : (base.hi - base.lo) / 2, pairs };
}

function sortedMs(xs: readonly number[]): number[] {
  return xs.map((x) => x / 1000).sort((a, b) => a - b);
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

/**
 * The pairs of neighbouring rounds an overhead verdict uses: those whose loads were both healthy,
 * when they are at least half of the pairs (a stall of the machine in one round would otherwise
 * move the whole comparison); else every pair, and the verdict carries the rounds' health.
 */
export function usableRounds(r: OverheadRounds): OverheadRounds & { dropped: number } {
  const healthy = (x: LoadResult | undefined) => x?.health?.healthy !== false;
  const keep = r.mesh.map((m, i) => healthy(m) && healthy(r.baseline[i]));
  const kept = keep.filter(Boolean).length;
  if (kept === keep.length || kept < Math.ceil(keep.length / 2)) return { ...r, dropped: 0 };
  const pick = <T>(xs: readonly T[]) => xs.filter((_, i) => keep[i]);
  return { ...r, baseline: pick(r.baseline), mesh: pick(r.mesh), usage: pick(r.usage), dropped: keep.length - kept };
}

/** What the mesh side of an overhead run goes through, when it is not two sidecars over HTTP/1.1 with mTLS. */
export interface DataPath {
  protocol: string;
  /** In words, e.g. "mTLS in the gRPC client and server, no sidecar". */
  path: string;
  dataPlane: string;
}

export function summarizeOverhead(
  scenario: string, mesh: string, all: OverheadRounds, confidence: number = defaults.confidence, dataPath?: DataPath,
  how: { proxyWorkers?: number; notes?: readonly string[] } = {},
): OverheadSummary {
  const r = usableRounds(all);
  const base = pool(r.baseline);
  const meshed = pool(r.mesh);
  const lat = (x: LoadResult) => Object.fromEntries(QUANTILES.map((q) => [key(q), Number((x.histogram.getValueAtPercentile(q * 100) / 1000).toFixed(3))]));
  const added = QUANTILES.map((q) => [key(q), addedOverRounds(r.baseline, r.mesh, q, confidence)] as const);
  const addedMs = Object.fromEntries(
    added.map(([k, a]) => [k, { estimate: round3(a.estimate), lo: a.lo === null ? null : round3(a.lo), hi: a.hi === null ? null : round3(a.hi) }]),
  );
  const noiseMs = Object.fromEntries(added.map(([k, a]) => [k, a.noise === null ? null : round3(a.noise)]));
  const instances = [...new Set(r.usage.flat().map((u) => u.instance))];
  const sidecars = instances.map((instance) => {
    const rows = r.usage.map((round) => round.find((u) => u.instance === instance)).filter((u): u is RoundUsage => u !== undefined);
    const cpu = cpuPer1000(rows, confidence);
    return {
      instance,
      vcpuPer1000Rps: { estimate: round3(cpu.estimate), lo: cpu.lo === null ? null : round3(cpu.lo), hi: cpu.hi === null ? null : round3(cpu.hi), rounds: cpu.rounds },
      // Memory is not disturbed by a stalled round: the largest resident size of every round.
      memoryMb: Number((Math.max(...all.usage.flatMap((round) => round.filter((u) => u.instance === instance).map((u) => u.rssBytes))) / 1_048_576).toFixed(1)),
    };
  });
  const errors = (x: LoadResult) => x.samples.filter((s) => s.status < 200 || s.status >= 300).length;
  const p = r.mesh[0]!.profile;
  return {
    scenario, service: r.service, mesh, baseline: 'none', engine: meshed.engine,
    conditions: {
      rps: r.rps, payloadBytes: p.payloadBytes, connections: p.maxInFlight, rounds: r.mesh.length, droppedRounds: r.dropped,
      requestsPerRound: p.requests, warmupRequests: r.warmupRequests,
      protocol: dataPath?.protocol ?? 'HTTP/1.1', mtls: true, path: dataPath?.path ?? 'mTLS between sidecars',
      ...(how.proxyWorkers !== undefined ? { proxyWorkers: how.proxyWorkers } : {}), ...(how.notes?.length ? { notes: [...how.notes] } : {}),
    },
    ...(dataPath ? { dataPlane: dataPath.dataPlane } : {}),
    confidence,
    samples: { baseline: base.samples.length, mesh: meshed.samples.length },
    achievedRps: { baseline: Number(achievedRps(base).toFixed(1)), mesh: Number(achievedRps(meshed).toFixed(1)) },
    errors: { baseline: errors(base), mesh: errors(meshed) },
    latencyMs: { baseline: lat(base), mesh: lat(meshed) },
    addedMs, noiseMs, sidecars,
    histograms: { baseline: encodeHistogram(base.histogram), mesh: encodeHistogram(meshed.histogram) },
  };
}

function round3(x: number): number {
  return Number(x.toFixed(3));
}
