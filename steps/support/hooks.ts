import 'allure-cucumberjs';
import { AfterAll, After, Before, BeforeAll, BeforeStep, setDefaultTimeout, Status } from '@cucumber/cucumber';
import * as allure from 'allure-js-commons';
import { basename } from 'node:path';
import { RunContext } from '../../src/session/run-context.js';
import { ScenarioSession } from '../../src/session/scenario.js';
import { UsageError, describeError } from '../../src/errors.js';
import { worst } from '../../src/verdicts/outcome.js';
import { MeshWorld, VerdictError } from './world.js';

setDefaultTimeout(180_000);

BeforeAll({ timeout: 60_000 }, async function () {
  await RunContext.open((m) => process.stderr.write(`meshcheck: ${m}\n`));
});

AfterAll({ timeout: 60_000 }, async function () {
  const run = RunContext.peek();
  if (!run) return;
  run.writeRecord();
  await run.close();
});

Before(async function (this: MeshWorld, { pickle, gherkinDocument }) {
  const run = RunContext.get();
  this.session = new ScenarioSession(run, pickle.name);
  this.steps = pickle.steps.map((s) => ({ id: s.id, text: s.text, type: s.type }));
  if (this.steps.some((st) => st.text.startsWith('the mesh reports '))) await this.session.preparePrometheus();
  const capability = basename(pickle.uri).replace(/\.feature$/, '');
  await allure.parentSuite(run.settings.mesh);
  await allure.suite(capability);
  await allure.feature(gherkinDocument.feature?.name ?? capability);
  await allure.parameter('mesh', run.settings.mesh);
  await allure.parameter('target', run.settings.target);
  await allure.parameter('engine', run.settings.engine);
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
  const problems = await s.cleanup();
  const run = RunContext.get();
  const usage = this.error instanceof UsageError;
  const harness = result?.status === Status.FAILED && this.error !== undefined && !(this.error instanceof VerdictError);
  // A scenario that states no verdict checked nothing: it cannot pass.
  const noVerdict = !harness && s.verdicts.length === 0 && result?.status === Status.PASSED;
  const outcome = harness || problems.length ? 'BROKEN' : noVerdict ? 'INCONCLUSIVE' : worst(s.verdicts.map((v) => v.outcome));
  run.scenarios.push({
    name: pickle.name, feature: pickle.uri, capability: basename(pickle.uri).replace(/\.feature$/, ''), outcome,
    verdicts: s.verdicts, loads: s.loads, convergenceMs: s.convergenceMs.map((x) => Number(x.toFixed(2))),
    error: harness ? describeError(this.error) : problems.length ? problems.join('; ') : undefined, usageError: usage || undefined,
  });
  if (problems.length) throw new Error(`cleanup of "${pickle.name}" left problems: ${problems.join('; ')}`);
  if (noVerdict) throw new Error(`INCONCLUSIVE: "${pickle.name}" states no Then step, so it checked nothing`);
});
