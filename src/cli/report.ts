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
import { compareRuns, formatCompare } from '../reports/compare.js';

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

/** `meshcheck compare`: exit 1 on a significant p99 regression beyond the threshold, else 0. */
export function compare(baselineDir: string, candidateDir: string, o: { maxP99Regression: string }): { code: number; text: string } {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(o.maxP99Regression.trim());
  if (!m) throw new UsageError(`--max-p99-regression ${o.maxP99Regression}: expected a percentage such as 10%`);
  const threshold = Number(m[1]) / 100;
  const a = readRunRecord(resolve(baselineDir));
  const b = readRunRecord(resolve(candidateDir));
  const r = compareRuns(a, b, threshold);
  return { code: r.regressions.length ? 1 : 0, text: formatCompare(r, { baseline: a.runId, candidate: b.runId }) };
}
