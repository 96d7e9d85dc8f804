import 'allure-cucumberjs';
import { AfterAll, After, Before, BeforeAll, BeforeStep, setDefaultTimeout, Status } from '@cucumber/cucumber';
import * as allure from 'allure-js-commons';
import { basename } from 'node:path';
import { RunContext } from '../../src/session/run-context.js';
import { ScenarioSession } from '../../src/session/scenario.js';
import { InfraError, UsageError, describeError } from '../../src/errors.js';
import { adapterFor, appContext } from '../../src/adapters/registry.js';
import { describeIntent, describeSupport, scenarioLevel, toYaml } from '../../src/plan/plan.js';
import { scenarioIntents, unsupportedOn } from '../../src/session/capability.js';
import { worst } from '../../src/verdicts/outcome.js';
import { MeshWorld, VerdictAssertionError } from './world.js';

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
  const capability = basename(pickle.uri).replace(/\.feature$/, '');
  await allure.parentSuite(run.settings.mesh);
  await allure.suite(capability);
  await allure.feature(gherkinDocument.feature?.name ?? capability);
  await allure.parameter('mesh', run.settings.mesh);
  await allure.parameter('target', run.settings.target);
  await allure.parameter('engine', run.settings.engine);
  if (run.settings.mesh !== 'reference') {
    // Capability first: a scenario the mesh cannot express is NOT_SUPPORTED before anything is applied.
    const { adapter, version } = adapterFor(run.settings.mesh);
    const intents = scenarioIntents(pickle.steps.map((s) => ({ text: s.text, rows: s.argument?.dataTable?.rows.map((r) => r.cells.map((c) => c.value)) })));
    const missing = unsupportedOn(adapter, version, intents);
    if (missing.length) {
      this.notSupported = missing.map((m) => m.text);
      await allure.label('meshcheck_outcome', 'NOT_SUPPORTED');
      await allure.attachment('not supported by mesh', JSON.stringify({ mesh: adapter.name, version, unsupported: missing.map((m) => ({ intent: m.intent, reason: (m.support as { reason: string }).reason })) }, null, 2), { contentType: 'application/json' });
      return 'skipped';
    }
    // What the mesh would be given: each intent's level (emulated is labelled as such) and the exact manifests.
    const rendered = adapter.render(intents, appContext(run.kube?.namespace ?? 'meshcheck', version, run.settings.runId));
    const level = scenarioLevel(rendered.intents.map((i) => i.support));
    await allure.label('meshcheck_level', level);
    await allure.attachment(`capability on ${adapter.name} ${version}`, rendered.intents.map((i) => `${describeIntent(i.intent)}: ${describeSupport(i.support)}`).join('\n') || 'no intents: the scenario needs only the sidecars', { contentType: 'text/plain' });
    if (rendered.objects.length) await allure.attachment(`manifests (${adapter.name} ${version})`, toYaml(rendered.objects), { contentType: 'application/yaml' });
    if (run.kube) {
      try {
        await run.kube.prepare(adapter, version, (m) => process.stderr.write(`meshcheck: ${m}\n`));
        throw new InfraError(`the workload is ready in namespace ${run.kube.namespace}, but applying ${adapter.name} policy and sending load on the kube target are not implemented in this version; use --target local for the reference mesh, and meshcheck plan --mesh ${run.settings.mesh} for what would be applied`);
      } catch (err) {
        this.error = err;
        throw err;
      }
    }
  }
  if (this.steps.some((st) => st.text.startsWith('the mesh reports '))) await this.session.preparePrometheus();
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
  const harness = result?.status === Status.FAILED && this.error !== undefined && !(this.error instanceof VerdictAssertionError);
  // A scenario that states no verdict checked nothing: it cannot pass.
  const noVerdict = !harness && s.verdicts.length === 0 && result?.status === Status.PASSED;
  const outcome = harness || problems.length ? 'BROKEN' : noVerdict ? 'INCONCLUSIVE' : worst(s.verdicts.map((v) => v.outcome));
  const infrastructure = [...new Set(s.verdicts.flatMap((v) => v.infrastructure?.reasons ?? []))];
  run.scenarios.push({
    name: pickle.name, feature: pickle.uri, capability: basename(pickle.uri).replace(/\.feature$/, ''), outcome,
    verdicts: s.verdicts, loads: s.loads, convergenceMs: s.convergenceMs.map((x) => Number(x.toFixed(2))),
    ...(infrastructure.length ? { infrastructure } : {}),
    error: harness ? describeError(this.error) : problems.length ? problems.join('; ') : undefined, usageError: usage || undefined,
  });
  if (problems.length) throw new Error(`cleanup of "${pickle.name}" left problems: ${problems.join('; ')}`);
  if (noVerdict) throw new Error(`INCONCLUSIVE: "${pickle.name}" states no Then step, so it checked nothing`);
});
