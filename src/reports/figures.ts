import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { parseDocument, LineCounter } from 'yaml';
import { UsageError } from '../errors.js';
import { MESHES } from '../meshes/registry.js';

/** The catalogue of documented overhead figures (reports/documented-figures.yaml; field meanings are in its header). */
export const METRICS = {
  added_latency_p50: 'ms', added_latency_p90: 'ms', added_latency_p99: 'ms', added_latency_typical: 'ms',
  sidecar_cpu_per_1000rps: 'vCPU per 1000 rps', sidecar_cpu: 'vCPU', sidecar_memory: 'MB', memory_per_pod: 'MB',
} as const;
export type Metric = keyof typeof METRICS;
/** Whose figures the catalogue may hold: a mesh meshcheck knows (not the no-mesh baseline), or the general literature. */
export const FIGURE_MESHES: readonly string[] = [...MESHES.filter((m) => m.name !== 'none').map((m) => m.name), 'general'];

type Range = number | [number, number] | null;

export interface DocumentedFigure {
  id: string;
  mesh: string;
  version: string;
  metric: Metric;
  value: number | [number, number];
  unit: string;
  approx?: boolean;
  /** loadGenerator: the tool the vendor measured with (Istio's figures: fortio), where it says. */
  conditions: { text: string; rps: Range; payloadBytes: Range; connections: Range; mtls: boolean | null; proxyWorkers?: number; loadGenerator?: string };
  source: string;
  note?: string;
}

export const FIGURES_FILE = join(PACKAGE_ROOT, 'reports', 'documented-figures.yaml');

/** Reads and checks the catalogue; a bad entry is a usage error naming the file, line and field. */
export function loadFigures(file = FIGURES_FILE): DocumentedFigure[] {
  const lines = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lines });
  if (doc.errors.length) throw new UsageError(`${file}:${lines.linePos(doc.errors[0]!.pos[0]).line}: ${doc.errors[0]!.message}`);
  const items = doc.contents && 'items' in doc.contents ? (doc.contents.items as { range?: [number, number, number] }[]) : [];
  const data = doc.toJS() as unknown;
  if (!Array.isArray(data)) throw new UsageError(`${file}: expected a list of figures`);
  const seen = new Set<string>();
  return data.map((raw, i) => {
    const where = `${file}:${items[i]?.range ? lines.linePos(items[i]!.range![0]).line : '?'}`;
    const f = raw as DocumentedFigure;
    const bad = (what: string) => new UsageError(`${where}: figure ${f?.id ?? `#${i + 1}`}: ${what}`);
    if (typeof f?.id !== 'string' || !f.id) throw bad('id is missing');
    if (seen.has(f.id)) throw bad('id is used twice');
    seen.add(f.id);
    if (!FIGURE_MESHES.includes(f.mesh)) throw bad(`mesh must be one of ${FIGURE_MESHES.join(', ')}`);
    if (!(f.metric in METRICS)) throw bad(`metric must be one of ${Object.keys(METRICS).join(', ')}`);
    if (f.unit !== METRICS[f.metric]) throw bad(`unit of ${f.metric} is "${METRICS[f.metric]}", not "${f.unit}"`);
    const ok = typeof f.value === 'number' || (Array.isArray(f.value) && f.value.length === 2 && f.value.every((x) => typeof x === 'number') && f.value[0] <= f.value[1]);
    if (!ok) throw bad('value must be a number or [min, max]');
    if (typeof f.source !== 'string' || !f.source) throw bad('source is missing');
    if (typeof f.conditions?.text !== 'string') throw bad('conditions.text is missing');
    return { ...f, version: String(f.version ?? '') };
  });
}

export function upper(f: DocumentedFigure): number {
  return typeof f.value === 'number' ? f.value : f.value[1];
}

export function formatValue(f: DocumentedFigure): string {
  const v = typeof f.value === 'number' ? `${f.approx ? '~' : ''}${f.value}` : `${f.value[0]} to ${f.value[1]}`;
  return `${v} ${f.unit}`;
}
