import 'allure-cucumberjs';
import { AfterAll, After, Before, BeforeAll, BeforeStep, setDefaultTimeout, Status } from '@cucumber/cucumber';
import * as allure from 'allure-js-commons';
import { Run } from '../../src/session/run.js';
import { settingsFrom } from '../../src/session/settings.js';
import { ScenarioSession } from '../../src/session/scenario.js';
import { capabilityOf } from '../../src/session/roll-up.js';
import { scenarioIntents, scenarioNeeds } from '../../src/gherkin/catalogue.js';
import { attach, type MeshWorld } from './world.js';

setDefaultTimeout(180_000);

/** The run this process's scenarios belong to, opened once before the first. */
let run: Run | undefined;

// Bring-up: every step of it has its own timeout (apiserver, istiod, rollouts), with an error that
// names what did not come up. This bound is the last resort, far above them: cut off from outside,
// a bring-up would go on in the background while the run undoes its ledger.
BeforeAll({ timeout: 600_000 }, async function () {
  run = await Run.open(settingsFrom(this.parameters), (m) => process.stderr.write(`meshcheck: ${m}\n`));
});

AfterAll({ timeout: 300_000 }, async function () {
  // Interrupted: the signal handler writes the record and stops the target (src/cli/run.ts).
  if (!run || run.interrupted) return;
  run.writeRecord();
  await run.close();
});

Before(async function (this: MeshWorld, { pickle, gherkinDocument }) {
  if (run!.interrupted) return 'skipped';
  const session = new ScenarioSession(run!, pickle.name);
  this.session = session;
  this.steps = pickle.steps.map((s) => ({ id: s.id, text: s.text, type: s.type, rows: s.argument?.dataTable?.rows.map((r) => r.cells.map((c) => c.value)) }));
  const capability = capabilityOf(pickle.uri);
  await allure.parentSuite(run!.target.label);
  await allure.suite(capability);
  await allure.feature(gherkinDocument.feature?.name ?? capability);
  await allure.parameter('mesh', run!.settings.mesh);
  await allure.parameter('target', run!.settings.target);
  await allure.parameter('engine', run!.engine);
  // Capability first: a scenario the data plane cannot express is NOT_SUPPORTED before anything is applied.
  const prepared = session.prepare(scenarioIntents(this.steps));
  for (const [name, value] of prepared.labels) await allure.label(name, value);
  await attach(prepared.evidence);
  if (prepared.notSupported) return 'skipped';
  try {
    await session.start(scenarioNeeds(this.steps));
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
    const steps = [
      ...(child.scenario?.steps ?? []),
      ...(child.background?.steps ?? []),
      ...(child.rule?.children.flatMap((c) => [...(c.scenario?.steps ?? []), ...(c.background?.steps ?? [])]) ?? []),
    ];
    const hit = steps.find((s) => s.id === astId);
    if (hit) line = hit.location.line;
  }
  this.ref = { file: pickle.uri, line: line ?? 0 };
});

After(async function (this: MeshWorld, { pickle, result }) {
  if (!this.session) return;
  const status = result?.status === Status.PASSED ? 'passed' : result?.status === Status.FAILED ? 'failed' : 'other';
  const raise = await this.session.finish({ feature: pickle.uri, status, message: result?.message, error: this.error });
  if (raise) throw new Error(raise);
});
