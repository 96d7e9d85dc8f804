import type { SourceRef } from '../errors.js';
import type { Intent } from '../intents/types.js';
import type { SampleReading } from '../load/reading.js';
import type { CheckFeature } from '../meshes/types.js';
import type { SampleCheck } from '../verdicts/sample-checks.js';
import { CONTROL_PLANE_STEPS, LOAD_STEPS, WORKLOAD_STEPS } from './action-steps.js';
import { INTENT_STEPS } from './intent-steps.js';
import { compile, tableRows, type StepDef } from './step-def.js';
import { OBSERVED_STEPS, SAMPLE_STEPS } from './verdict-steps.js';

/**
 * The step catalogue (README "Step catalogue"): every step meshcheck understands, defined once. The
 * runner registers these with cucumber (steps/), the capability check and `meshcheck plan` read the
 * intents a scenario states from them, and the run starts Prometheus for the scenarios whose steps
 * need the mesh's metrics: all by matching the same expressions, never by how a step's text begins.
 */
export const STEPS: readonly StepDef[] = [...WORKLOAD_STEPS, ...INTENT_STEPS, ...LOAD_STEPS, ...CONTROL_PLANE_STEPS, ...SAMPLE_STEPS, ...OBSERVED_STEPS];

const compiled = STEPS.map((def) => ({ def, expr: compile(def) }));

/** The step a text is, and its arguments; undefined when no step of the catalogue matches. */
export function stepOf(text: string): { def: StepDef; args: unknown[] } | undefined {
  for (const { def, expr } of compiled) {
    const args = expr.match(text);
    if (args) return { def, args: args.map((a) => a.getValue(null)) };
  }
  return undefined;
}

/** The intent a step's text states, or undefined when the step is not an intent step. */
export function intentOfStep(text: string, ref?: SourceRef, table?: Record<string, string>[]): Intent | undefined {
  const hit = stepOf(text);
  return hit?.def.intent?.(hit.args, ref, table);
}

/** The capability beyond intents a step's text needs (the mesh's metrics, sidecars to measure), if any. */
export function checkFeatureOf(text: string): CheckFeature | undefined {
  return stepOf(text)?.def.needs;
}

/** A step's text and, when it has one, its data table (header first). */
export interface StepText {
  text: string;
  rows?: string[][];
}

/** The intents a scenario's steps state, read ahead of running it. A malformed intent step is reported by the step itself, with its file and line. */
export function scenarioIntents(steps: readonly StepText[]): Intent[] {
  const out: Intent[] = [];
  for (const s of steps) {
    try {
      const i = intentOfStep(s.text, undefined, tableRows(s.rows));
      if (i) out.push(i);
    } catch {
      // Reported when the step runs.
    }
  }
  return out;
}

/** The capabilities beyond intents a scenario's steps need, each once. */
export function scenarioNeeds(steps: readonly StepText[]): CheckFeature[] {
  return [...new Set(steps.map((s) => checkFeatureOf(s.text)).filter((f): f is CheckFeature => f !== undefined))];
}

/**
 * The sample checks a scenario states, each with the budget of the load it follows, for what that
 * budget can decide of it (verdicts/power.ts); a check after no load has no budget.
 */
export function scenarioClaims(steps: readonly StepText[], reading: SampleReading): { index: number; check: SampleCheck; budget?: number }[] {
  const out: { index: number; check: SampleCheck; budget?: number }[] = [];
  let budget: number | undefined;
  steps.forEach((step, index) => {
    const hit = stepOf(step.text);
    if (hit?.def.budget) budget = hit.def.budget(hit.args);
    if (hit?.def.sampleCheck) out.push({ index, check: hit.def.sampleCheck(reading, hit.args), ...(budget !== undefined ? { budget } : {}) });
  });
  return out;
}

/**
 * The sample checks a scenario states after step `from`, up to its next action (When) step, built
 * with the target's reading: the load they follow may stop once they are all decided, and each Then
 * step then uses the same check (by step id).
 */
export function checksAhead(steps: readonly (StepText & { id: string; type?: string })[], from: number, reading: SampleReading): { id: string; check: SampleCheck }[] {
  const out: { id: string; check: SampleCheck }[] = [];
  for (const step of steps.slice(from + 1)) {
    if (step.type === 'Action') break;
    const hit = stepOf(step.text);
    if (hit?.def.sampleCheck) out.push({ id: step.id, check: hit.def.sampleCheck(reading, hit.args) });
  }
  return out;
}
