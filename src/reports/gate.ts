import { decodeHistogram } from '../load/histogram-codec.js';
import { histogramQuantileInterval, medianInterval, zFor } from '../verdicts/stats.js';
import { defaults } from '../config.js';
import type { Estimate, OverheadSummary } from '../overhead/overhead.js';
import type { Verdict } from '../verdicts/outcome.js';
import type { RunRecord } from './run-record.js';

/**
 * The regression gate between a baseline run and a candidate run (an upgrade, a new mesh config):
 * every figure both runs measured, side by side with its interval. A figure regressed when the
 * change is significant (the candidate's interval wholly above the baseline's, each at the run's
 * confidence, so the two differ at least at that level) and beyond that figure's threshold. A figure
 * with no interval (memory: one reading per sidecar) is shown and never decides the gate. Verdicts
 * are compared by outcome: a claim that held and no longer does is a regression. Runs that cannot be
 * compared (other scenarios, other load engines, a scenario left undecided) are unusable input.
 *
 * One run's intervals are that run's sampling error only. Two runs of the same mesh differ by more
 * (docs/adr/0014-regression-gate.md), for two reasons the gate allows for:
 * - a stall catches a run of consecutive requests, so a load's latencies are fewer independent
 *   looks than requests: a load of D ms counts as at most D / stallMs looks, and its quantile
 *   intervals widen to match;
 * - what moves between runs (placement, caches, the machine's other work): with a second baseline
 *   run, a figure regresses only when it regressed against both baseline runs, and a claim only
 *   when the candidate's outcome is worse than both.
 */

export interface GateThresholds {
  /** Latency quantiles of each load (p50, p90, p99): largest relative increase tolerated. */
  latency: number;
  /** Added latency of an overhead measurement (mesh minus baseline): largest increase tolerated, ms. */
  addedMs: number;
  /** Sidecar CPU per 1000 rps: largest relative increase tolerated. */
  cpu: number;
  /** Sidecar memory: largest relative increase shown as beyond (one reading: never decides). */
  memory: number;
  /** Median time from a policy change to the data plane having it: largest relative increase tolerated. */
  convergence: number;
  /** Length of the longest stall a load's latencies are allowed to share, ms (0: every request independent). */
  stallMs: number;
}

export const GATE_DEFAULTS: GateThresholds = { latency: 0.1, addedMs: 0.5, cpu: 0.2, memory: 0.2, convergence: 0.5, stallMs: 100 };

export type FigureKind = 'latency' | 'added latency' | 'sidecar CPU' | 'sidecar memory' | 'convergence';

export interface GateFigure {
  /** The figure's name, the same in every pair of runs it is computed for ("Traffic is split #1 p99"). */
  id: string;
  kind: FigureKind;
  /** What was measured, e.g. "Traffic is split #1 p99" or "overhead #1 sidecar reviews-v1". */
  what: string;
  unit: string;
  baseline: Estimate;
  candidate: Estimate;
  /** Relative change (candidate / baseline - 1), or the difference in `unit` for added latency. */
  change: number;
  relative: boolean;
  threshold: number;
  /** null: no interval on one side, so no test (memory; too few samples). */
  significant: boolean | null;
  beyondThreshold: boolean;
  regression: boolean;
  /** With a second baseline run: the figure there, and whether the candidate regressed against it too. */
  again?: { baseline: Estimate; change: number; regression: boolean };
}

export interface VerdictChange {
  scenario: string;
  claim: string;
  baseline: Pick<Verdict, 'outcome' | 'observed' | 'interval'>;
  candidate: Pick<Verdict, 'outcome' | 'observed' | 'interval'>;
  change: 'same' | 'regressed' | 'improved' | 'changed';
  /** With a second baseline run: its outcome of the claim. */
  again?: Verdict['outcome'];
}

/** A run as the gate names it; `controlPlane`: the images the mesh's control plane ran, where the target read them. */
export interface GateRun {
  runId: string;
  mesh: string;
  target: string;
  engine: string;
  controlPlane?: string;
}

export interface GateResult {
  baseline: GateRun;
  /** The second baseline run, when one was given. */
  baselineAgain?: GateRun;
  candidate: GateRun;
  confidence: number;
  thresholds: GateThresholds;
  figures: GateFigure[];
  verdicts: VerdictChange[];
  /** Loads (scenario #n) that only one run sent: nothing to compare them with. */
  unmatchedLoads: { baseline: string[]; candidate: string[] };
  /** Why the runs cannot be gated (exit 2); empty when they can. */
  unusable: string[];
  /** One line per regressed figure or verdict. */
  regressions: string[];
  /** 0 no regression, 1 a regression, 2 unusable input. */
  code: 0 | 1 | 2;
}

const key = (scenario: string, n: number) => `${scenario} #${n}`;

/** Items keyed by scenario and their order within it ("Traffic is split #1"). */
function byScenario<T>(xs: readonly T[], scenarioOf: (x: T) => string): Map<string, T> {
  const out = new Map<string, T>();
  const seen = new Map<string, number>();
  for (const x of xs) {
    const s = scenarioOf(x);
    const n = (seen.get(s) ?? 0) + 1;
    seen.set(s, n);
    out.set(key(s, n), x);
  }
  return out;
}

const undef = (x: number | undefined) => (x === undefined ? null : x);
const ms1000 = (us: number | undefined) => (us === undefined ? null : us / 1000);

function figure(kind: FigureKind, id: string, detail: string, unit: string, baseline: Estimate, candidate: Estimate, threshold: number, relative = true): GateFigure {
  const change = relative ? candidate.estimate / baseline.estimate - 1 : candidate.estimate - baseline.estimate;
  const significant = candidate.lo === null || baseline.hi === null ? null : candidate.lo > baseline.hi;
  const beyondThreshold = Number.isFinite(change) && change > threshold;
  const what = detail ? `${id} (${detail})` : id;
  return { id, kind, what, unit, baseline, candidate, change, relative, threshold, significant, beyondThreshold, regression: significant === true && beyondThreshold };
}

/** The pod-independent name of a sidecar: a Deployment pod's hashes and an instance's ordinal dropped. */
export function sidecarRole(instance: string): string {
  return instance.replace(/-[a-z0-9]{6,10}-[a-z0-9]{5}$/, '').replace(/-\d+$/, '');
}

function latencyFigures(a: RunRecord, b: RunRecord, t: GateThresholds, z: number): GateFigure[] {
  const out: GateFigure[] = [];
  const hb = byScenario(b.histograms, (h) => h.scenario);
  for (const [k, ha] of byScenario(a.histograms, (h) => h.scenario)) {
    const hc = hb.get(k);
    if (!hc) continue;
    const x = decodeHistogram(ha.hdr);
    const y = decodeHistogram(hc.hdr);
    if (x.totalCount === 0 || y.totalCount === 0) continue;
    const ms = (e: { estimate: number; lo?: number; hi?: number }): Estimate => ({ estimate: e.estimate / 1000, lo: ms1000(e.lo), hi: ms1000(e.hi) });
    const looks = (durationMs: number | undefined) => (t.stallMs > 0 && durationMs ? Math.max(1, Math.floor(durationMs / t.stallMs)) : undefined);
    const [la, lc] = [looks(ha.durationMs), looks(hc.durationMs)];
    const counted = (n: number, m: number | undefined) => (m !== undefined && m < n ? `${n} (${m} independent)` : `${n}`);
    const detail = `${ha.service}; ${counted(x.totalCount, la)} / ${counted(y.totalCount, lc)} samples`;
    for (const q of [0.5, 0.9, 0.99]) {
      out.push(figure('latency', `${k} p${Math.round(q * 100)}`, detail, 'ms', ms(histogramQuantileInterval(x, q, z, la)), ms(histogramQuantileInterval(y, q, z, lc)), t.latency));
    }
  }
  return out;
}

function overheadFigures(a: readonly OverheadSummary[], b: readonly OverheadSummary[], t: GateThresholds): GateFigure[] {
  const out: GateFigure[] = [];
  const ob = byScenario(b, (o) => o.scenario);
  for (const [k, oa] of byScenario(a, (o) => o.scenario)) {
    const oc = ob.get(k);
    if (!oc) continue;
    for (const q of ['p50', 'p90', 'p99']) {
      const x = oa.addedMs[q];
      const y = oc.addedMs[q];
      if (x && y) out.push(figure('added latency', `${k} added ${q}`, oa.service, 'ms', x, y, t.addedMs, false));
    }
    const roles = new Map(oc.sidecars.map((s) => [sidecarRole(s.instance), s]));
    for (const s of oa.sidecars) {
      const c = roles.get(sidecarRole(s.instance));
      if (!c) continue;
      const who = `${k} sidecar ${sidecarRole(s.instance)}`;
      out.push(figure('sidecar CPU', who, '', 'vCPU per 1000 rps', s.vcpuPer1000Rps, c.vcpuPer1000Rps, t.cpu));
      out.push(figure('sidecar memory', who, '', 'MB', { estimate: s.memoryMb, lo: null, hi: null }, { estimate: c.memoryMb, lo: null, hi: null }, t.memory));
    }
  }
  return out;
}

function convergenceFigure(a: RunRecord, b: RunRecord, t: GateThresholds, confidence: number): GateFigure[] {
  if (!a.convergenceMs.length || !b.convergenceMs.length) return [];
  const m = (xs: number[]): Estimate => {
    const i = medianInterval(xs, 1 - confidence);
    return { estimate: i.estimate, lo: undef(i.lo), hi: undef(i.hi) };
  };
  return [figure('convergence', 'policy convergence', `median of ${a.convergenceMs.length} / ${b.convergenceMs.length} changes`, 'ms', m(a.convergenceMs), m(b.convergenceMs), t.convergence)];
}

/** Outcomes that are a claim held (or a capability there): losing one is a regression. */
const RANK: Record<string, number> = { PASSED: 2, NOT_SUPPORTED: 1, FAILED: 0 };

function verdictChanges(a: RunRecord, b: RunRecord): VerdictChange[] {
  const out: VerdictChange[] = [];
  const sb = new Map(b.scenarios.map((s) => [s.name, s]));
  for (const s of a.scenarios) {
    const c = sb.get(s.name);
    if (!c) continue;
    s.verdicts.forEach((v, i) => {
      const w = c.verdicts[i];
      if (!w) return;
      const pick = (x: Verdict) => ({ outcome: x.outcome, observed: x.observed, ...(x.interval ? { interval: x.interval } : {}) });
      const ra = RANK[v.outcome];
      const rb = RANK[w.outcome];
      const change = v.outcome === w.outcome ? 'same' : ra !== undefined && rb !== undefined ? (rb < ra ? 'regressed' : 'improved') : 'changed';
      out.push({ scenario: s.name, claim: v.claim, baseline: pick(v), candidate: pick(w), change });
    });
  }
  return out;
}

/** Why two runs cannot be gated, if they cannot. */
function unusable(a: RunRecord, b: RunRecord): string[] {
  const out: string[] = [];
  const na = new Set(a.scenarios.map((s) => s.name));
  const nb = new Set(b.scenarios.map((s) => s.name));
  const onlyA = [...na].filter((n) => !nb.has(n));
  const onlyB = [...nb].filter((n) => !na.has(n));
  if (onlyA.length) out.push(`scenarios only in the baseline: ${onlyA.join('; ')}`);
  if (onlyB.length) out.push(`scenarios only in the candidate: ${onlyB.join('; ')}`);
  if (a.engine !== b.engine) out.push(`load engines differ (baseline ${a.engine}, candidate ${b.engine}): their latencies are not comparable`);
  for (const [which, r] of [['baseline', a], ['candidate', b]] as const) {
    for (const s of r.scenarios) {
      if (s.outcome === 'INCONCLUSIVE' || s.outcome === 'BROKEN') out.push(`the ${which}'s "${s.name}" is ${s.outcome}: a gate needs it decided (rerun it)`);
    }
  }
  if (!a.scenarios.length) out.push('the baseline has no scenario');
  return out;
}

/** Every figure both runs measured. */
function figuresOf(a: RunRecord, b: RunRecord, thresholds: GateThresholds, confidence: number): GateFigure[] {
  const z = zFor((1 - confidence) / 2);
  return [
    ...latencyFigures(a, b, thresholds, z),
    ...overheadFigures(a.overhead ?? [], b.overhead ?? [], thresholds),
    ...convergenceFigure(a, b, thresholds, confidence),
  ];
}

/**
 * The candidate against a second baseline run as well: a figure regresses only when it regressed
 * against both, a claim only when the candidate's outcome ranks below both baselines'. A figure or
 * claim the second run lacks keeps its first-run standing (it is unusable input anyway: other scenarios).
 */
function againstBoth(figures: GateFigure[], verdicts: VerdictChange[], again: RunRecord, b: RunRecord, thresholds: GateThresholds, confidence: number): void {
  const second = new Map(figuresOf(again, b, thresholds, confidence).map((f) => [f.id, f]));
  for (const f of figures) {
    const g = second.get(f.id);
    if (!g) continue;
    f.again = { baseline: g.baseline, change: g.change, regression: g.regression };
    f.regression &&= g.regression;
  }
  const outcomes = new Map(verdictChanges(again, b).map((v) => [`${v.scenario}\u0000${v.claim}`, v.baseline.outcome]));
  for (const v of verdicts) {
    const o = outcomes.get(`${v.scenario}\u0000${v.claim}`);
    if (o === undefined) continue;
    v.again = o;
    const [rc, ra] = [RANK[v.candidate.outcome], RANK[o]];
    if (v.change === 'regressed' && rc !== undefined && ra !== undefined && rc >= ra) v.change = 'changed';
  }
}

export function gateRuns(a: RunRecord, b: RunRecord, thresholds: GateThresholds = GATE_DEFAULTS, confidence: number = defaults.confidence, again?: RunRecord): GateResult {
  const figures = figuresOf(a, b, thresholds, confidence);
  const verdicts = verdictChanges(a, b);
  const why = unusable(a, b);
  if (again) {
    why.push(...unusable(a, again).map((x) => `against the second baseline: ${x.replace(/\bcandidate\b/g, 'second baseline')}`));
    againstBoth(figures, verdicts, again, b, thresholds, confidence);
  }
  const regressions = [
    ...figures.filter((f) => f.regression).map((f) => `${f.kind}: ${f.what}: ${describeChange(f)}`),
    ...verdicts.filter((v) => v.change === 'regressed').map((v) => `verdict: ${v.scenario}: "${v.claim}" ${v.baseline.outcome} -> ${v.candidate.outcome} (observed ${v.candidate.observed})`),
  ];
  const run = (r: RunRecord): GateRun => {
    const cp = (r.targetInfo?.controlPlane as { images?: string[] }[] | undefined)?.flatMap((w) => w.images ?? []).join(', ');
    return { runId: r.runId, mesh: r.mesh, target: r.target, engine: r.engine, ...(cp ? { controlPlane: cp } : {}) };
  };
  const la = byScenario(a.histograms, (h) => h.scenario);
  const lb = byScenario(b.histograms, (h) => h.scenario);
  const unmatchedLoads = { baseline: [...la.keys()].filter((k) => !lb.has(k)), candidate: [...lb.keys()].filter((k) => !la.has(k)) };
  const code = why.length ? 2 : regressions.length ? 1 : 0;
  return {
    baseline: run(a), ...(again ? { baselineAgain: run(again) } : {}), candidate: run(b),
    confidence, thresholds, figures, verdicts, unmatchedLoads, unusable: why, regressions, code,
  };
}

const num = (x: number | null) => (x === null ? '?' : Number(x.toFixed(3)).toString());
export const estimateText = (e: Estimate) => (e.lo === null && e.hi === null ? num(e.estimate) : `${num(e.estimate)} [${num(e.lo)}, ${num(e.hi)}]`);

/** The change alone: "+12.5%", or "+0.3 ms" for added latency. */
export const changeText = (f: GateFigure) => {
  const sign = f.change >= 0 ? '+' : '';
  return f.relative ? `${sign}${(f.change * 100).toFixed(1)}%` : `${sign}${num(f.change)} ${f.unit}`;
};

export function describeChange(f: GateFigure): string {
  const again = f.again ? `; against the second baseline ${estimateText(f.again.baseline)}` : '';
  return `${estimateText(f.baseline)} -> ${estimateText(f.candidate)} ${f.unit} (${changeText(f)}${again})`;
}

export const thresholdText = (f: Pick<GateFigure, 'relative' | 'threshold' | 'unit'>) =>
  (f.relative ? `+${(f.threshold * 100).toFixed(0)}%` : `+${num(f.threshold)} ${f.unit}`);

/** A figure's standing: what the gate makes of it. */
export function standing(f: GateFigure): string {
  if (f.regression) return 'REGRESSION';
  if (!f.beyondThreshold) return 'ok';
  return f.significant === null ? 'beyond, no interval' : 'beyond, not significant';
}
