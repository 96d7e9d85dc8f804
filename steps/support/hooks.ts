import 'allure-cucumberjs';
import { AfterAll, After, Before, BeforeAll, BeforeStep, setDefaultTimeout, Status } from '@cucumber/cucumber';
import * as allure from 'allure-js-commons';
import { basename } from 'node:path';
import { RunContext } from '../../src/session/run-context.js';
import { ScenarioSession } from '../../src/session/scenario.js';
import { UsageError, describeError } from '../../src/errors.js';
import { worst } from '../../src/verdicts/outcome.js';
import { checkFeatureOf } from '../../src/gherkin/check-features.js';
import { MeshWorld, VerdictAssertionError } from './world.js';

setDefaultTimeout(180_000);

// Bring-up: every step of it has its own timeout (apiserver, istiod, rollouts), with an error that
// names what did not come up. This bound is the last resort, far above them: cut off from outside,
// a bring-up would go on in the background while the run undoes its ledger.
BeforeAll({ timeout: 600_000 }, async function () {
  await RunContext.open((m) => process.stderr.write(`meshcheck: ${m}\n`));
});

AfterAll({ timeout: 300_000 }, async function () {
  const run = RunContext.peek();
  if (!run) return;
  run.writeRecord();
  await run.close();
});

Before(async function (this: MeshWorld, { pickle, gherkinDocument }) {
  const run = RunContext.get();
  this.session = new ScenarioSession(run, pickle.name);
  this.steps = pickle.steps.map((s) => ({ id: s.id, text: s.text, type: s.type }));
  const capability = basename(pickle.uri).replace(/\.feature$/, '');
  await allure.parentSuite(run.target.label);
  await allure.suite(capability);
  await allure.feature(gherkinDocument.feature?.name ?? capability);
  await allure.parameter('mesh', run.settings.mesh);
  await allure.parameter('target', run.settings.target);
  await allure.parameter('engine', run.engine);
  // Capability first: a scenario the data plane cannot express is NOT_SUPPORTED before anything is applied.
  const prepared = await this.session.prepare(pickle.steps.map((s) => ({ text: s.text, rows: s.argument?.dataTable?.rows.map((r) => r.cells.map((c) => c.value)) })));
  for (const [name, value] of prepared.labels) await allure.label(name, value);
  for (const e of prepared.evidence) await allure.attachment(e.name, e.body, { contentType: e.contentType });
  if (prepared.notSupported) {
    this.notSupported = prepared.notSupported;
    return 'skipped';
  }
  try {
    await this.session.start();
    if (this.steps.some((st) => checkFeatureOf(st.text) === 'mesh-metrics') && !this.session.lacks('mesh-metrics')) await this.session.preparePrometheus();
  } catch (err) {
    this.error = err;
    throw err;
  }
  return undefined;
});

BeforeStep(function (this: MeshWorld, { pickle, pickleStep, gherkinDocument }) {
  this.stepIndex = pickle.steps.findIndex((s) => s.id === pickleStep.id);
  const astId = pickleStep.astNodeIds[0];
  let line: number | undefined;
  for (const child of gherkinDocument.feature?.children ?? []) {
    const steps = [...(child.scenario?.steps ?? []), ...(child.background?.steps ?? []), ...(child.rule?.children.flatMap((c) => [...(c.scenario?.steps ?? []), ...(c.background?.steps ?? [])]) ?? [])];
    const hit = steps.find((s) => s.id === astId);
    if (hit) line = hit.location.line;
  }
  this.ref = { file: pickle.uri, line: line ?? 0 };
});

After(async function (this: MeshWorld, { pickle, result }) {
  const s = this.session;
  if (!s) return;
  if (this.notSupported) {
    RunContext.get().scenarios.push({
      name: pickle.name, feature: pickle.uri, capability: basename(pickle.uri).replace(/\.feature$/, ''), outcome: 'NOT_SUPPORTED',
      verdicts: [], loads: [], convergenceMs: [], notSupported: this.notSupported,
    });
    return;
  }
  const problems = await s.cleanup();
  const run = RunContext.get();
  const usage = this.error instanceof UsageError;
  // A failure that is not a verdict's is the harness's own, recorded error or not: never a pass.
  const harness = result?.status === Status.FAILED && !(this.error instanceof VerdictAssertionError);
  // A scenario that states no verdict checked nothing: it cannot pass.
  const noVerdict = !harness && s.verdicts.length === 0 && result?.status === Status.PASSED;
  const outcome = harness || problems.length ? 'BROKEN' : noVerdict ? 'INCONCLUSIVE' : worst(s.verdicts.map((v) => v.outcome));
  const infrastructure = [...new Set(s.verdicts.flatMap((v) => v.infrastructure?.reasons ?? []))];
  run.scenarios.push({
    name: pickle.name, feature: pickle.uri, capability: basename(pickle.uri).replace(/\.feature$/, ''), outcome,
    verdicts: s.verdicts, loads: s.loads, convergenceMs: s.convergenceMs.map((x) => Number(x.toFixed(2))),
    ...(infrastructure.length ? { infrastructure } : {}),
    error: [harness ? (this.error !== undefined ? describeError(this.error) : result?.message ?? 'a hook or step failed without an error') : undefined, problems.length ? `cleanup: ${problems.join('; ')}` : undefined].filter(Boolean).join('; ') || undefined, usageError: usage || undefined,
  });
  if (problems.length) throw new Error(`cleanup of "${pickle.name}" left problems: ${problems.join('; ')}`);
  if (noVerdict) throw new Error(`INCONCLUSIVE: "${pickle.name}" states no Then step, so it checked nothing`);
});
