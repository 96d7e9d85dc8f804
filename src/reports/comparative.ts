import type { Estimate, OverheadSummary } from '../overhead/overhead.js';
import { MESHCHECK_VERSION } from '../util/package-root.js';
import { formatValue, upper, type DocumentedFigure, type Metric } from './figures.js';
import type { RunRecord } from './run-record.js';
import { meshFor, REFERENCE } from '../meshes/registry.js';

/**
 * The comparative overhead report: every overhead measurement of the given runs, as a no-mesh row
 * ("none") and a mesh row, each measured figure beside the documented figures for the same mesh
 * with their conditions and a within / exceeds verdict.
 */

export const COMPARATIVE_SCHEMA = 'meshcheck.comparative/v1';

export interface MeasuredRow {
  mesh: string;
  scenario: string;
  service: string;
  runId: string;
  engine: string;
  conditions: OverheadSummary['conditions'];
  latencyMs: Record<string, number>;
  throughputRps: number;
  errors: number;
  samples: number;
  /** Mesh rows only: mesh minus the "none" row of the same measurement. */
  addedMs?: Record<string, Estimate>;
  sidecars?: OverheadSummary['sidecars'];
  histogram: string;
}

export type FigureVerdict = 'within' | 'exceeds' | 'undecided';

export interface Comparison {
  mesh: string;
  scenario: string;
  metric: Metric;
  measured: Estimate;
  unit: string;
  figure: { id: string; mesh: string; version: string; value: number | [number, number]; text: string; conditions: string; source: string; note?: string };
  verdict: FigureVerdict;
  /** Where the measurement's conditions differ from the documented ones (the comparison is then indicative only). */
  conditionsDiffer: string[];
  how: string;
}

export interface ComparativeReport {
  schema: typeof COMPARATIVE_SCHEMA;
  generatedAt: string;
  meshcheckVersion: string;
  runs: { runId: string; mesh: string; target: string; engine: string; startedAt: string; machine?: RunRecord['machine'] }[];
  rows: MeasuredRow[];
  comparisons: Comparison[];
  /** Documented figures for the meshes in the report (and the general ones), with their conditions. */
  documented: DocumentedFigure[];
  notes: string[];
}

/** Documented figures that apply to a measured mesh: its own, and the general literature's. */
function figuresFor(mesh: string, all: DocumentedFigure[]): DocumentedFigure[] {
  return all.filter((f) => f.mesh === mesh || f.mesh === 'general');
}

function measuredFor(row: MeasuredRow, metric: Metric): { value: Estimate; how: string } | undefined {
  const added = (k: string) => row.addedMs?.[k];
  const worstCpu = row.sidecars?.reduce(
    (a, s) => ((s.vcpuPer1000Rps.hi ?? s.vcpuPer1000Rps.estimate) > (a.vcpuPer1000Rps.hi ?? a.vcpuPer1000Rps.estimate) ? s : a),
    row.sidecars[0]!,
  );
  const worstMem = row.sidecars?.reduce((a, s) => (s.memoryMb > a.memoryMb ? s : a), row.sidecars[0]!);
  switch (metric) {
    case 'added_latency_p50': return added('p50') && { value: added('p50')!, how: 'added p50, two sidecar hops' };
    case 'added_latency_p90': return added('p90') && { value: added('p90')!, how: 'added p90, two sidecar hops' };
    case 'added_latency_p99': return added('p99') && { value: added('p99')!, how: 'added p99, two sidecar hops' };
    case 'added_latency_typical': return added('p50') && { value: added('p50')!, how: 'added p50 taken as the typical added latency' };
    case 'sidecar_cpu_per_1000rps': return worstCpu && { value: worstCpu.vcpuPer1000Rps, how: `busiest sidecar (${worstCpu.instance})` };
    case 'sidecar_cpu': {
      if (!worstCpu) return undefined;
      const k = row.conditions.rps / 1000;
      const v = worstCpu.vcpuPer1000Rps;
      return { value: { estimate: v.estimate * k, lo: v.lo === null ? null : v.lo * k, hi: v.hi === null ? null : v.hi * k }, how: `busiest sidecar (${worstCpu.instance}) at the measured ${row.conditions.rps} rps` };
    }
    case 'sidecar_memory':
    case 'memory_per_pod': return worstMem && { value: { estimate: worstMem.memoryMb, lo: null, hi: null }, how: `largest sidecar resident memory (${worstMem.instance})` };
  }
}

function inRange(x: number, r: number | [number, number]): boolean {
  return typeof r === 'number' ? x === r : x >= r[0] && x <= r[1];
}

function differences(c: OverheadSummary['conditions'], f: DocumentedFigure, engine: string): string[] {
  const out: string[] = [];
  const d = f.conditions;
  const show = (r: number | [number, number]) => (typeof r === 'number' ? String(r) : `${r[0]}-${r[1]}`);
  if (d.rps === null && d.payloadBytes === null && d.connections === null && d.mtls === null) return ['no test conditions were published'];
  if (d.rps !== null && !inRange(c.rps, d.rps)) out.push(`rate ${c.rps} rps vs ${show(d.rps)} rps`);
  if (d.payloadBytes !== null && !inRange(c.payloadBytes, d.payloadBytes)) out.push(`payload ${c.payloadBytes} B vs ${show(d.payloadBytes)} B`);
  if (d.connections !== null && !inRange(c.connections, d.connections)) out.push(`connections up to ${c.connections} vs ${show(d.connections)}`);
  if (d.mtls !== null && d.mtls !== c.mtls) out.push(`mTLS ${c.mtls ? 'on' : 'off'} vs ${d.mtls ? 'on' : 'off'}`);
  if (d.proxyWorkers != null && c.proxyWorkers !== d.proxyWorkers) out.push(`proxy workers ${c.proxyWorkers ?? 'unknown'} vs ${d.proxyWorkers}`);
  // The engines read different latencies for the same traffic (bench/RESULTS.md, 2026-12-07).
  if (d.loadGenerator && engine !== d.loadGenerator) out.push(`load generator ${engine} vs ${d.loadGenerator}`);
  return [...out, ...(c.notes ?? [])];
}

/** within: the interval (or the value, without one) is at or under the documented figure; exceeds: entirely above it. */
export function figureVerdict(m: Estimate, documentedUpper: number): FigureVerdict {
  const hi = m.hi ?? m.estimate;
  const lo = m.lo ?? m.estimate;
  if (hi <= documentedUpper) return 'within';
  if (lo > documentedUpper) return 'exceeds';
  return 'undecided';
}

export function buildComparative(runs: RunRecord[], figures: DocumentedFigure[], now = new Date()): ComparativeReport {
  const rows: MeasuredRow[] = [];
  const comparisons: Comparison[] = [];
  for (const run of runs) {
    for (const o of run.overhead ?? []) {
      const common = { scenario: o.scenario, service: o.service, runId: run.runId, engine: o.engine, conditions: o.conditions };
      rows.push({ ...common, mesh: 'none', latencyMs: o.latencyMs.baseline, throughputRps: o.achievedRps.baseline, errors: o.errors.baseline, samples: o.samples.baseline, histogram: o.histograms.baseline });
      const row: MeasuredRow = {
        ...common,
        mesh: o.mesh,
        latencyMs: o.latencyMs.mesh,
        throughputRps: o.achievedRps.mesh,
        errors: o.errors.mesh,
        samples: o.samples.mesh,
        addedMs: o.addedMs,
        sidecars: o.sidecars,
        histogram: o.histograms.mesh,
      };
      rows.push(row);
      // Vendors document sidecar (and ambient) data planes; a proxyless gRPC measurement is not set beside them.
      for (const f of o.dataPlane ? [] : figuresFor(o.mesh, figures)) {
        const m = measuredFor(row, f.metric);
        if (!m) continue;
        comparisons.push({
          mesh: o.mesh, scenario: o.scenario, metric: f.metric, measured: m.value, unit: f.unit,
          figure: { id: f.id, mesh: f.mesh, version: f.version, value: f.value, text: formatValue(f), conditions: f.conditions.text, source: f.source, note: f.note },
          verdict: figureVerdict(m.value, upper(f)), conditionsDiffer: differences(o.conditions, f, o.engine), how: m.how,
        });
      }
    }
  }
  const meshes = new Set(rows.map((r) => r.mesh));
  const notes: string[] = [];
  for (const o of runs.flatMap((run) => run.overhead ?? []).filter((x) => x.dataPlane)) {
    const note = `"${o.mesh}" was measured on ${o.dataPlane} (${o.conditions.path ?? ''}), not on sidecars: the vendors' figures are for sidecar or ambient data planes, so none is set beside it.`;
    if (!notes.includes(note)) notes.push(note);
  }
  // No vendor documents the reference sidecar: the mesh whose behaviour it follows gives the scale.
  const scale = meshFor(REFERENCE.figuresFor).mesh.title;
  if (meshes.has(REFERENCE.name)) {
    notes.push(`"${REFERENCE.name}" is meshcheck's own sidecar (a Node.js process on loopback, ${scale}-like behaviour). No vendor documents it, so its rows are set beside the general literature's figures only; ${scale}'s own figures are listed for scale.`);
  }
  if (rows.length === 0) notes.push('These runs hold no overhead measurement: run a scenario with "When N rps are sent to ... with and without the mesh".');
  const shown = figures.filter((f) => f.mesh === 'general' || meshes.has(f.mesh) || (meshes.has(REFERENCE.name) && f.mesh === REFERENCE.figuresFor));
  return {
    schema: COMPARATIVE_SCHEMA, generatedAt: now.toISOString(), meshcheckVersion: MESHCHECK_VERSION,
    runs: runs.map((r) => ({ runId: r.runId, mesh: r.mesh, target: r.target, engine: r.engine, startedAt: r.startedAt, machine: r.machine })),
    rows, comparisons, documented: shown, notes,
  };
}
