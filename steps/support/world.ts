import { World, setWorldConstructor, type IWorldOptions } from '@cucumber/cucumber';
import * as allure from 'allure-js-commons';
import { CucumberExpression } from '@cucumber/cucumber-expressions';
import type { SourceRef } from '../../src/errors.js';
import type { ScenarioSession } from '../../src/session/scenario.js';
import type { SampleCheck } from '../../src/verdicts/sample-checks.js';
import type { Verdict } from '../../src/verdicts/outcome.js';
import type { Intent } from '../../src/intents/types.js';
import type { LoadProfile } from '../../src/load/profile.js';
import { lookaheadRegistry } from './params.js';
import { percentileChart, percentilePoints } from '../../src/reports/charts.js';
import { decodeHistogram } from '../../src/load/histogram-codec.js';

export interface PickleStepLite {
  id: string;
  text: string;
  type?: string;
}

/** A Then step whose verdict can be decided from the load client's samples. */
export interface SampleCheckStep {
  expression: string;
  build: (...args: never[]) => SampleCheck;
}

export const sampleCheckSteps: SampleCheckStep[] = [];

export class MeshWorld extends World {
  session!: ScenarioSession;
  ref?: SourceRef;
  steps: PickleStepLite[] = [];
  stepIndex = -1;
  /** Checks built ahead of the load, by pickle step id, so the Then step uses the same decision. */
  readonly prebuilt = new Map<string, SampleCheck>();
  error?: unknown;
  /** Set before the scenario runs when the mesh cannot express one of its intents: the reasons. */
  notSupported?: string[];

  constructor(options: IWorldOptions) {
    super(options);
  }

  /** Builds the sample checks stated after the current step, up to the next action (When) step. */
  upcomingChecks(): SampleCheck[] {
    const out: SampleCheck[] = [];
    for (const step of this.steps.slice(this.stepIndex + 1)) {
      if (step.type === 'Action') break;
      for (const c of sampleCheckSteps) {
        const args = new CucumberExpression(c.expression, lookaheadRegistry).match(step.text);
        if (!args) continue;
        const check = c.build(...(args.map((a) => a.getValue(null)) as never[]));
        this.prebuilt.set(step.id, check);
        out.push(check);
        break;
      }
    }
    return out;
  }

  /** Applies an intent and attaches it to the Allure result. */
  async applyIntent(intent: Intent): Promise<void> {
    const { convergenceMs, evidence } = await this.session.applyIntent(intent, this.ref);
    await allure.attachment(`intent ${intent.kind}`, JSON.stringify({ intent, convergenceMs: Number(convergenceMs.toFixed(2)) }, null, 2), { contentType: 'application/json' });
    for (const e of evidence) await allure.attachment(e.name, e.body, { contentType: e.contentType });
  }

  /** Sends load (stopping early once the following checks are decided) and attaches its summary. */
  async sendLoad(p: LoadProfile): Promise<void> {
    await this.session.sendLoad(p, this.upcomingChecks());
    await this.attachLoads(1);
  }

  /** Attaches the last loads' summaries and one latency chart (latency by percentile, one line per load). */
  async attachLoads(count: number): Promise<void> {
    for (const l of this.session.loads.slice(-count)) await allure.attachment('load summary', JSON.stringify(l, null, 2), { contentType: 'application/json' });
    const loads = this.session.run.histograms.slice(-count);
    const series = loads.map((h) => ({ label: /\(([^)]*)\)$/.exec(h.scenario)?.[1] ?? `${h.service} (${h.engine})`, points: percentilePoints(decodeHistogram(h.hdr)) }));
    await allure.attachment('latency chart', percentileChart({ title: `Latency by percentile: ${loads.map((h) => h.service).filter((v, i, a) => a.indexOf(v) === i).join(', ')}`, series }), { contentType: 'image/svg+xml' });
  }

  currentCheck(build: () => SampleCheck): SampleCheck {
    return this.prebuilt.get(this.steps[this.stepIndex]?.id ?? '') ?? build();
  }

  /** Records a verdict, attaches the evidence, and turns a non-pass into the step's result. */
  async verdict(v: Verdict): Promise<'skipped' | undefined> {
    const checked = await this.session.record(v);
    await allure.attachment(`verdict: ${checked.outcome}`, JSON.stringify(checked, null, 2), { contentType: 'application/json' });
    if (checked.outcome === 'PASSED') return undefined;
    if (checked.outcome === 'NOT_SUPPORTED') return 'skipped';
    throw new VerdictAssertionError(`${checked.outcome}: ${checked.claim}\n  observed: ${checked.observed}\n  ${checked.explanation}`);
  }
}

/**
 * A verdict that is not a pass (FAILED or INCONCLUSIVE); not a harness error. Allure tells a failed
 * test from a broken one by the error's class name ("Assertion" = failed), hence the name.
 */
export class VerdictAssertionError extends Error {}

setWorldConstructor(MeshWorld);
