import { basename } from 'node:path';
import { describeError, UsageError } from '../errors.js';
import type { ScenarioRecord } from '../reports/run-record.js';
import { VerdictAssertionError, worst, type Verdict } from '../verdicts/outcome.js';

/** What a scenario leaves for its record. */
export interface ScenarioState {
  name: string;
  notSupported?: string[];
  verdicts: Verdict[];
  loads: Record<string, unknown>[];
  convergenceMs: number[];
}

/** How the runner ended a scenario: its steps' result and the error a step or hook threw. */
export interface StepsResult {
  /** The feature file. */
  feature: string;
  status: 'passed' | 'failed' | 'other';
  /** The runner's message when a step failed without an error of meshcheck's. */
  message?: string;
  error?: unknown;
}

/** The capability of a scenario: its feature file's base name. */
export const capabilityOf = (feature: string): string => basename(feature).replace(/\.feature$/, '');

/**
 * A scenario's outcome from its verdicts and how its steps ended, after its cleanup: a failure that
 * is not a verdict's is the harness's own (BROKEN), recorded error or not, and never a pass; a cleanup
 * that left problems is BROKEN; a scenario that states no verdict checked nothing, so it cannot pass
 * (INCONCLUSIVE). Gives the record and the error to raise, if any.
 */
export function rollUp(s: ScenarioState, r: StepsResult, problems: readonly string[]): { record: ScenarioRecord; raise?: string } {
  const base = { name: s.name, feature: r.feature, capability: capabilityOf(r.feature) };
  if (s.notSupported) return { record: { ...base, outcome: 'NOT_SUPPORTED', verdicts: [], loads: [], convergenceMs: [], notSupported: s.notSupported } };
  const harness = r.status === 'failed' && !(r.error instanceof VerdictAssertionError);
  const noVerdict = !harness && s.verdicts.length === 0 && r.status === 'passed';
  const outcome = harness || problems.length ? 'BROKEN' : noVerdict ? 'INCONCLUSIVE' : worst(s.verdicts.map((v) => v.outcome));
  const infrastructure = [...new Set(s.verdicts.flatMap((v) => v.infrastructure?.reasons ?? []))];
  const error = [
    harness ? (r.error !== undefined ? describeError(r.error) : r.message ?? 'a hook or step failed without an error') : undefined,
    problems.length ? `cleanup: ${problems.join('; ')}` : undefined,
  ].filter(Boolean).join('; ') || undefined;
  const record: ScenarioRecord = {
    ...base, outcome, verdicts: s.verdicts, loads: s.loads, convergenceMs: s.convergenceMs.map((x) => Number(x.toFixed(2))),
    ...(infrastructure.length ? { infrastructure } : {}), error, usageError: r.error instanceof UsageError || undefined,
  };
  const raise = problems.length ? `cleanup of "${s.name}" left problems: ${problems.join('; ')}` : noVerdict ? `INCONCLUSIVE: "${s.name}" states no Then step, so it checked nothing` : undefined;
  return { record, raise };
}
