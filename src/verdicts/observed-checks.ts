import { InfraError } from '../errors.js';
import { addedOverRounds, usableRounds, type OverheadRounds, type OverheadSummary } from '../overhead/overhead.js';
import type { LoadHealth } from '../load/health.js';
import type { CheckFeature } from '../meshes/types.js';
import { guardVerdict } from './infrastructure.js';
import type { Verdict } from './outcome.js';
import { defaults } from '../config.js';
import { formatMs } from '../util/duration.js';
import { meanInterval } from './stats.js';

const ALPHA = 1 - defaults.confidence;

/** What the mesh's metrics counted of the requests to one service in a scenario, by response code. */
export interface MeshCounts {
  byCode: Map<string, number>;
  /** The window the counts cover, in ms. */
  windowMs: number;
  /** The PromQL they came from. */
  query: string;
}

/**
 * What a scenario observed, beside the load client's samples: the checks here decide from it. The
 * scenario session provides it.
 */
export interface Observed {
  /** Why a step needing this capability cannot be checked here; undefined when it can. */
  lacks(feature: CheckFeature): string | undefined;
  readonly probe?: { attempts: number; rejected: number; detail: string[] };
  readonly overhead?: OverheadSummary;
  readonly overheadRounds?: OverheadRounds;
  /** The health of the last load. */
  readonly lastHealth?: LoadHealth;
  /** What the mesh's metrics counted for a service in this scenario, over at most the last `windowMs`. */
  meshCounts(service: string, windowMs: number): Promise<MeshCounts>;
}

/** The plaintext probe: every instance must answer the same way (reset / 403 vs an HTTP answer). */
export function checkPlaintext(s: Observed, expectRejected: boolean): Verdict {
  const p = s.probe;
  if (!p) throw new InfraError('no plaintext call was made before this check; add "When a plaintext client outside the mesh calls ..."');
  const claim = expectRejected ? 'the plaintext call is rejected' : 'the plaintext call succeeds';
  const observed = `${p.rejected} of ${p.attempts} instances rejected it: ${p.detail.join('; ')}`;
  if (p.attempts === 0) return { outcome: 'INCONCLUSIVE', claim, observed, samples: 0, explanation: 'no instance to call; zero samples never pass' };
  const ok = expectRejected ? p.rejected === p.attempts : p.rejected === 0;
  return { outcome: ok ? 'PASSED' : 'FAILED', claim, observed, samples: p.attempts, explanation: ok ? 'every instance behaved as claimed' : 'at least one instance did not' };
}

/** A claim this data plane cannot be asked: NOT_SUPPORTED with the reason (never PASSED, never FAILED). */
function notSupported(claim: string, reason: string): Verdict {
  return { outcome: 'NOT_SUPPORTED', claim, observed: 'not checked', samples: 0, explanation: reason };
}

export async function checkPromSuccessRate(s: Observed, service: string, min: number, windowMs: number): Promise<Verdict> {
  const claim = `the mesh reports a success rate above ${min * 100}% for "${service}" over ${formatMs(windowMs)}`;
  const why = s.lacks('mesh-metrics');
  if (why) return notSupported(claim, why);
  const { byCode, windowMs: w, query } = await s.meshCounts(service, windowMs);
  const total = [...byCode.values()].reduce((a, b) => a + b, 0);
  const ok = [...byCode].filter(([c]) => !c.startsWith('5')).reduce((a, [, v]) => a + v, 0);
  const observed = `${ok} of ${total} requests non-5xx in Prometheus over the last ${(w / 1000).toFixed(1)}s (this scenario)`;
  const explanation = `from the increase of ${query} between the scenario start and now`;
  if (total === 0) return { outcome: 'INCONCLUSIVE', claim, observed, samples: 0, explanation: `${explanation}; the mesh reported no requests, zero samples never pass` };
  const v: Verdict = { outcome: ok / total > min ? 'PASSED' : 'FAILED', claim, observed: `${observed} = ${((ok / total) * 100).toFixed(2)}%`, samples: total, explanation };
  return guardVerdict(v, { kind: 'rate' }, [s.lastHealth]);
}

export async function checkPromCount(s: Observed, service: string, code: number, min: number): Promise<Verdict> {
  const claim = `the mesh reports at least ${min} responses with status ${code} for "${service}"`;
  const why = s.lacks('mesh-metrics');
  if (why) return notSupported(claim, why);
  const { byCode, query } = await s.meshCounts(service, 3_600_000);
  const n = Math.round(byCode.get(String(code)) ?? 0);
  return { outcome: n >= min && n > 0 ? 'PASSED' : 'FAILED', claim, observed: `Prometheus counted ${n} responses with status ${code} in this scenario`, samples: n, explanation: `from the increase of ${query} between the scenario start and now` };
}

function overheadOf(s: Observed) {
  const o = s.overhead;
  if (!o || !s.overheadRounds) throw new InfraError('no overhead run before this check; add "When N rps are sent to ... with and without the mesh"');
  const rounds = usableRounds(s.overheadRounds);
  const dropped = rounds.dropped ? `; ${rounds.dropped} of ${rounds.dropped + rounds.mesh.length} pairs of rounds left out, a load in them not healthy` : '';
  return { o, rounds, dropped, health: [...rounds.baseline, ...rounds.mesh].map((r) => r.health) };
}

/**
 * Added latency at a percentile: mesh minus baseline over the alternating rounds, with the wider of
 * the pooled and the paired-rounds interval. The baseline's own round-to-round noise must be
 * smaller than the claim's margin (bound minus estimate), or the claim is not decided.
 */
export function checkAddedLatency(s: Observed, q: number, boundMs: number): Verdict {
  const { o, rounds, health, dropped } = overheadOf(s);
  // A one-sided claim: each bound one-sided at the stated level (the two-sided interval at 1 - 2 alpha);
  // the baseline's own noise is measured as before, at the stated level two-sided.
  const a = addedOverRounds(rounds.baseline, rounds.mesh, q, 1 - 2 * ALPHA, 1 - ALPHA);
  const p = `p${Math.round(q * 100)}`;
  const claim = `the added ${p} latency is below ${formatMs(boundMs)}`;
  const errors = o.errors.mesh + o.errors.baseline;
  const noise = a.noise === null ? 'no baseline noise figure (fewer than 6 rounds)' : `baseline noise ±${a.noise.toFixed(3)}ms between rounds`;
  const observed = `mesh ${p} ${a.mesh.toFixed(3)}ms - baseline ${a.baseline.toFixed(3)}ms = ${a.estimate.toFixed(3)}ms (${o.samples.mesh} / ${o.samples.baseline} samples over ${o.conditions.rounds} alternating rounds at ${o.conditions.rps} rps${dropped}; ${noise}${errors ? `; ${o.errors.mesh} mesh and ${o.errors.baseline} baseline errors` : ''})`;
  const interval = { lo: a.lo, hi: a.hi, confidence: 1 - ALPHA, unit: 'ms', oneSided: true };
  const band = { lo: -Infinity, hi: boundMs, unit: 'ms' };
  const n = o.samples.mesh;
  const margin = Math.abs(boundMs - a.estimate);
  const verdict = (): Verdict => {
    if (n === 0 || o.samples.baseline === 0) return { outcome: 'INCONCLUSIVE', claim, observed, samples: 0, explanation: 'zero samples never pass' };
    if (errors > 0) return { outcome: 'FAILED', claim, observed, samples: n, interval, band, explanation: 'requests failed during the overhead run, so the latencies do not compare like with like' };
    if (a.noise !== null && a.noise >= margin) return { outcome: 'INCONCLUSIVE', claim, observed, samples: n, interval, band, explanation: `the baseline itself moved by ±${a.noise.toFixed(3)}ms between rounds, at least the claim's margin of ${margin.toFixed(3)}ms (bound ${boundMs}ms - estimate ${a.estimate.toFixed(3)}ms): the machine is too noisy to decide this bound` };
    if (a.hi !== null && a.hi < boundMs) return { outcome: 'PASSED', claim, observed, samples: n, interval, band, explanation: `upper bound of the added latency ${a.hi.toFixed(3)}ms < ${boundMs}ms, and the baseline noise is below the margin of ${margin.toFixed(3)}ms` };
    if (a.lo !== null && a.lo >= boundMs) return { outcome: 'FAILED', claim, observed, samples: n, interval, band, explanation: `lower bound of the added latency ${a.lo.toFixed(3)}ms >= ${boundMs}ms, and the baseline noise is below the margin of ${margin.toFixed(3)}ms` };
    return { outcome: 'INCONCLUSIVE', claim, observed, samples: n, interval, band, explanation: `the one-sided bounds [${a.lo?.toFixed(3) ?? '?'}, ${a.hi?.toFixed(3) ?? '?'}]ms straddle ${boundMs}ms; send more requests` };
  };
  return guardVerdict(verdict(), 'overhead', health);
}

/** CPU per 1000 rps of each sidecar on the path: PASS when every upper bound (t interval over the rounds) is under the bar. */
export function checkSidecarCpu(s: Observed, maxVcpuPer1000: number): Verdict {
  const claim = `each sidecar uses less than ${maxVcpuPer1000} vCPU per 1000 rps`;
  const why = s.lacks('sidecar-usage');
  if (why) return notSupported(claim, why);
  const { o, health, dropped } = overheadOf(s);
  if (o.sidecars.length === 0) return { outcome: 'INCONCLUSIVE', claim, observed: 'no sidecar on the path', samples: 0, explanation: 'zero samples never pass' };
  // One-sided bounds at the stated level over the rounds (the summary's interval is two-sided, for the report).
  const rows = o.sidecars.map((c) => {
    const t = meanInterval(c.vcpuPer1000Rps.rounds, 2 * ALPHA);
    return { name: c.instance, ...c.vcpuPer1000Rps, lo: t.lo ?? null, hi: t.hi ?? null };
  });
  const fmt = (x: number | null) => (x === null ? '?' : x.toFixed(3));
  const observed = rows.map((r) => `${r.name}: ${r.estimate.toFixed(3)} vCPU per 1000 rps [${fmt(r.lo)}, ${fmt(r.hi)}] (rounds: ${r.rounds.join(', ')})`).join('; ');
  const worst = rows.reduce((a, r) => ((r.hi ?? Infinity) > (a.hi ?? Infinity) ? r : a), rows[0]!);
  const interval = { lo: worst.lo, hi: worst.hi, confidence: 1 - ALPHA, unit: 'vCPU per 1000 rps', oneSided: true };
  const band = { lo: 0, hi: maxVcpuPer1000, unit: 'vCPU per 1000 rps' };
  const how = `CPU-seconds each sidecar process reported per 1000 requests it carried, per round (= vCPU per 1000 rps); one-sided t bounds over the ${o.conditions.rounds} rounds${dropped}`;
  const samples = o.samples.mesh;
  // A sidecar that carried requests but whose CPU counter moved in no round was not measured: its
  // counter is coarser than the rounds (cAdvisor's, read through the kubelet, moves every 10-15 s).
  // Zero CPU is not a reading, and zero samples never pass.
  const unmeasured = rows.filter((r) => r.rounds.length > 0 && r.rounds.every((x) => x === 0)).map((r) => r.name);
  const verdict = (): Verdict => {
    if (unmeasured.length && samples > 0) return { outcome: 'INCONCLUSIVE', claim, observed, samples: 0, explanation: `${how}; the CPU counter of ${unmeasured.join(', ')} did not move in any round while it carried requests: rounds shorter than the counter's update interval measure nothing (longer rounds: a longer duration in the step)` };
    if (rows.some((r) => r.lo !== null && r.lo >= maxVcpuPer1000)) return { outcome: 'FAILED', claim, observed, samples, interval, band, explanation: `${how}; a lower bound is at or above ${maxVcpuPer1000}` };
    if (rows.every((r) => r.hi !== null && r.hi < maxVcpuPer1000)) return { outcome: 'PASSED', claim, observed, samples, interval, band, explanation: `${how}; every upper bound is below ${maxVcpuPer1000} (worst: ${worst.name})` };
    return { outcome: 'INCONCLUSIVE', claim, observed, samples, interval, band, explanation: `${how}; the bounds of ${worst.name} straddle ${maxVcpuPer1000}` };
  };
  return guardVerdict(verdict(), 'overhead', health);
}

export function checkSidecarMemory(s: Observed, maxMb: number): Verdict {
  const claim = `each sidecar uses less than ${maxMb} MB of memory`;
  const why = s.lacks('sidecar-usage');
  if (why) return notSupported(claim, why);
  const { o } = overheadOf(s);
  if (o.sidecars.length === 0) return { outcome: 'INCONCLUSIVE', claim, observed: 'no sidecar on the path', samples: 0, explanation: 'zero samples never pass' };
  const worst = o.sidecars.reduce((a, r) => (r.memoryMb > a.memoryMb ? r : a), o.sidecars[0]!);
  return {
    outcome: worst.memoryMb < maxMb ? 'PASSED' : 'FAILED', claim, observed: o.sidecars.map((r) => `${r.instance}: ${r.memoryMb.toFixed(1)} MB resident`).join('; '),
    samples: o.sidecars.length * o.conditions.rounds, explanation: `largest resident memory each sidecar process reported after any of the ${o.conditions.rounds} mesh rounds (worst: ${worst.instance})`,
  };
}
