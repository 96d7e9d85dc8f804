import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfiguration, runCucumber } from '@cucumber/cucumber/api';
import { UsageError } from '../errors.js';
import { exitCodeFor, type Outcome } from '../verdicts/outcome.js';
import { RunContext, machine, type RunSettings } from '../session/run-context.js';
import { MESHCHECK_VERSION } from '../util/package-root.js';
import { Ledger } from '../ledger/ledger.js';
import { DEFAULT_FEATURES, STEPS_GLOB } from './paths.js';
import { UndefinedSteps } from './undefined-steps.js';
import { adapterFor } from '../adapters/registry.js';
import { needsPrometheus } from '../plan/features.js';
import { tool } from '../kube/tools.js';
import { INFRASTRUCTURE_MARKER } from '../verdicts/infrastructure.js';
import { writeAllureCategories, writeAllureEnvironment, writeAllureExecutor } from '../reports/allure.js';

export interface RunOptions {
  target: string;
  mesh: string;
  context?: string;
  kubeconfig?: string;
  tags?: string;
  loadEngine: string;
  out?: string;
  progress: boolean;
}

let lastOut: string | undefined;

/** The run folder of the last `run` in this process (for run --report). */
export function lastRunOut(): string {
  if (!lastOut) throw new UsageError('no run folder to report on');
  return lastOut;
}

/** `meshcheck run`: the features through cucumber, then the exit code from the run record. */
export async function run(paths: string[], o: RunOptions): Promise<number> {
  if (o.target === 'local' && o.mesh !== 'reference') {
    adapterFor(o.mesh);
    throw new UsageError(`--mesh ${o.mesh}: the local target runs the reference mesh only; run ${o.mesh} with --target kube --context CTX, or see what it would apply with: meshcheck plan --mesh ${o.mesh}`);
  }
  if (o.target === 'kube') {
    if (!o.context) throw new UsageError('--target kube needs --context CTX: meshcheck never uses the current kube context implicitly');
    if (o.mesh === 'reference') throw new UsageError('--mesh reference runs on the local target only; on kube name the installed mesh: --mesh istio|linkerd|consul|osm|none');
    adapterFor(o.mesh);
    const { kubeClient, kubeconfigPath } = await import('../targets/kube/kube-target.js');
    kubeClient({ context: o.context, kubeconfig: o.kubeconfig });
    o.kubeconfig = kubeconfigPath(o.kubeconfig);
  }
  if (o.loadEngine === 'k6') tool('k6');
  const features = paths.length ? paths.map((p) => resolve(p)) : [DEFAULT_FEATURES];
  // "file.feature:14" (a scenario by line) is cucumber's own syntax; check the file part.
  for (const f of features) if (!existsSync(f.replace(/(:\d+)+$/, ""))) throw new UsageError(`feature path ${f} does not exist`);
  const runId = `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
  const out = resolve(o.out ?? join('runs', runId));
  // A reused run folder keeps nothing of the previous run's results.
  for (const f of ['allure-results', 'junit.xml', 'run-record.json']) rmSync(join(out, f), { recursive: true, force: true });
  const settings: RunSettings = { runId, out, mesh: o.mesh, target: o.target === 'kube' ? 'kube' : 'local', engine: o.loadEngine === 'k6' ? 'k6' : 'embedded', progress: o.progress, warmPrometheus: needsPrometheus(features), ...(o.target === 'kube' ? { context: o.context, kubeconfig: o.kubeconfig } : {}) };
  process.env.MESHCHECK_RUN = JSON.stringify(settings);
  installSignalHandlers();

  const { runConfiguration } = await loadConfiguration({
    provided: {
      paths: features,
      import: [STEPS_GLOB],
      format: ['progress', 'allure-cucumberjs/reporter', `junit:${join(out, 'junit.xml')}`],
      formatOptions: { resultsDir: join(out, 'allure-results') },
      tags: o.tags ?? '',
      strict: true,
    },
  });
  const undefinedSteps = new UndefinedSteps();
  process.stderr.write(`meshcheck: run ${runId} -> ${out}\n`);
  await runCucumber(runConfiguration, undefined, undefinedSteps.onMessage);
  lastOut = out;
  const results = join(out, 'allure-results');
  writeAllureCategories(results);
  writeAllureEnvironment(results, {
    meshcheck: MESHCHECK_VERSION, mesh: settings.mesh, target: settings.target, 'load.engine': settings.engine, 'kube.context': settings.context,
    features: paths.length ? paths.join(' ') : 'features/ (bundled)', tags: o.tags, 'run.id': runId,
    'machine.cores': machine().cores, 'machine.cpu': machine().cpu, 'machine.memory': `${machine().memoryGiB} GiB`, node: process.version, os: machine().os,
  });
  writeAllureExecutor(results, runId);
  if (undefinedSteps.found.length) {
    process.stderr.write(`meshcheck: steps that match no definition (see the step catalogue in README.md):\n  ${undefinedSteps.found.join('\n  ')}\n`);
    return 2;
  }
  const recordFile = join(out, 'run-record.json');
  if (!existsSync(recordFile)) {
    process.stderr.write('meshcheck: no run record was written (no scenario ran?)\n');
    return 2;
  }
  const record = JSON.parse(readFileSync(recordFile, 'utf8')) as { scenarios: (ScenarioLine & { usageError?: boolean })[] };
  if (record.scenarios.length === 0) {
    process.stderr.write(`meshcheck: no scenario matched${o.tags ? ` --tags ${o.tags}` : ''}\n`);
    return 2;
  }
  printSummary(record.scenarios, out);
  return exitCodeFor(record.scenarios.map((s) => s.outcome), record.scenarios.some((s) => s.usageError));
}

type ScenarioLine = { name: string; outcome: Outcome; error?: string; notSupported?: string[]; infrastructure?: string[]; verdicts?: { outcome: Outcome; explanation: string }[] };

function printSummary(scenarios: ScenarioLine[], out: string): void {
  const counts = new Map<Outcome, number>();
  for (const s of scenarios) counts.set(s.outcome, (counts.get(s.outcome) ?? 0) + 1);
  process.stderr.write(`\nmeshcheck: ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}\n`);
  for (const s of scenarios) if (s.outcome !== 'PASSED') process.stderr.write(`  ${s.outcome}  ${s.name}${why(s)}\n`);
  process.stderr.write(`meshcheck: results in ${out} (allure-results/, junit.xml, run-record.json)\n`);
}

/** The reason shown beside a scenario that did not pass. */
function why(s: ScenarioLine): string {
  if (s.error) return ` — ${s.error}`;
  if (s.notSupported) return ` — ${s.notSupported.join('; ')}`;
  if (s.infrastructure) return ` — ${INFRASTRUCTURE_MARKER}: ${s.infrastructure.join('; ')}`;
  const v = s.verdicts?.find((x) => x.outcome === s.outcome);
  return v ? ` — ${v.explanation}` : '';
}

/** Ctrl-C: clean up and exit 130; a second Ctrl-C forces (SIGKILL to the process group). */
function installSignalHandlers(): void {
  let interrupted = false;
  const handler = (sig: NodeJS.Signals) => {
    const ctx = RunContext.peek();
    if (interrupted) {
      process.stderr.write(`\nmeshcheck: ${sig} again, forcing\n`);
      if (ctx) for (const e of Ledger.read(ctx.ledger.file)) if (e.op === 'process-group') try { process.kill(-e.pgid, 'SIGKILL'); } catch { /* gone */ }
      process.exit(130);
    }
    interrupted = true;
    process.stderr.write(`\nmeshcheck: ${sig}: cleaning up (press Ctrl-C again to force)\n`);
    void (async () => {
      try {
        if (ctx) {
          ctx.writeRecord();
          await ctx.close();
        }
      } finally {
        process.exit(130);
      }
    })();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

