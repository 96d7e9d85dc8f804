import { World, setWorldConstructor, type DataTable, type IWorldOptions } from '@cucumber/cucumber';
import * as allure from 'allure-js-commons';
import type { SourceRef } from '../../src/errors.js';
import type { Evidence } from '../../src/evidence.js';
import type { ScenarioSession } from '../../src/session/scenario.js';
import { checksAhead, type StepText } from '../../src/gherkin/catalogue.js';
import { parameterCount, type StepCall, type StepDef } from '../../src/gherkin/step-def.js';

/** A check built ahead of the load it judges. */
type SampleCheck = NonNullable<StepCall['prebuilt']>;

export interface PickleStepLite extends StepText {
  id: string;
  type?: string;
}

/** A scenario as cucumber runs it: the session that does the work, and where the runner is in its steps. */
export class MeshWorld extends World {
  session?: ScenarioSession;
  ref?: SourceRef;
  steps: PickleStepLite[] = [];
  stepIndex = -1;
  /** Checks built ahead of the load, by pickle step id, so the Then step uses the same decision. */
  readonly prebuilt = new Map<string, SampleCheck>();
  /** The error a step or hook threw (the session tells a verdict's from the harness's). */
  error?: unknown;

  constructor(options: IWorldOptions) {
    super(options);
  }

  /** Runs a catalogue step: its evidence attached, its verdict turned into the step's result. */
  async exec(def: StepDef, args: unknown[]): Promise<'skipped' | undefined> {
    const s = this.session!;
    s.run.throwIfInterrupted();
    const n = parameterCount(def);
    const out = await def.run(s, args.slice(0, n), {
      ref: this.ref,
      table: def.table ? (args[n] as DataTable).hashes() : undefined,
      upcoming: () => this.checksAhead(),
      prebuilt: this.prebuilt.get(this.steps[this.stepIndex]?.id ?? ''),
    });
    await attach(out?.evidence ?? []);
    if (!out?.verdict) return undefined;
    const { evidence, ...end } = await s.conclude(out.verdict);
    await attach(evidence);
    if (end.end === 'failed') throw end.error;
    return end.end === 'skipped' ? 'skipped' : undefined;
  }

  /** The checks stated after the current step, built now and kept for their own steps. */
  private checksAhead(): SampleCheck[] {
    return checksAhead(this.steps, this.stepIndex, this.session!.reading).map(({ id, check }) => {
      this.prebuilt.set(id, check);
      return check;
    });
  }
}

/** Evidence as Allure attachments, in order. */
export async function attach(evidence: readonly Evidence[]): Promise<void> {
  for (const e of evidence) await allure.attachment(e.name, e.body, { contentType: e.contentType });
}

setWorldConstructor(MeshWorld);
