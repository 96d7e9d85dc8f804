import { mkdirSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { readRunRecord } from '../reports/run-record.js';
import { loadFigures } from '../reports/figures.js';
import { buildComparative } from '../reports/comparative.js';
import { renderHtml } from '../reports/comparative-html.js';
import { renderMarkdown } from '../reports/comparative-markdown.js';
import { renderSmp } from '../reports/smp.js';
import { generateAllure } from '../reports/allure.js';
import { gateRuns, type GateThresholds } from '../reports/gate.js';
import { gateHtml, gateMarkdown } from '../reports/gate-format.js';

export interface ReportOptions {
  out?: string;
  historyDir?: string;
  allure: boolean;
}

/** The run folder to report on when none is named: runs/latest, else the newest folder under runs/. */
export function defaultRunDir(cwd = process.cwd()): string {
  const runs = join(cwd, 'runs');
  if (existsSync(join(runs, 'latest', 'run-record.json'))) return join(runs, 'latest');
  const dirs = existsSync(runs) ? readdirSync(runs).map((d) => join(runs, d)).filter((d) => existsSync(join(d, 'run-record.json'))) : [];
  if (dirs.length === 0) throw new UsageError('no run folder given and none under ./runs; run "meshcheck run" first or name a folder: meshcheck report RUN_DIR');
  return dirs.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]!;
}

/** `meshcheck report`: the comparative report (HTML, Markdown, JSON, SMP) and the Allure HTML of one or more runs. */
export async function report(dirs: string[], o: ReportOptions, log: (m: string) => void): Promise<string[]> {
  const runDirs = (dirs.length ? dirs : [defaultRunDir()]).map((d) => resolve(d));
  const records = runDirs.map((d) => readRunRecord(d));
  const out = resolve(o.out ?? join(records[0]!.dir, 'report'));
  mkdirSync(out, { recursive: true });
  const comparative = buildComparative(records, loadFigures());
  const files = {
    html: join(out, 'comparative.html'), md: join(out, 'comparative.md'), json: join(out, 'comparative.json'), smp: join(out, 'smp.json'),
  };
  writeFileSync(files.html, renderHtml(comparative));
  writeFileSync(files.md, renderMarkdown(comparative));
  writeFileSync(files.json, `${JSON.stringify(comparative, null, 2)}\n`);
  writeFileSync(files.smp, `${JSON.stringify(renderSmp(comparative), null, 2)}\n`);
  const written = Object.values(files);
  log(`comparative report: ${files.html} (+ .md, .json, smp.json)`);
  if (o.allure) {
    const allureOut = join(out, 'allure-report');
    const results = records.map((r) => join(r.dir, 'allure-results'));
    for (const r of results) if (!existsSync(r)) throw new UsageError(`${r}: no Allure results in this run folder`);
    log(`building the Allure report (allure-commandline, Java)...`);
    await generateAllure(results, allureOut, o.historyDir ? resolve(o.historyDir) : undefined);
    written.push(join(allureOut, 'index.html'));
    log(`Allure report: ${join(allureOut, 'index.html')} (serve the folder over HTTP to open it, e.g. npx allure open ${allureOut})`);
  }
  return written;
}

/** A percentage option ("10%", "10") as a fraction; a usage error naming the option otherwise. */
function percent(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(v.trim());
  if (!m) throw new UsageError(`${flag} ${v}: expected a percentage such as 10%`);
  return Number(m[1]) / 100;
}

/** A duration option in milliseconds ("0.5ms", "0.5"). */
function millis(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms)?$/.exec(v.trim());
  if (!m) throw new UsageError(`${flag} ${v}: expected milliseconds such as 0.5ms`);
  return Number(m[1]);
}

export interface GateOptions {
  maxLatencyRegression: string;
  maxAddedLatency: string;
  maxCpuRegression: string;
  maxMemoryRegression: string;
  maxConvergenceRegression: string;
  stall: string;
  baselineAgain?: string;
  out?: string;
}

/**
 * `meshcheck gate`: every figure and verdict of two runs side by side; exit 1 on a significant
 * regression beyond its threshold, 2 when the runs cannot be gated, else 0. The Markdown goes to
 * stdout; with --out, also gate.md, gate.json and gate.html there.
 */
export function gate(baselineDir: string, candidateDir: string, o: GateOptions, log: (m: string) => void): { code: number; text: string } {
  const thresholds: GateThresholds = {
    latency: percent('--max-latency-regression', o.maxLatencyRegression),
    addedMs: millis('--max-added-latency', o.maxAddedLatency),
    cpu: percent('--max-cpu-regression', o.maxCpuRegression),
    memory: percent('--max-memory-regression', o.maxMemoryRegression),
    convergence: percent('--max-convergence-regression', o.maxConvergenceRegression),
    stallMs: millis('--stall', o.stall),
  };
  const again = o.baselineAgain === undefined ? undefined : readRunRecord(resolve(o.baselineAgain));
  const r = gateRuns(readRunRecord(resolve(baselineDir)), readRunRecord(resolve(candidateDir)), thresholds, undefined, again);
  const text = gateMarkdown(r);
  if (o.out) {
    const out = resolve(o.out);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'gate.md'), text);
    writeFileSync(join(out, 'gate.json'), `${JSON.stringify(r, null, 2)}\n`);
    writeFileSync(join(out, 'gate.html'), gateHtml(r));
    log(`gate: ${join(out, 'gate.html')} (+ gate.md, gate.json)`);
  }
  return { code: r.code, text };
}
