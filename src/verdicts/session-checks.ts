import { InfraError } from '../errors.js';
import { requestsByCode } from '../metrics/promql.js';
import type { ScenarioSession } from '../session/scenario.js';
import { quantileInterval, zFor } from './stats.js';
import type { Verdict } from './outcome.js';
import { defaults } from '../config.js';
import { formatMs } from '../util/duration.js';

const ALPHA = 1 - defaults.confidence;

/** The plaintext probe: every instance must answer the same way (reset / 403 vs an HTTP answer). */
export function checkPlaintext(s: ScenarioSession, expectRejected: boolean): Verdict {
  const p = s.probe;
  if (!p) throw new InfraError('no plaintext call was made before this check; add "When a plaintext client outside the mesh calls ..."');
  const claim = expectRejected ? 'the plaintext call is rejected' : 'the plaintext call succeeds';
  const observed = `${p.rejected} of ${p.attempts} instances rejected it: ${p.detail.join('; ')}`;
  if (p.attempts === 0) return { outcome: 'INCONCLUSIVE', claim, observed, samples: 0, explanation: 'no instance to call; zero samples never pass' };
  const ok = expectRejected ? p.rejected === p.attempts : p.rejected === 0;
  return { outcome: ok ? 'PASSED' : 'FAILED', claim, observed, samples: p.attempts, explanation: ok ? 'every instance behaved as claimed' : 'at least one instance did not' };
}

async function promDelta(s: ScenarioSession, service: string, windowMs: number): Promise<{ byCode: Map<string, number>; windowMs: number; query: string }> {
  const prom = await s.run.prometheus();
  if (s.promStartMs === undefined) throw new InfraError('Prometheus was not ready before the load; the scenario must name a Prometheus check so it starts first');
  const end = Date.now();
  await prom.scrapedAfter(end);
  const start = Math.max(s.promStartMs, end - windowMs);
  const query = requestsByCode(service);
  const [a, b] = await Promise.all([prom.query(query, start), prom.query(query, Date.now())]);
  const byCode = new Map<string, number>();
  for (const x of b) byCode.set(x.labels.response_code ?? '?', x.value);
  for (const x of a) byCode.set(x.labels.response_code ?? '?', (byCode.get(x.labels.response_code ?? '?') ?? 0) - x.value);
  return { byCode, windowMs: Date.now() - start, query };
}

export async function checkPromSuccessRate(s: ScenarioSession, service: string, min: number, windowMs: number): Promise<Verdict> {
  const { byCode, windowMs: w, query } = await promDelta(s, service, windowMs);
  const total = [...byCode.values()].reduce((a, b) => a + b, 0);
  const ok = [...byCode].filter(([c]) => !c.startsWith('5')).reduce((a, [, v]) => a + v, 0);
  const claim = `the mesh reports a success rate above ${min * 100}% for "${service}" over ${formatMs(windowMs)}`;
  const observed = `${ok} of ${total} requests non-5xx in Prometheus over the last ${(w / 1000).toFixed(1)}s (this scenario)`;
  const explanation = `from the increase of ${query} between the scenario start and now`;
  if (total === 0) return { outcome: 'INCONCLUSIVE', claim, observed, samples: 0, explanation: `${explanation}; the mesh reported no requests, zero samples never pass` };
  return { outcome: ok / total > min ? 'PASSED' : 'FAILED', claim, observed: `${observed} = ${((ok / total) * 100).toFixed(2)}%`, samples: total, explanation };
}

export async function checkPromCount(s: ScenarioSession, service: string, code: number, min: number): Promise<Verdict> {
  const { byCode, query } = await promDelta(s, service, 3_600_000);
  const n = Math.round(byCode.get(String(code)) ?? 0);
  const claim = `the mesh reports at least ${min} responses with status ${code} for "${service}"`;
  return { outcome: n >= min && n > 0 ? 'PASSED' : 'FAILED', claim, observed: `Prometheus counted ${n} responses with status ${code} in this scenario`, samples: n, explanation: `from the increase of ${query} between the scenario start and now` };
}

/** Added latency at a percentile: mesh minus baseline, interval from both quantile intervals (each at alpha/2). */
export function checkAddedLatency(s: ScenarioSession, q: number, boundMs: number): Verdict {
  const o = s.overhead;
  if (!o) throw new InfraError('no overhead run before this check; add "When N rps are sent to ... with and without the mesh"');
  const z = zFor(ALPHA / 2);
  const sorted = (xs: readonly { latencyUs: number }[]) => xs.map((x) => x.latencyUs / 1000).sort((a, b) => a - b);
  const m = quantileInterval(sorted(o.mesh.samples), q, z);
  const b = quantileInterval(sorted(o.baseline.samples), q, z);
  const claim = `the added p${Math.round(q * 100)} latency is below ${formatMs(boundMs)}`;
  const added = m.estimate - b.estimate;
  const hi = m.hi !== undefined && b.lo !== undefined ? m.hi - b.lo : undefined;
  const lo = m.lo !== undefined && b.hi !== undefined ? m.lo - b.hi : undefined;
  const observed = `mesh p${Math.round(q * 100)} ${m.estimate.toFixed(3)}ms - baseline ${b.estimate.toFixed(3)}ms = ${added.toFixed(3)}ms (${o.mesh.samples.length} / ${o.baseline.samples.length} samples)`;
  const interval = { lo: lo ?? null, hi: hi ?? null, confidence: 1 - ALPHA, unit: 'ms' };
  const band = { lo: -Infinity, hi: boundMs, unit: 'ms' };
  if (hi !== undefined && hi < boundMs) return { outcome: 'PASSED', claim, observed, samples: o.mesh.samples.length, interval, band, explanation: `upper bound of the added latency ${hi.toFixed(3)}ms < ${boundMs}ms` };
  if (lo !== undefined && lo >= boundMs) return { outcome: 'FAILED', claim, observed, samples: o.mesh.samples.length, interval, band, explanation: `lower bound of the added latency ${lo.toFixed(3)}ms >= ${boundMs}ms` };
  return { outcome: 'INCONCLUSIVE', claim, observed, samples: o.mesh.samples.length, interval, band, explanation: `the interval [${lo?.toFixed(3) ?? '?'}, ${hi?.toFixed(3) ?? '?'}]ms straddles ${boundMs}ms; send more requests` };
}

export function checkSidecarCpu(s: ScenarioSession, maxVcpuPer1000: number): Verdict {
  const o = s.overhead;
  if (!o) throw new InfraError('no overhead run before this check');
  const secs = o.mesh.durationMs / 1000;
  const rows = [...o.sidecars].map(([name, u]) => ({ name, per1000: u.requests > 0 ? (u.cpu / secs) / ((u.requests / secs) / 1000) : Infinity }));
  const worstRow = rows.reduce((a, r) => (r.per1000 > a.per1000 ? r : a), rows[0]!);
  const claim = `each sidecar uses less than ${maxVcpuPer1000} vCPU per 1000 rps`;
  const observed = rows.map((r) => `${r.name}: ${r.per1000.toFixed(3)} vCPU per 1000 rps`).join('; ');
  if (rows.length === 0) return { outcome: 'INCONCLUSIVE', claim, observed: 'no sidecar on the path', samples: 0, explanation: 'zero samples never pass' };
  return { outcome: worstRow.per1000 < maxVcpuPer1000 ? 'PASSED' : 'FAILED', claim, observed, samples: o.mesh.samples.length, explanation: `CPU seconds each sidecar reported over the mesh run, divided by the run time and by the rate it carried (worst: ${worstRow.name})` };
}

export function checkSidecarMemory(s: ScenarioSession, maxMb: number): Verdict {
  const o = s.overhead;
  if (!o) throw new InfraError('no overhead run before this check');
  const rows = [...o.sidecars].map(([name, u]) => ({ name, mb: u.rss / 1_048_576 }));
  const claim = `each sidecar uses less than ${maxMb} MB of memory`;
  if (rows.length === 0) return { outcome: 'INCONCLUSIVE', claim, observed: 'no sidecar on the path', samples: 0, explanation: 'zero samples never pass' };
  const worstRow = rows.reduce((a, r) => (r.mb > a.mb ? r : a), rows[0]!);
  return { outcome: worstRow.mb < maxMb ? 'PASSED' : 'FAILED', claim, observed: rows.map((r) => `${r.name}: ${r.mb.toFixed(1)} MB resident`).join('; '), samples: rows.length, explanation: `resident memory each sidecar process reported after the mesh run (worst: ${worstRow.name})` };
}

