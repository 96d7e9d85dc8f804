import { decodeHistogram } from '../load/histogram-codec.js';
import type { Estimate, OverheadSummary } from '../overhead/overhead.js';
import { MESHCHECK_VERSION } from '../util/package-root.js';
import { barChart, esc, percentileChart, percentilePoints, type Band } from './charts.js';
import { formatValue, upper, type DocumentedFigure, type Metric } from './figures.js';
import type { RunRecord } from './run-record.js';

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

function differences(c: OverheadSummary['conditions'], f: DocumentedFigure): string[] {
  const out: string[] = [];
  const d = f.conditions;
  const show = (r: number | [number, number]) => (typeof r === 'number' ? String(r) : `${r[0]}-${r[1]}`);
  if (d.rps === null && d.payloadBytes === null && d.connections === null && d.mtls === null) return ['no test conditions were published'];
  if (d.rps !== null && !inRange(c.rps, d.rps)) out.push(`rate ${c.rps} rps vs ${show(d.rps)} rps`);
  if (d.payloadBytes !== null && !inRange(c.payloadBytes, d.payloadBytes)) out.push(`payload ${c.payloadBytes} B vs ${show(d.payloadBytes)} B`);
  if (d.connections !== null && !inRange(c.connections, d.connections)) out.push(`connections up to ${c.connections} vs ${show(d.connections)}`);
  if (d.mtls !== null && d.mtls !== c.mtls) out.push(`mTLS ${c.mtls ? 'on' : 'off'} vs ${d.mtls ? 'on' : 'off'}`);
  return out;
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
          verdict: figureVerdict(m.value, upper(f)), conditionsDiffer: differences(o.conditions, f), how: m.how,
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
  if (meshes.has('reference')) {
    notes.push('"reference" is meshcheck\'s own sidecar (a Node.js process on loopback, Istio-like behaviour). No vendor documents it, so its rows are set beside the general literature\'s figures only; Istio\'s own figures are listed for scale.');
  }
  if (rows.length === 0) notes.push('These runs hold no overhead measurement: run a scenario with "When N rps are sent to ... with and without the mesh".');
  const shown = figures.filter((f) => f.mesh === 'general' || meshes.has(f.mesh) || (meshes.has('reference') && f.mesh === 'istio'));
  return {
    schema: COMPARATIVE_SCHEMA, generatedAt: now.toISOString(), meshcheckVersion: MESHCHECK_VERSION,
    runs: runs.map((r) => ({ runId: r.runId, mesh: r.mesh, target: r.target, engine: r.engine, startedAt: r.startedAt, machine: r.machine })),
    rows, comparisons, documented: shown, notes,
  };
}

const fmt = (x: number | null | undefined, d = 3) => (x === null || x === undefined || Number.isNaN(x) ? '-' : Number(x.toFixed(d)).toString());
const est = (e: Estimate | undefined, d = 3) => (!e ? '-' : e.lo === null && e.hi === null ? fmt(e.estimate, d) : `${fmt(e.estimate, d)} [${fmt(e.lo, d)}, ${fmt(e.hi, d)}]`);
const worstCpu = (r: MeasuredRow) => r.sidecars?.map((s) => `${s.instance} ${est(s.vcpuPer1000Rps)}`).join('; ') || '-';
const mem = (r: MeasuredRow) => r.sidecars?.map((s) => `${s.instance} ${fmt(s.memoryMb, 1)}`).join('; ') || '-';
const VERDICT_MARK: Record<FigureVerdict, string> = { within: 'within', exceeds: '**exceeds**', undecided: 'undecided' };

export function renderMarkdown(r: ComparativeReport): string {
  const out: string[] = ['# meshcheck comparative overhead report', ''];
  out.push(`Generated ${r.generatedAt} by meshcheck ${r.meshcheckVersion} from ${r.runs.map((x) => `\`${x.runId}\` (${x.mesh}, ${x.target}, ${x.engine})`).join(', ')}.`);
  const m = r.runs[0]?.machine;
  if (m) out.push(`Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}.`);
  out.push('', 'Intervals are 95% confidence intervals: [low, high].', '');
  out.push('## Measured', '', '| mesh | scenario | rate (rps) | achieved | p50 ms | p90 ms | p99 ms | added p50 ms | added p90 ms | added p99 ms | vCPU per 1000 rps | memory MB |', '|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of r.rows) {
    out.push(`| ${row.mesh} | ${row.scenario} | ${row.conditions.rps} | ${fmt(row.throughputRps, 1)} | ${fmt(row.latencyMs.p50)} | ${fmt(row.latencyMs.p90)} | ${fmt(row.latencyMs.p99)} | ${est(row.addedMs?.p50)} | ${est(row.addedMs?.p90)} | ${est(row.addedMs?.p99)} | ${worstCpu(row)} | ${mem(row)} |`);
  }
  if (r.rows[0]) {
    const c = r.rows[0].conditions;
    out.push('', `Conditions: ${c.protocol ?? 'HTTP/1.1'}, ${c.payloadBytes} B payload, at most ${c.connections} connections, ${c.path ?? 'mTLS between sidecars'}, ${c.rounds} alternating rounds of ${c.requestsPerRound} requests each way after ${c.warmupRequests} warm-up requests each way (not measured).`);
  }
  out.push('', '## Beside the documented figures', '', '| mesh | metric | measured | documented | version | documented conditions | verdict | conditions differ |', '|---|---|---|---|---|---|---|---|');
  for (const c of r.comparisons) {
    out.push(`| ${c.mesh} | ${c.metric} | ${est(c.measured)} ${c.unit} | ${c.figure.text} (${c.figure.source}) | ${c.figure.version || '-'} | ${c.figure.conditions} | ${VERDICT_MARK[c.verdict]} | ${c.conditionsDiffer.join('; ') || 'no'} |`);
  }
  if (r.notes.length) out.push('', ...r.notes.map((n) => `> ${n}`));
  out.push('');
  return out.join('\n');
}

function table(head: string[], rows: string[][], cls: string): string {
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** The charts of the report, as SVG strings (also used by tests). */
export function charts(r: ComparativeReport): { id: string; svg: string }[] {
  const out: { id: string; svg: string }[] = [];
  const scenarios = [...new Set(r.rows.map((x) => x.scenario))];
  const bandsFor = (mesh: string, metric: Metric): Band[] => r.comparisons
    .filter((c) => c.mesh === mesh && c.metric === metric)
    .map((c) => ({ label: `${c.figure.mesh}${c.figure.version ? ` ${c.figure.version}` : ''}: ${c.figure.text}`, lo: typeof c.figure.value === 'number' ? c.figure.value : c.figure.value[0], hi: typeof c.figure.value === 'number' ? c.figure.value : c.figure.value[1] }));
  out.push({
    id: 'chart-latency',
    svg: barChart({
      id: 'chart-latency', title: 'Latency percentiles per mesh against the no-mesh baseline', unit: 'ms',
      groups: scenarios.flatMap((s) => ['p50', 'p90', 'p99'].map((q) => ({ label: scenarios.length > 1 ? `${q} ${s}` : q, bars: r.rows.filter((x) => x.scenario === s).map((x) => ({ label: x.mesh, value: x.latencyMs[q] ?? 0 })) }))),
    }),
  });
  const meshRows = r.rows.filter((x) => x.addedMs);
  for (const row of meshRows) {
    const tag = `${row.mesh}${scenarios.length > 1 ? ` (${row.scenario})` : ''}`;
    out.push({
      id: `chart-added-${out.length}`,
      svg: barChart({
        id: `chart-added-${out.length}`, title: `Added latency, ${tag}, with documented figures`, unit: 'ms',
        groups: ['p50', 'p90', 'p99'].map((q) => ({ label: `added ${q}`, bars: [{ label: row.mesh, value: row.addedMs![q]!.estimate, lo: row.addedMs![q]!.lo, hi: row.addedMs![q]!.hi }] })),
        bands: [...bandsFor(row.mesh, 'added_latency_p50'), ...bandsFor(row.mesh, 'added_latency_p99')].filter((b, i, a) => a.findIndex((x) => x.label === b.label) === i),
      }),
    });
    out.push({
      id: `chart-cpu-${out.length}`,
      svg: barChart({
        id: `chart-cpu-${out.length}`,
        title: `Sidecar CPU per 1000 rps, ${tag}`,
        unit: 'vCPU per 1000 rps',
        groups: (row.sidecars ?? []).map((s) => ({
          label: s.instance,
          bars: [{ label: row.mesh, value: s.vcpuPer1000Rps.estimate, lo: s.vcpuPer1000Rps.lo, hi: s.vcpuPer1000Rps.hi }],
        })),
        bands: bandsFor(row.mesh, 'sidecar_cpu_per_1000rps'),
      }),
    });
    out.push({
      id: `chart-memory-${out.length}`,
      svg: barChart({
        id: `chart-memory-${out.length}`, title: `Memory per sidecar, ${tag}`, unit: 'MB',
        groups: (row.sidecars ?? []).map((s) => ({ label: s.instance, bars: [{ label: row.mesh, value: s.memoryMb }] })),
        bands: bandsFor(row.mesh, 'sidecar_memory'),
      }),
    });
  }
  if (r.rows.length) {
    out.push({
      id: 'chart-distribution',
      svg: percentileChart({ id: 'chart-distribution', title: 'Latency distribution (by percentile)', series: r.rows.map((x) => ({ label: `${x.mesh}${scenarios.length > 1 ? ` ${x.scenario}` : ''}`, points: percentilePoints(decodeHistogram(x.histogram)) })) }),
    });
  }
  return out;
}

export function renderHtml(r: ComparativeReport): string {
  const verdictCell = (v: FigureVerdict) => `<span class="verdict ${v}">${v}</span>`;
  const measured = table(
    [
      'mesh',
      'scenario',
      'rate (rps)',
      'achieved rps',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'added p50 ms',
      'added p90 ms',
      'added p99 ms',
      'vCPU per 1000 rps',
      'memory MB',
    ],
    r.rows.map((x) => [
      esc(x.mesh),
      esc(x.scenario),
      String(x.conditions.rps),
      fmt(x.throughputRps, 1),
      fmt(x.latencyMs.p50),
      fmt(x.latencyMs.p90),
      fmt(x.latencyMs.p99),
      est(x.addedMs?.p50),
      est(x.addedMs?.p90),
      est(x.addedMs?.p99),
      esc(worstCpu(x)),
      esc(mem(x)),
    ]),
    'measured',
  );
  const beside = table(
    ['mesh', 'metric', 'measured', 'documented', 'version', 'documented conditions', 'source', 'verdict', 'conditions differ'],
    r.comparisons.map((c) => [esc(c.mesh), esc(c.metric), `${est(c.measured)} ${esc(c.unit)}<br><small>${esc(c.how)}</small>`, esc(c.figure.text), esc(c.figure.version || '-'), esc(c.figure.conditions), esc(c.figure.source) + (c.figure.note ? `<br><small>${esc(c.figure.note)}</small>` : ''), verdictCell(c.verdict), esc(c.conditionsDiffer.join('; ') || 'no')]),
    'comparisons',
  );
  const catalogue = table(
    ['id', 'mesh', 'version', 'metric', 'value', 'conditions', 'source'],
    r.documented.map((f) => [esc(f.id), esc(f.mesh), esc(f.version || '-'), esc(f.metric), esc(formatValue(f)), esc(f.conditions.text), esc(f.source) + (f.note ? `<br><small>${esc(f.note)}</small>` : '')]),
    'documented',
  );
  const m = r.runs[0]?.machine;
  const c = r.rows[0]?.conditions;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>meshcheck comparative overhead report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:1rem 0;font-size:13px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.verdict{padding:1px 6px;border-radius:3px}.within{background:#d9f2d9}.exceeds{background:#f8d0d0}.undecided{background:#f2ecc9}
figure{margin:1rem 0}small{color:#666}.note{border-left:4px solid #bbb;padding-left:.8rem;color:#444}
</style></head><body>
<h1>meshcheck comparative overhead report</h1>
<p>Generated ${esc(r.generatedAt)} by meshcheck ${esc(r.meshcheckVersion)} from ${r.runs.map((x) => `<code>${esc(x.runId)}</code> (${esc(x.mesh)}, ${esc(x.target)}, ${esc(x.engine)})`).join(', ')}.</p>
${m ? `<p>Machine: ${m.cores} cores (${esc(m.cpu)}), ${m.memoryGiB} GiB, Node ${esc(m.node)}, ${esc(m.os)}.</p>` : ''}
${c ? `<p>Conditions: ${c.protocol ?? 'HTTP/1.1'}, ${c.payloadBytes} B payload, at most ${c.connections} connections, ${c.path ?? 'mTLS between sidecars'}, ${c.rounds} alternating rounds of ${c.requestsPerRound} requests each way after ${c.warmupRequests} warm-up requests each way (not measured). Intervals are 95% confidence intervals [low, high].</p>` : ''}
${r.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('\n')}
<h2>Measured</h2>
${measured}
<h2>Charts</h2>
${charts(r).map((x) => `<figure>${x.svg}</figure>`).join('\n')}
<h2>Beside the documented figures</h2>
<p>within: the measured interval is at or under the documented figure (the top of a documented range); exceeds: the whole interval is above it; undecided: it straddles it. A figure measured under other conditions is indicative only: the last column says how they differ.</p>
${beside}
<h2>Documented figures</h2>
${catalogue}
</body></html>
`;
}

/**
 * Service Mesh Performance (SMP) export: per measured row, a PerformanceTestConfig, a
 * PerformanceTestResult and a ServiceMeshConfig in the proto3 JSON mapping of the SMP spec.
 */
export function renderSmp(r: ComparativeReport): unknown {
  const SMP_MESHES = new Set(['appmesh', 'consul', 'istio', 'kuma', 'linkerd', 'maesh', 'octarine', 'networkservicemesh', 'tanzu']);
  return {
    smpVersion: 'v0.0.1',
    generator: `meshcheck ${r.meshcheckVersion}`,
    tests: r.rows.map((x, i) => {
      const id = `${x.runId}-${i}`;
      const run = r.runs.find((y) => y.runId === x.runId);
      const cpuMCores = x.sidecars ? Math.round(x.sidecars.reduce((a, s) => a + s.vcpuPer1000Rps.estimate, 0) * x.conditions.rps) : 0;
      return {
        performanceTestConfig: {
          smpVersion: 'v0.0.1', id, name: x.scenario, labels: { mesh: x.mesh, service: x.service },
          clients: [{ internal: true, loadGenerator: x.engine === 'k6' ? 'k6' : 'meshcheck-embedded', protocol: 'http', connections: x.conditions.connections, rps: String(x.conditions.rps) }],
          duration: `${(x.conditions.rounds * x.conditions.requestsPerRound) / x.conditions.rps}s`,
        },
        performanceTestResult: {
          smpVersion: 'v0.0.1', id, labels: { mesh: x.mesh, scenario: x.scenario },
          startTime: run?.startedAt,
          latenciesMs: { p50: x.latencyMs.p50, p90: x.latencyMs.p90, p99: x.latencyMs.p99 },
          actualQPS: x.throughputRps, testId: id, meshConfigId: `${id}-mesh`,
        },
        serviceMeshConfig: {
          smpVersion: 'v0.0.1', id: `${id}-mesh`, labels: { mesh: x.mesh },
          ...(x.sidecars ? { sidecar: { count: x.sidecars.length, cpuMCores, memMb: Math.round(x.sidecars.reduce((a, s) => a + s.memoryMb, 0)), rps: x.conditions.rps } } : {}),
          mtlsEnabled: x.mesh !== 'none' && x.conditions.mtls,
          ...(SMP_MESHES.has(x.mesh) ? { meshType: { type: x.mesh } } : {}),
        },
      };
    }),
  };
}
