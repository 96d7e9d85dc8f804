import type { ComparativeReport, FigureVerdict } from './comparative.js';
import { est, fmt, mem, worstCpu } from './format.js';

/** The comparative report as Markdown, for a CI job's page. */
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
