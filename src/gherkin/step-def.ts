import { CucumberExpression, RegularExpression, type Expression } from '@cucumber/cucumber-expressions';
import type { SourceRef } from '../errors.js';
import type { Evidence } from '../evidence.js';
import type { Intent } from '../intents/types.js';
import type { SampleReading } from '../load/reading.js';
import type { CheckFeature } from '../meshes/types.js';
import type { ScenarioSession } from '../session/scenario.js';
import type { SampleCheck } from '../verdicts/sample-checks.js';
import type { Verdict } from '../verdicts/outcome.js';
import { parameterRegistry } from './params.js';

/** What a step gets from the runner besides its arguments. */
export interface StepCall {
  /** Where the step is written (file and line), for errors. */
  ref?: SourceRef;
  /** The step's data table, as rows keyed by its header. */
  table?: Record<string, string>[];
  /** The sample checks the scenario states after this step, up to its next action: a load may stop once they are decided. */
  upcoming(): SampleCheck[];
  /** This step's own check, when it was built ahead of the load (the same decision the load stopped on). */
  prebuilt?: SampleCheck;
}

/** What a step leaves: evidence for the report, and a verdict for a Then step. */
export interface StepOutput {
  evidence?: Evidence[];
  verdict?: Verdict;
}

/** One step of the vocabulary (README "Step catalogue"): its words and what it does, in the domain's terms. */
export interface StepDef {
  keyword: 'Given' | 'When' | 'Then';
  expression: string | RegExp;
  /** It takes a data table after its expression's arguments. */
  table?: boolean;
  /** A capability beyond intents it needs: without it, its verdict is NOT_SUPPORTED (and the mesh's metrics start first with it). */
  needs?: CheckFeature;
  /** An intent step: the intent it states (read ahead of running, for the capability check and plan). */
  intent?(args: unknown[], ref?: SourceRef, table?: Record<string, string>[]): Intent;
  /** A load step: its request budget (what the sample checks after it are decided within). */
  budget?(args: unknown[]): number;
  /** A Then step decided from the load client's samples: its check, built ahead of the load it judges. */
  sampleCheck?(reading: SampleReading, args: unknown[]): SampleCheck;
  run(s: ScenarioSession, args: unknown[], call: StepCall): Promise<StepOutput | void>;
}

/** How many arguments the step's expression captures. */
export function parameterCount(d: Pick<StepDef, 'expression'>): number {
  return typeof d.expression === 'string' ? (d.expression.match(/\{[^}]+\}/g) ?? []).length : new RegExp(`${d.expression.source}|`).exec('')!.length - 1;
}

/** The expression, compiled with meshcheck's parameter types, for matching step text outside cucumber. */
export function compile(d: Pick<StepDef, 'expression'>): Expression {
  return typeof d.expression === 'string' ? new CucumberExpression(d.expression, parameterRegistry) : new RegularExpression(d.expression, parameterRegistry);
}

/** A data table's rows keyed by its header row, when it has rows beyond the header. */
export function tableRows(rows: readonly (readonly string[])[] | undefined): Record<string, string>[] | undefined {
  return rows && rows.length > 1 ? rows.slice(1).map((r) => Object.fromEntries(r.map((v, i) => [rows[0]![i]!, v]))) : undefined;
}
