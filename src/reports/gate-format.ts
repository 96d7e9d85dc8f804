import { esc } from './charts.js';
import { changeText, estimateText, standing, thresholdText, type GateResult } from './gate.js';

/** The gate's verdict in one line, as the Markdown and the HTML open with it. */
export function gateHeadline(r: GateResult): string {
  if (r.code === 2) return `UNUSABLE: the runs cannot be gated (exit 2): ${r.unusable.join('; ')}`;
  if (r.code === 1) return `REGRESSION: ${r.regressions.length} regression(s) (exit 1)`;
  return `PASS: no significant regression beyond the thresholds (exit 0; ${r.figures.length} figures, ${r.verdicts.length} verdicts compared)`;
}

const runText = (x: GateResult['baseline']) => `${x.runId} (${x.mesh}, ${x.target}, ${x.engine}${x.controlPlane ? `; control plane ${x.controlPlane}` : ''})`;

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** How the gate decides, as the Markdown and the HTML end with it. */
function method(r: GateResult): string {
  const stall = r.thresholds.stallMs > 0 ? ` A load of D ms counts as at most D / ${r.thresholds.stallMs} ms independent looks at its quantiles (stalls catch consecutive requests).` : '';
  const again = r.baselineAgain ? ' With a second baseline run, a figure or claim regresses only when it is worse than both baseline runs.' : '';
  return 'A figure regressed when the candidate\'s interval lies wholly above the baseline\'s (significant) and the change is beyond its threshold; '
    + `memory is one reading per sidecar, shown but never deciding.${stall}${again}`;
}

const againText = (f: GateResult['figures'][number]) => (f.again ? `${estimateText(f.again.baseline)} ${f.unit}` : '-');

/** Markdown for a CI job page: the headline, the regressions, then every figure and verdict side by side. */
export function gateMarkdown(r: GateResult): string {
  const two = r.baselineAgain !== undefined;
  const out = [
    '# meshcheck gate', '',
    `Baseline ${runText(r.baseline)}${two ? ` and again ${runText(r.baselineAgain!)}` : ''} -> candidate ${runText(r.candidate)}; intervals at ${Math.round(r.confidence * 100)}%.`, '',
    `**${gateHeadline(r)}**`, '',
  ];
  if (r.regressions.length) out.push(...r.regressions.map((x) => `- ${x}`), '');
  out.push('## Figures', '', `| figure | what | baseline |${two ? ' baseline again |' : ''} candidate | change | threshold | standing |`, `|---|---|---|${two ? '---|' : ''}---|---|---|---|`);
  for (const f of r.figures) {
    out.push(`| ${f.kind} | ${cell(f.what)} | ${estimateText(f.baseline)} ${f.unit} |${two ? ` ${againText(f)} |` : ''} ${estimateText(f.candidate)} ${f.unit} | ${changeText(f)} | ${thresholdText(f)} | ${standing(f)} |`);
  }
  if (!r.figures.length) out.push('| - | no figure appears in both runs | | | | | |');
  for (const k of r.unmatchedLoads.baseline) out.push('', `Only in the baseline: ${k}`);
  for (const k of r.unmatchedLoads.candidate) out.push('', `Only in the candidate: ${k}`);
  out.push('', '## Verdicts', '', `| scenario | claim | baseline |${two ? ' baseline again |' : ''} candidate | change |`, `|---|---|---|${two ? '---|' : ''}---|---|`);
  for (const v of r.verdicts) {
    out.push(`| ${cell(v.scenario)} | ${cell(v.claim)} | ${v.baseline.outcome}: ${cell(v.baseline.observed)} |${two ? ` ${v.again ?? '-'} |` : ''} ${v.candidate.outcome}: ${cell(v.candidate.observed)} | ${v.change} |`);
  }
  out.push('', method(r));
  return `${out.join('\n')}\n`;
}

/** The two runs side by side on one self-contained page. */
export function gateHtml(r: GateResult): string {
  const cls = (s: string) => (s === 'REGRESSION' ? 'bad' : s === 'ok' ? 'ok' : 'warn');
  const figures = r.figures.map((f) => {
    const s = standing(f);
    const again = r.baselineAgain ? `<td>${esc(againText(f))}</td>` : '';
    return `<tr><td>${esc(f.kind)}</td><td>${esc(f.what)}</td><td>${esc(estimateText(f.baseline))} ${esc(f.unit)}</td>${again}<td>${esc(estimateText(f.candidate))} ${esc(f.unit)}</td><td>${esc(changeText(f))}</td><td>${esc(thresholdText(f))}</td><td class="${cls(s)}">${esc(s)}</td></tr>`;
  }).join('\n');
  const againHead = r.baselineAgain ? '<th>baseline again</th>' : '';
  const verdicts = r.verdicts.map((v) => `<tr><td>${esc(v.scenario)}</td><td>${esc(v.claim)}</td><td>${esc(v.baseline.outcome)}: ${esc(v.baseline.observed)}</td>${r.baselineAgain ? `<td>${esc(v.again ?? '-')}</td>` : ''}<td>${esc(v.candidate.outcome)}: ${esc(v.candidate.observed)}</td><td class="${v.change === 'regressed' ? 'bad' : v.change === 'same' ? 'ok' : 'warn'}">${esc(v.change)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>meshcheck gate: ${esc(r.baseline.runId)} -> ${esc(r.candidate.runId)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:1rem 0;font-size:13px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.ok{background:#d9f2d9}.bad{background:#f8d0d0}.warn{background:#f2ecc9}
</style></head><body>
<h1>meshcheck gate</h1>
<p>Baseline <b>${esc(runText(r.baseline))}</b>${r.baselineAgain ? ` and again <b>${esc(runText(r.baselineAgain))}</b>` : ''} against candidate <b>${esc(runText(r.candidate))}</b>; intervals at ${Math.round(r.confidence * 100)}%.</p>
<p class="${r.code === 0 ? 'ok' : 'bad'}"><b>${esc(gateHeadline(r))}</b></p>
${r.regressions.length ? `<ul>${r.regressions.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : ''}
<h2>Figures</h2>
<table><tr><th>figure</th><th>what</th><th>baseline</th>${againHead}<th>candidate</th><th>change</th><th>threshold</th><th>standing</th></tr>
${figures}
</table>
<h2>Verdicts</h2>
<table><tr><th>scenario</th><th>claim</th><th>baseline</th>${againHead}<th>candidate</th><th>change</th></tr>
${verdicts}
</table>
<p><small>${esc(method(r))}</small></p>
</body></html>
`;
}
