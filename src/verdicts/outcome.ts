export type Outcome = 'PASSED' | 'FAILED' | 'NOT_SUPPORTED' | 'INCONCLUSIVE' | 'BROKEN';

/** The result of one Then step, with the evidence a reader needs to trust it. */
export interface Verdict {
  outcome: Outcome;
  /** The claim checked, in the feature's words. */
  claim: string;
  /** What was observed, in words, e.g. "312 of 1000 responses (31.2%)". */
  observed: string;
  /**
   * Interval around the observed value, in the claim's unit. `oneSided`: each bound is a one-sided
   * bound at `confidence` (a one-sided claim is decided on one of them); else a two-sided interval.
   */
  interval?: { lo: number | null; hi: number | null; confidence: number; unit: string; oneSided?: boolean };
  /** The band the interval had to lie in. */
  band?: { lo: number; hi: number; unit: string };
  samples: number;
  explanation: string;
  /**
   * Set when the load was not healthy: the reasons and the load's figures, and, when the data alone
   * gave FAILED, that outcome (withheld: the verdict is INCONCLUSIVE).
   */
  infrastructure?: { withheld?: 'FAILED'; reasons: string[]; figures: string[] };
}

/** Exit code of a whole run from its scenario outcomes (DESIGN.md "Outcomes and exit codes"). */
export function exitCodeFor(outcomes: Outcome[], usageError = false): number {
  if (usageError) return 2;
  if (outcomes.includes('BROKEN')) return 3;
  if (outcomes.includes('FAILED') || outcomes.includes('INCONCLUSIVE')) return 1;
  return 0;
}

/** Worst-first order used to roll step verdicts up into a scenario outcome. */
export function worst(outcomes: Outcome[]): Outcome {
  for (const o of ['BROKEN', 'FAILED', 'INCONCLUSIVE', 'NOT_SUPPORTED', 'PASSED'] as const) if (outcomes.includes(o)) return o;
  return 'PASSED';
}

/**
 * A verdict that is not a pass (FAILED or INCONCLUSIVE), thrown to fail its step; not a harness
 * error. Allure tells a failed test from a broken one by the error's class name ("Assertion" =
 * failed), hence the name.
 */
export class VerdictAssertionError extends Error {}

/** How a verdict ends its step: passed, skipped (NOT_SUPPORTED), or failed with this message. */
export function stepEnd(v: Verdict): { end: 'passed' | 'skipped' } | { end: 'failed'; error: VerdictAssertionError } {
  if (v.outcome === 'PASSED') return { end: 'passed' };
  if (v.outcome === 'NOT_SUPPORTED') return { end: 'skipped' };
  return { end: 'failed', error: new VerdictAssertionError(`${v.outcome}: ${v.claim}\n  observed: ${v.observed}\n  ${v.explanation}`) };
}
