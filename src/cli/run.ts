import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfiguration, runCucumber } from '@cucumber/cucumber/api';
import { InfraError, UsageError, describeError } from '../errors.js';
import { exitCodeFor, type Outcome } from '../verdicts/outcome.js';
import { RunContext, machine, type RunSettings } from '../session/run-context.js';
import { MESHCHECK_VERSION } from '../util/package-root.js';
import { Ledger } from '../ledger/ledger.js';
import { DEFAULT_FEATURES, STEPS_GLOB } from './paths.js';
import { UndefinedSteps } from './undefined-steps.js';
import { adapterFor } from '../meshes/registry.js';
import { needsPrometheus } from '../plan/features.js';
import { tool } from '../util/tools.js';

/** The minor version of the istiod the Istio tier runs (scripts/build-istio.sh). */
const ISTIO_TIER_MINOR = '1.31';
import { INFRASTRUCTURE_MARKER } from '../verdicts/infrastructure.js';
import { writeAllureCategories, writeAllureEnvironment, writeAllureExecutor } from '../reports/allure.js';

export interface RunOptions {
  target: string;
  mesh: string;
  context?: string;
  kubeconfig?: string;
  allowChangesIn?: string;
  istiodUrl?: string;
  k6Image?: string;
  imageMirror?: string;
  prometheusUrl?: string;
  prometheusService?: string;
  tags?: string;
  loadEngine: string;
  out?: string;
  progress: boolean;
}

/** The options that only the kube target takes, and their flags. */
const KUBE_ONLY: Partial<Record<keyof RunOptions, string>> = {
  allowChangesIn: '--allow-changes-in', istiodUrl: '--istiod-url', k6Image: '--k6-image', imageMirror: '--image-mirror', prometheusUrl: '--prometheus-url', prometheusService: '--prometheus-service',
};

let lastOut: string | undefined;

/** The run folder of the last `run` in this process (for run --report). */
export function lastRunOut(): string {
  if (!lastOut) throw new UsageError('no run folder to report on');
  return lastOut;
}

/** `meshcheck run`: the features through cucumber, then the exit code from the run record. */
export async function run(paths: string[], o: RunOptions): Promise<number> {
  if (o.target === 'local' && o.mesh !== 'reference') {
    const { adapter, version } = adapterFor(o.mesh);
    if (adapter.name !== 'istio') throw new UsageError(`--mesh ${o.mesh}: the local target runs the reference mesh and real Istio (--mesh istio) only; run ${o.mesh} with --target kube --context CTX, or see what it would apply with: meshcheck plan --mesh ${o.mesh}`);
    if (o.mesh.includes('@') && version !== ISTIO_TIER_MINOR) throw new UsageError(`--mesh ${o.mesh}: the local Istio tier runs the istiod that scripts/build-istio.sh builds (${ISTIO_TIER_MINOR}); use --mesh istio`);
    if (o.loadEngine === 'k6') throw new UsageError('--load-engine k6 with --mesh istio on the local target: k6 speaks neither xDS nor Istio mTLS, so the Istio tier sends load with its proxyless gRPC client; leave --load-engine out');
    tool('pilot-discovery');
    tool('meshcheck-proxyless');
  }
  if (o.target === 'kube') {
    if (!o.context) throw new UsageError('--target kube needs --context CTX: meshcheck never uses the current kube context implicitly');
    if (o.mesh === 'reference') throw new UsageError('--mesh reference runs on the local target only; on kube name the installed mesh: --mesh istio|linkerd|consul|osm|none');
    adapterFor(o.mesh);
    const { kubeClient, kubeconfigPath } = await import('../kube/client.js');
    kubeClient({ context: o.context, kubeconfig: o.kubeconfig });
    o.kubeconfig = kubeconfigPath(o.kubeconfig);
    const { allowedNamespaces } = await import('../targets/kube/guard.js');
    allowedNamespaces(o.allowChangesIn);
    for (const [flag, url] of [['--istiod-url', o.istiodUrl], ['--prometheus-url', o.prometheusUrl]] as const) {
      if (url && !/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`${flag} ${url}: not an http(s) URL, e.g. http://127.0.0.1:${flag === '--istiod-url' ? 15014 : 9090}`);
    }
    if (o.prometheusUrl && o.prometheusService) throw new UsageError('--prometheus-url and --prometheus-service name the same thing; give one');
    if (o.prometheusService) (await import('../targets/kube/cluster-prometheus.js')).parsePrometheusService(o.prometheusService);
    if (o.imageMirror && !/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]+)?$/i.test(o.imageMirror)) throw new UsageError(`--image-mirror ${o.imageMirror}: expected a registry host with an optional path, e.g. registry.example.com/mirror`);
  } else {
    const kubeOnly = Object.entries(KUBE_ONLY).filter(([k]) => o[k as keyof RunOptions] !== undefined).map(([, flag]) => flag);
    if (kubeOnly.length) throw new UsageError(`${kubeOnly.join(', ')} ${kubeOnly.length === 1 ? 'is' : 'are'} for --target kube`);
  }
  if (o.loadEngine === 'k6') tool('k6');
  const features = paths.length ? paths.map((p) => resolve(p)) : [DEFAULT_FEATURES];
  // "file.feature:14" (a scenario by line) is cucumber's own syntax; check the file part.
  for (const f of features) if (!existsSync(f.replace(/(:\d+)+$/, ""))) throw new UsageError(`feature path ${f} does not exist`);
  const runId = `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
  const out = resolve(o.out ?? join('runs', runId));
  // A reused run folder keeps nothing of the previous run's results.
  for (const f of ['allure-results', 'junit.xml', 'run-record.json']) rmSync(join(out, f), { recursive: true, force: true });
  const settings: RunSettings = { runId, out, mesh: o.mesh, target: o.target === 'kube' ? 'kube' : 'local', engine: o.loadEngine === 'k6' ? 'k6' : 'embedded', progress: o.progress, warmPrometheus: needsPrometheus(features), ...(o.target === 'kube' ? { context: o.context, kubeconfig: o.kubeconfig, allowChangesIn: o.allowChangesIn, istiodUrl: o.istiodUrl, k6Image: o.k6Image, imageMirror: o.imageMirror, prometheusUrl: o.prometheusUrl, prometheusService: o.prometheusService } : {}) };
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
  try {
    await runCucumber(runConfiguration, undefined, undefinedSteps.onMessage);
  } catch (err) {
    // Cucumber stops at a failed BeforeAll or AfterAll hook (a target that did not come up, a stop
    // that failed): whatever the run's ledger still holds is undone before the error is shown.
    // Cucumber wraps a run hook's error ("a BeforeAll hook errored, process exiting: <file>", for
    // AfterAll too): the cause is the news, and whether the target had come up says which hook it was.
    const up = RunContext.peek() !== undefined || RunContext.starting === undefined;
    await undoUnfinished();
    const cause = (err as Error).cause;
    const target = o.target === 'kube' ? 'kube target' : o.mesh === 'reference' ? 'local target' : 'Istio tier';
    if (/^a BeforeAll hook errored/.test((err as Error).message) && cause) throw new InfraError(`${up ? `stopping the ${target} failed` : `the ${target} did not come up`}: ${describeError(cause)}`);
    throw err;
  }
  lastOut = out;
  const results = join(out, 'allure-results');
  writeAllureCategories(results);
  const recordFile = join(out, 'run-record.json');
  // What the target says of itself (istiod's version, the data plane), for the report's environment.
  const facts = existsSync(recordFile) ? (JSON.parse(readFileSync(recordFile, 'utf8')) as { engine?: string; targetInfo?: { istiod?: string; dataPlane?: string } }) : {};
  writeAllureEnvironment(results, {
    meshcheck: MESHCHECK_VERSION, mesh: settings.mesh, target: settings.target, 'load.engine': facts.engine ?? settings.engine, 'kube.context': settings.context,
    istiod: facts.targetInfo?.istiod, 'data.plane': facts.targetInfo?.dataPlane,
    features: paths.length ? paths.join(' ') : 'features/ (bundled)', tags: o.tags, 'run.id': runId,
    'machine.cores': machine().cores, 'machine.cpu': machine().cpu, 'machine.memory': `${machine().memoryGiB} GiB`, node: process.version, os: machine().os,
  });
  writeAllureExecutor(results, runId);
  if (undefinedSteps.found.length) {
    process.stderr.write(`meshcheck: steps that match no definition (see the step catalogue in README.md):\n  ${undefinedSteps.found.join('\n  ')}\n`);
    return 2;
  }
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

/** Undoes what the run's ledger still records (its target failed to start or to stop). */
async function undoUnfinished(): Promise<void> {
  const ledger = RunContext.peek()?.ledger ?? RunContext.starting;
  if (!ledger || !existsSync(ledger.file)) return;
  const { undoLedger } = await import('./cleanup.js');
  try {
    for (const line of await undoLedger(ledger.file)) process.stderr.write(`meshcheck: cleanup: ${line}\n`);
  } catch (err) {
    process.stderr.write(`meshcheck: cleanup did not finish (${describeError(err)}); run \`meshcheck cleanup\` to finish it\n`);
  }
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
        } else if (RunContext.starting) {
          // Interrupted while the target was starting: undo what its ledger records so far.
          const { undoLedger } = await import('./cleanup.js');
          await undoLedger(RunContext.starting.file);
        }
      } finally {
        process.exit(130);
      }
    })();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

