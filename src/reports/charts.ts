/**
 * Small self-contained SVG charts for the reports and the Allure attachments: no script, no
 * external assets, so a report file opens anywhere (and in CI artefact viewers).
 */

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7'];
const W = 720;
const FONT = 'font-family="system-ui, sans-serif" font-size="12"';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function colour(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

/** A "nice" axis maximum and step for values up to `max`. */
function axis(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step, step };
}

function num(x: number): string {
  return Number(x.toPrecision(3)).toString();
}

export interface Bar {
  label: string;
  value: number;
  lo?: number | null;
  hi?: number | null;
  colour?: string;
}

/** A documented figure drawn beside the bars: a shaded band (range) or a dashed line (single value). */
export interface Band {
  label: string;
  lo: number;
  hi: number;
}

/** Grouped bars with optional error bars (interval) and documented bands across the plot. */
export function barChart(o: { title: string; unit: string; groups: { label: string; bars: Bar[] }[]; bands?: Band[]; id?: string }): string {
  const bands = o.bands ?? [];
  const values = [...o.groups.flatMap((g) => g.bars.flatMap((b) => [b.value, b.hi ?? 0])), ...bands.map((b) => b.hi)];
  const { top, step } = axis(Math.max(...values, 0) * 1.05);
  const left = 64;
  const right = bands.length ? 190 : 16;
  const plotW = W - left - right;
  const plotH = 220;
  const y0 = 40;
  const legendLabels = [...new Set(o.groups.flatMap((g) => g.bars.map((b) => b.label)))];
  const H = y0 + plotH + 56 + Math.ceil(legendLabels.length / 4) * 18;
  const y = (v: number) => y0 + plotH - (Math.max(0, v) / top) * plotH;
  const out = frame({ ...o, H, left, plotW, y0, plotH, top, step, y });
  let lastLabelY = -Infinity;
  [...bands].sort((a, b) => b.hi - a.hi).forEach((b) => {
    const c = '#999';
    if (b.hi - b.lo > 1e-12) out.push(`<rect x="${left}" width="${plotW}" y="${y(b.hi)}" height="${y(b.lo) - y(b.hi)}" fill="${c}" fill-opacity="0.12" stroke="${c}" stroke-dasharray="4 3"><title>${esc(b.label)}</title></rect>`);
    else out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(b.hi)}" y2="${y(b.hi)}" stroke="${c}" stroke-dasharray="6 4"><title>${esc(b.label)}</title></line>`);
    // Labels sit at the band's top, nudged down so that close figures stay readable.
    lastLabelY = Math.max(y(b.hi) + 4, lastLabelY + 14);
    out.push(`<text class="band" x="${left + plotW + 6}" y="${lastLabelY}" fill="#555">${esc(truncate(b.label, 30))}</text>`);
  });
  const gw = plotW / Math.max(1, o.groups.length);
  o.groups.forEach((g, gi) => {
    const n = g.bars.length;
    const bw = Math.min(48, (gw * 0.8) / Math.max(1, n));
    const x0 = left + gi * gw + (gw - bw * n) / 2;
    g.bars.forEach((b, bi) => {
      const x = x0 + bi * bw;
      const c = b.colour ?? colour(legendLabels.indexOf(b.label));
      out.push(`<rect class="bar" x="${x + 2}" width="${bw - 4}" y="${y(b.value)}" height="${y0 + plotH - y(b.value)}" fill="${c}"><title>${esc(`${g.label} / ${b.label}: ${num(b.value)} ${o.unit}${b.lo != null && b.hi != null ? ` [${num(b.lo)}, ${num(b.hi)}]` : ''}`)}</title></rect>`);
      if (b.lo != null && b.hi != null) {
        const cx = x + bw / 2;
        out.push(`<path d="M${cx} ${y(b.lo)}V${y(b.hi)}M${cx - 5} ${y(b.lo)}H${cx + 5}M${cx - 5} ${y(b.hi)}H${cx + 5}" stroke="#222" fill="none"/>`);
      }
    });
    out.push(`<text x="${left + gi * gw + gw / 2}" y="${y0 + plotH + 16}" text-anchor="middle" fill="#333">${esc(truncate(g.label, Math.max(8, Math.floor(gw / 7))))}</text>`);
  });
  out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y0 + plotH}" y2="${y0 + plotH}" stroke="#333"/>`);
  out.push(legend(legendLabels.map((l, i) => ({ label: l, colour: colour(i) })), left, y0 + plotH + 36));
  out.push('</svg>');
  return out.join('\n');
}

/**
 * Latency by percentile (the shape HdrHistogram plots use): x runs through the "nines" on a log
 * scale (50%, 90%, 99%, 99.9%), y is the latency.
 */
export function percentileChart(o: { title: string; series: { label: string; points: { percentile: number; ms: number }[] }[]; id?: string }): string {
  const left = 64;
  const plotW = W - left - 24;
  const plotH = 220;
  const y0 = 40;
  const H = y0 + plotH + 56 + Math.ceil(o.series.length / 4) * 18;
  const maxNines = 3;
  const nx = (p: number) => Math.min(maxNines, -Math.log10(1 - Math.min(p, 99.9) / 100));
  const x = (p: number) => left + (nx(p) / maxNines) * plotW;
  const { top, step } = axis(Math.max(0, ...o.series.flatMap((s) => s.points.map((p) => p.ms))) * 1.05);
  const y = (v: number) => y0 + plotH - (v / top) * plotH;
  const out = frame({ ...o, unit: 'ms', H, left, plotW, y0, plotH, top, step, y });
  for (const p of [0, 50, 90, 99, 99.9]) {
    out.push(`<line x1="${x(p)}" x2="${x(p)}" y1="${y0}" y2="${y0 + plotH}" stroke="#eee"/>`);
    out.push(`<text x="${x(p)}" y="${y0 + plotH + 16}" text-anchor="middle" fill="#555">p${p}</text>`);
  }
  o.series.forEach((s, i) => {
    const d = s.points.map((p, k) => `${k ? 'L' : 'M'}${x(p.percentile).toFixed(1)} ${y(p.ms).toFixed(1)}`).join('');
    out.push(`<path class="series" d="${d}" fill="none" stroke="${colour(i)}" stroke-width="2"><title>${esc(s.label)}</title></path>`);
  });
  out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y0 + plotH}" y2="${y0 + plotH}" stroke="#333"/>`);
  out.push(legend(o.series.map((s, i) => ({ label: s.label, colour: colour(i) })), left, y0 + plotH + 36));
  out.push('</svg>');
  return out.join('\n');
}

/** Points of a percentile curve from an HDR histogram (values in microseconds). */
export function percentilePoints(h: { totalCount: number; getValueAtPercentile(p: number): number }): { percentile: number; ms: number }[] {
  if (h.totalCount === 0) return [];
  const ps = [0, 10, 25, 50, 75, 80, 85, 90, 92.5, 95, 96, 97, 98, 99, 99.5, 99.75, 99.9];
  return ps.map((p) => ({ percentile: p, ms: h.getValueAtPercentile(Math.max(p, 0.0001)) / 1000 }));
}

/** The SVG opening, background, title, horizontal grid with its labels and the y-axis unit. */
function frame(f: {
  title: string;
  id?: string;
  unit: string;
  H: number;
  left: number;
  plotW: number;
  y0: number;
  plotH: number;
  top: number;
  step: number;
  y: (v: number) => number;
}): string[] {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${f.H}" width="${W}" height="${f.H}" role="img" aria-label="${esc(f.title)}"${f.id ? ` id="${esc(f.id)}"` : ''} ${FONT}>`,
    `<rect width="${W}" height="${f.H}" fill="#fff"/>`,
    `<text x="${f.left}" y="22" font-size="14" font-weight="600">${esc(f.title)}</text>`,
  ];
  for (let v = 0; v <= f.top + 1e-9; v += f.step) {
    out.push(`<line x1="${f.left}" x2="${f.left + f.plotW}" y1="${f.y(v)}" y2="${f.y(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${f.left - 6}" y="${f.y(v) + 4}" text-anchor="end" fill="#555">${num(v)}</text>`);
  }
  out.push(`<text transform="translate(14 ${f.y0 + f.plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(f.unit)}</text>`);
  return out;
}

function legend(items: { label: string; colour: string }[], x: number, y: number): string {
  return items.map((it, i) => {
    const cx = x + (i % 4) * 160;
    const cy = y + Math.floor(i / 4) * 18;
    return `<rect x="${cx}" y="${cy - 9}" width="10" height="10" fill="${it.colour}"/><text x="${cx + 14}" y="${cy}" fill="#333">${esc(truncate(it.label, 22))}</text>`;
  }).join('');
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
