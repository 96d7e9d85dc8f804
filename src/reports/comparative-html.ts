import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeHistogram } from '../load/histogram-codec.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { barChart, esc, percentileChart, percentilePoints, type Band } from './charts.js';
import type { ComparativeReport, FigureVerdict } from './comparative.js';
import { formatValue, type Metric } from './figures.js';
import { est, fmt, mem, worstCpu } from './format.js';

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

/** The comparative report as one self-contained HTML page (inline SVG charts), from reports/comparative.html. */
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
  return fill(readFileSync(TEMPLATE, 'utf8'), {
    generatedAt: esc(r.generatedAt),
    meshcheckVersion: esc(r.meshcheckVersion),
    runs: r.runs.map((x) => `<code>${esc(x.runId)}</code> (${esc(x.mesh)}, ${esc(x.target)}, ${esc(x.engine)})`).join(', '),
    machine: m ? `<p>Machine: ${m.cores} cores (${esc(m.cpu)}), ${m.memoryGiB} GiB, Node ${esc(m.node)}, ${esc(m.os)}.</p>` : '',
    conditions: c ? `<p>Conditions: ${c.protocol ?? 'HTTP/1.1'}, ${c.payloadBytes} B payload, at most ${c.connections} connections, ${c.path ?? 'mTLS between sidecars'}, ${c.rounds} alternating rounds of ${c.requestsPerRound} requests each way after ${c.warmupRequests} warm-up requests each way (not measured). Intervals are 95% confidence intervals [low, high].</p>` : '',
    notes: r.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('\n'),
    measured,
    charts: charts(r).map((x) => `<figure>${x.svg}</figure>`).join('\n'),
    beside,
    catalogue,
  });
}

/** The page's template: the layout and style; the generator fills in each {{name}}. */
const TEMPLATE = join(PACKAGE_ROOT, 'reports', 'comparative.html');

/** A template with each {{name}} replaced by its (already escaped) HTML. */
export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => values[name] ?? whole);
}

