import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfiguration, runCucumber } from '@cucumber/cucumber/api';
import { InfraError, UsageError, describeError } from '../errors.js';
import { exitCodeFor, type Outcome } from '../verdicts/outcome.js';
import { openRun } from '../session/run.js';
import { newRunId, WORLD_KEY, type RunSettings } from '../session/settings.js';
import { machine } from '../util/machine.js';
import { MESHCHECK_VERSION } from '../util/package-root.js';
import { Ledger } from '../ledger/ledger.js';
import { DEFAULT_FEATURES, STEPS_GLOB } from './paths.js';
import { UndefinedSteps } from './undefined-steps.js';
import { needsPrometheus } from '../plan/features.js';
import { tool } from '../util/tools.js';
import { checkTarget, targetFor } from '../targets/registry.js';
import { INFRASTRUCTURE_MARKER } from '../verdicts/infrastructure.js';
import { writeAllureCategories, writeAllureEnvironment, writeAllureExecutor } from '../reports/allure.js';

/** What `meshcheck run` takes besides the feature paths; each target's own options are in `options`. */
export interface RunOptions {
  target: string;
  mesh: string;
  tags?: string;
  loadEngine: string;
  out?: string;
  progress: boolean;
  /** The values of the targets' options (src/targets/<target>/plugin.ts), by name. */
  options: Record<string, string | undefined>;
}

let lastOut: string | undefined;

/** The run folder of the last `run` in this process (for run --report). */
export function lastRunOut(): string {
  if (!lastOut) throw new UsageError('no run folder to report on');
  return lastOut;
}

/** `meshcheck run`: the features through cucumber; the exit code from the run's scenario outcomes. */
export async function run(paths: string[], o: RunOptions): Promise<number> {
  const plugin = targetFor(o.target, o.mesh);
  const engine = o.loadEngine === 'k6' ? 'k6' : 'embedded';
  await checkTarget(plugin, { mesh: o.mesh, engine, options: o.options });
  if (engine === 'k6') tool('k6');
  const features = paths.length ? paths.map((p) => resolve(p)) : [DEFAULT_FEATURES];
  // "file.feature:14" (a scenario by line) is cucumber's own syntax; check the file part.
  for (const f of features) if (!existsSync(f.replace(/(:\d+)+$/, ''))) throw new UsageError(`feature path ${f} does not exist`);
  const runId = newRunId();
  const out = resolve(o.out ?? join('runs', runId));
  // A reused run folder keeps nothing of the previous run's results.
  for (const f of ['allure-results', 'junit.xml', 'run-record.json']) rmSync(join(out, f), { recursive: true, force: true });
  const settings: RunSettings = { runId, out, target: o.target, mesh: o.mesh, engine, progress: o.progress, warmPrometheus: needsPrometheus(features), options: o.options };
  installSignalHandlers(runId);

  // The settings are all here: cucumber.mjs (its profiles, for running cucumber by hand) is not read.
  const { runConfiguration } = await loadConfiguration({
    file: false,
    provided: {
      paths: features,
      import: [STEPS_GLOB],
      format: ['progress', 'allure-cucumberjs/reporter', `junit:${join(out, 'junit.xml')}`],
      formatOptions: { resultsDir: join(out, 'allure-results') },
      // JSON, as a cucumber.mjs profile gives it: what reaches the scenarios is exactly these settings.
      worldParameters: JSON.parse(JSON.stringify({ [WORLD_KEY]: settings })) as Record<string, never>,
      tags: o.tags ?? '',
      strict: true,
    },
  });
  const undefinedSteps = new UndefinedSteps();
  process.stderr.write(`meshcheck: run ${runId} -> ${out}\n`);
  try {
    await runCucumber(runConfiguration, undefined, undefinedSteps.onMessage);
  } catch (err) {
    await leaveToInterrupt(runId);
    // Cucumber stops at a failed BeforeAll or AfterAll hook (a target that did not come up, a stop
    // that failed): whatever the run's ledger still holds is undone before the error is shown.
    // Cucumber wraps a run hook's error ("a BeforeAll hook errored, process exiting: <file>", for
    // AfterAll too): the cause is the news, and whether the target had come up says which hook it was.
    const up = openRun(runId)?.run !== undefined;
    await undoUnfinished(runId);
    const cause = (err as Error).cause;
    if (/^a BeforeAll hook errored/.test((err as Error).message) && cause) {
      if (cause instanceof UsageError) throw cause;
      throw new InfraError(`${up ? `stopping the ${plugin.title} failed` : `the ${plugin.title} did not come up`}: ${describeError(cause)}`);
    }
    throw err;
  }
  await leaveToInterrupt(runId);
  lastOut = out;
  const results = join(out, 'allure-results');
  writeAllureCategories(results);
  const done = openRun(runId)?.run;
  // What the target says of itself (istiod's version, the data plane), for the report's environment.
  const facts = done?.target.describe() as { istiod?: string; dataPlane?: string } | undefined;
  writeAllureEnvironment(results, {
    meshcheck: MESHCHECK_VERSION, mesh: settings.mesh, target: settings.target, 'load.engine': done?.engine ?? settings.engine, 'kube.context': settings.options.context,
    istiod: facts?.istiod, 'data.plane': facts?.dataPlane,
    features: paths.length ? paths.join(' ') : 'features/ (bundled)', tags: o.tags, 'run.id': runId,
    'machine.cores': machine().cores, 'machine.cpu': machine().cpu, 'machine.memory': `${machine().memoryGiB} GiB`, node: process.version, os: machine().os,
  });
  writeAllureExecutor(results, runId);
  if (undefinedSteps.found.length) {
    process.stderr.write(`meshcheck: steps that match no definition (see the step catalogue in README.md):\n  ${undefinedSteps.found.join('\n  ')}\n`);
    return 2;
  }
  if (!done) {
    process.stderr.write('meshcheck: no run record was written (no scenario ran?)\n');
    return 2;
  }
  if (done.scenarios.length === 0) {
    process.stderr.write(`meshcheck: no scenario matched${o.tags ? ` --tags ${o.tags}` : ''}\n`);
    return 2;
  }
  printSummary(done.scenarios, out);
  return exitCodeFor(done.scenarios.map((s) => s.outcome), done.scenarios.some((s) => s.usageError));
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

/**
 * Once the run is interrupted its signal handler owns the end: it undoes the ledger and exits 130.
 * Whatever cucumber returned or threw meanwhile (skipped scenarios, a start cut short) is not reported.
 */
async function leaveToInterrupt(runId: string): Promise<void> {
  if (openRun(runId)?.ledger.sealed) await new Promise(() => undefined);
}

/** Undoes what the run's ledger still records (its target failed to start or to stop). */
async function undoUnfinished(runId: string): Promise<void> {
  const ledger = openRun(runId)?.ledger;
  if (!ledger || !existsSync(ledger.file)) return;
  const { undoLedger } = await import('./cleanup.js');
  try {
    for (const line of await undoLedger(ledger.file)) process.stderr.write(`meshcheck: cleanup: ${line}\n`);
  } catch (err) {
    process.stderr.write(`meshcheck: cleanup did not finish (${describeError(err)}); run \`meshcheck cleanup\` to finish it\n`);
  }
}

/** Ctrl-C: clean up and exit 130; a second Ctrl-C forces (SIGKILL to the process group). */
function installSignalHandlers(runId: string): void {
  let interrupted = false;
  const handler = (sig: NodeJS.Signals) => {
    const entry = openRun(runId);
    if (interrupted) {
      process.stderr.write(`\nmeshcheck: ${sig} again, forcing\n`);
      if (entry) for (const e of Ledger.read(entry.ledger.file)) if (e.op === 'process-group') try { process.kill(-e.pgid, 'SIGKILL'); } catch { /* gone */ }
      process.exit(130);
    }
    interrupted = true;
    process.stderr.write(`\nmeshcheck: ${sig}: cleaning up (press Ctrl-C again to force)\n`);
    // Sealed first: work still under way (a target starting, a scenario's step) can make no new
    // change, and no scenario starts; what the ledger holds is undone below.
    entry?.ledger.seal(`interrupted (${sig})`);
    void (async () => {
      try {
        if (entry?.run) {
          entry.run.writeRecord();
          await entry.run.close();
        } else if (entry) {
          // Interrupted while the target was starting: undo what its ledger records so far.
          const { undoLedger } = await import('./cleanup.js');
          await undoLedger(entry.ledger.file);
        }
      } finally {
        process.exit(130);
      }
    })();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
