import type { Intent } from '../intents/types.js';
import type { Support } from '../meshes/types.js';
import { intentOfStep } from '../gherkin/intent-steps.js';
import { describeIntent } from '../intents/describe.js';

export interface PickleStepText {
  text: string;
  /** Data table rows (header first), when the step has one. */
  rows?: string[][];
}

/** The intents a scenario's steps state, read ahead of running it (the same catalogue as the steps). */
export function scenarioIntents(steps: PickleStepText[]): Intent[] {
  const out: Intent[] = [];
  for (const s of steps) {
    const table = s.rows && s.rows.length > 1 ? s.rows.slice(1).map((r) => Object.fromEntries(r.map((v, i) => [s.rows![0]![i]!, v]))) : undefined;
    try {
      const i = intentOfStep(s.text, undefined, table);
      if (i) out.push(i);
    } catch {
      // A malformed intent step is reported by the step itself, with its file and line.
    }
  }
  return out;
}

/** Why a scenario cannot run: each intent whose support (in order) is unsupported, and the reason; empty when it can. */
export function unsupportedOf(intents: readonly Intent[], supports: readonly Support[]): { intent: Intent; support: Support; text: string }[] {
  return intents.map((intent, n) => ({ intent, support: supports[n]! }))
    .filter((x) => x.support.level === 'unsupported')
    .map((x) => ({ ...x, text: `${describeIntent(x.intent)}: ${(x.support as { reason: string }).reason}` }));
}
