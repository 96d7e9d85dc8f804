import { InfraError } from '../errors.js';
import { defaults } from '../config.js';
import { profile } from '../load/profile.js';
import { pool, summarizeOverhead, type OverheadRounds, type OverheadSummary } from '../overhead/overhead.js';
import type { Undo } from '../util/undo.js';
import type { LoadProfile } from '../load/profile.js';
import type { LoadResult } from '../load/result.js';
import type { SidecarStats, Target, Workload } from '../targets/ports.js';
import { sleep } from '../util/eventually.js';
import type { Run } from './run.js';

/** The scenario an overhead run belongs to: its target and run, its loads, and how it sends one. */
export interface OverheadHost {
  readonly name: string;
  readonly run: Run;
  readonly target: Target;
  readonly loads: Record<string, unknown>[];
  /** A load through the mesh, or straight to an instance (`direct`); `label` undefined = a silent warm-up. */
  load(p: LoadProfile, how?: { direct?: Workload; label?: string; announceHealth?: boolean }): Promise<LoadResult>;
}

/**
 * Same rate and shape with and without the mesh: straight to the workload (baseline) and through
 * two sidecars, in alternating rounds after a trimmed warm-up each way; the rounds are pooled. The
 * route that pins mesh traffic to the baseline's instance is handed to `remember` as soon as it is
 * applied, so the scenario's cleanup takes it back whatever happens next.
 */
/** The requests' shape, where the scenario names it: a body of this many bytes (a POST), over this many connections. */
export interface OverheadShape {
  payloadBytes: number;
  connections: number;
}

export async function measureOverhead(
  s: OverheadHost,
  service: string,
  rps: number,
  durationMs: number,
  remember: (what: string, undo: Undo) => void,
  shape?: OverheadShape,
): Promise<{ rounds: OverheadRounds; summary: OverheadSummary }> {
  const target = s.target;
  const inst = target.workloads.instancesOf(service)[0];
  if (!inst) throw new InfraError(`no instance of "${service}" is running`);
  const rounds = Math.max(2, Math.floor(Number(process.env.MESHCHECK_OVERHEAD_ROUNDS) || defaults.overheadRounds));
  const perRound = Math.max(1, Math.round((rps * durationMs) / 1000 / rounds));
  // A data plane's own client (proxyless gRPC: target.dataPath) sends no request body: said, not pretended.
  const bodyless = shape?.payloadBytes && target.dataPath ? [`${shape.payloadBytes}-byte requests asked for; the ${target.dataPath.dataPlane} client sends no body`] : [];
  const bytes = bodyless.length ? 0 : (shape?.payloadBytes ?? 0);
  const shaped = shape ? { payloadBytes: bytes, connections: shape.connections, ...(bytes ? { method: 'POST' } : {}) } : {};
  const base = profile({ service, rps, requests: perRound, ...shaped });
  const meshed = profile({ service, rps, requests: perRound, ...shaped, headers: { 'x-meshcheck-overhead': '1' } });
  // Pin mesh traffic to the instance the baseline calls, so only the sidecars differ.
  const { undo } = await target.policy.apply([{ kind: 'HeaderRoute', service, header: 'x-meshcheck-overhead', value: '1', version: inst.version }]);
  remember('overhead pinning route', undo);
  // Only where there are sidecars to measure: without (no mesh, proxyless) the sidecar claims are
  // NOT_SUPPORTED and the latency claims still decided.
  const sidecars = !target.lacks('sidecar-usage');
  // Where each load would bring its own caller (a Job's pod), one is held for the warm-up and the
  // rounds, so the caller's sidecar is measured beside the destination's, as on the local target.
  if (sidecars && target.traffic.holdCaller) remember('the caller pod held for the overhead rounds', await target.traffic.holdCaller());
  // Warm-up is trimmed (connections, TLS sessions, JIT), as the vendors' benchmarks do.
  const warmupRequests = Math.round((rps * defaults.overheadWarmupMs) / 1000);
  await s.load({ ...base, requests: warmupRequests }, { direct: inst });
  await s.load({ ...meshed, requests: warmupRequests });
  const onPath = new Set([target.traffic.callerInstance(), inst.name].filter((x) => x !== undefined));
  const usage = async () => (sidecars ? ((await target.observations?.sidecarStats()) ?? []) : []);
  // Counters collected periodically (cAdvisor: every housekeeping interval) can be older than the
  // load that just ended; a round read on them would get its CPU a second late, some rounds none and
  // some twice. So after a load the counters are read until each sidecar's was collected again.
  const settled = async () => {
    const first = await usage();
    const at = new Map(first.map((x) => [x.instance, x.collectedAt]));
    const stale = (u: SidecarStats[]) => u.some((x) => onPath.has(x.instance) && x.collectedAt !== undefined && x.collectedAt <= (at.get(x.instance) ?? 0));
    let u = first;
    for (const until = Date.now() + defaults.usageRefreshWaitMs; stale(u) && Date.now() < until;) {
      await sleep(200);
      u = await usage();
    }
    return u;
  };
  const out: OverheadRounds = { service, rps, warmupRequests, baseline: [], mesh: [], usage: [] };
  const nth = (i: number) => (i < rounds ? `${i + 1}/${rounds}` : `${i + 1} (in place of one not healthy)`);
  const runBaseline = async (i: number) => out.baseline.push(await s.load(base, { direct: inst, label: `baseline ${nth(i)}`, announceHealth: false }));
  // The warm-up's CPU collected before the first round reads its counters.
  await settled();
  const runMesh = async (i: number) => {
    const before = await usage();
    const r = await s.load(meshed, { label: `mesh ${nth(i)}`, announceHealth: false });
    const after = await settled();
    out.mesh.push(r);
    out.usage.push(
      after
        .filter((a) => onPath.has(a.instance))
        .map((a) => ({
          instance: a.instance,
          cpuSeconds: a.cpuSeconds - before.find((b) => b.instance === a.instance)!.cpuSeconds,
          rssBytes: a.rssBytes,
          requests: r.samples.length,
        })),
    );
  };
  // A pair with a load that was not healthy is left out of the verdicts (usableRounds); another pair
  // takes its place while the bound allows, so a busy spell of the machine costs time, not the verdict.
  const healthy = (r: LoadResult | undefined) => r?.health?.healthy !== false;
  const healthyPairs = () => out.mesh.filter((m, i) => healthy(m) && healthy(out.baseline[i])).length;
  const most = rounds * defaults.overheadRoundsMaxFactor;
  for (let i = 0; i < most && (i < rounds || healthyPairs() < rounds); i++) {
    // Alternate the order, so a drift of the machine does not fall on one side only.
    if (i % 2 === 0) {
      await runBaseline(i);
      await runMesh(i);
    } else {
      await runMesh(i);
      await runBaseline(i);
    }
  }
  const sick = [...out.baseline, ...out.mesh].filter((r) => r.health && !r.health.healthy);
  const ran = out.mesh.length;
  if (s.run.settings.progress && sick.length) {
    const extra = ran > rounds ? `; ${ran - rounds} more pairs run in their place (at most ${most - rounds})` : '';
    process.stderr.write(`  ${s.name}: ${sick.length} of ${2 * ran} rounds not healthy, e.g. ${sick[0]!.health!.reasons.join('; ')}${extra}\n`);
  }
  s.loads.push(s.run.addLoad(`${s.name} (baseline)`, pool(out.baseline)), s.run.addLoad(`${s.name} (mesh)`, pool(out.mesh)));
  const m = target.mesh;
  const summary = summarizeOverhead(s.name, m.dataPlane ? `${m.name} (${m.dataPlane})` : s.run.settings.mesh, out, undefined, target.dataPath, {
    proxyWorkers: target.proxyWorkers, notes: [...(target.measurementNotes ?? []), ...bodyless],
  });
  return { rounds: out, summary };
}
