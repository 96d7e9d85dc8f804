import type { RunRecord } from './run-record.js';

/**
 * Two data planes on the same scenarios (the reference sidecar and Envoy): where they disagree. A
 * scenario disagrees when its outcome differs, or when a share claim's intervals do not overlap (the
 * two observed the same quantity and cannot both be right). Latency claims are not compared: two data
 * planes differ in speed by design. A scenario one side did not decide (NOT_SUPPORTED, INCONCLUSIVE,
 * BROKEN) is listed as not comparable, with that side's reason, never as agreement; its share claims
 * that both sides decided are still compared.
 *
 * Disjoint intervals, rather than one side's estimate outside the other's interval: with both at the
 * suite's 99.65% level, the second reading flags about 4% of share claims of two identical data
 * planes (the difference of two estimates has twice the variance of one); the first, about 4 in 100 000.
 */
export interface Disagreement {
  scenario: string;
  what: string;
}

export interface Agreement {
  /** Scenarios in both runs that both decided (PASSED or FAILED on each side). */
  compared: string[];
  disagreements: Disagreement[];
  /** Scenarios one side did not decide: which side, its outcome and why. */
  notComparable: { scenario: string; side: string; why: string }[];
  /** Scenarios in one run only. */
  unmatched: string[];
}

const isShare = (unit: string | undefined) => unit === '%';
const decided = (outcome: string) => outcome === 'PASSED' || outcome === 'FAILED';

export function agreement(a: RunRecord, b: RunRecord, names: { a: string; b: string } = { a: a.mesh, b: b.mesh }): Agreement {
  const byName = new Map(b.scenarios.map((s) => [s.name, s]));
  const onlyInB = b.scenarios.filter((s) => !a.scenarios.some((x) => x.name === s.name)).map((s) => s.name);
  const out: Agreement = { compared: [], disagreements: [], notComparable: [], unmatched: onlyInB };
  for (const x of a.scenarios) {
    const y = byName.get(x.name);
    if (!y) {
      out.unmatched.push(x.name);
      continue;
    }
    // Only what both decided compares: NOT_SUPPORTED, INCONCLUSIVE (meshcheck could not decide) and BROKEN say nothing of the data plane's behaviour.
    const undecided = ([[names.a, x], [names.b, y]] as const).filter(([, s]) => !decided(s.outcome));
    for (const [side, s] of undecided) {
      const why = [...(s.notSupported ?? []), ...s.verdicts.filter((v) => v.outcome === s.outcome).map((v) => v.explanation), ...(s.error ? [s.error] : [])];
      out.notComparable.push({ scenario: x.name, side, why: `${s.outcome}: ${why.join('; ') || 'no reason recorded'}` });
    }
    if (!undecided.length) {
      out.compared.push(x.name);
      if (x.outcome !== y.outcome) out.disagreements.push({ scenario: x.name, what: `outcome: ${names.a} ${x.outcome}, ${names.b} ${y.outcome}` });
    }
    // A share both sides decided compares even where another claim of the scenario was not decided.
    for (const v of x.verdicts.filter((u) => decided(u.outcome))) {
      const w = y.verdicts.find((u) => u.claim === v.claim && decided(u.outcome));
      const [i, j] = [v.interval, w?.interval];
      if (!i || !j || !isShare(i.unit) || !isShare(j.unit) || i.lo === null || i.hi === null || j.lo === null || j.hi === null) continue;
      if (i.hi < j.lo || j.hi < i.lo) {
        out.disagreements.push({ scenario: x.name, what: `"${v.claim}": ${names.a} [${i.lo.toFixed(1)}, ${i.hi.toFixed(1)}]% (${v.observed}), ${names.b} [${j.lo.toFixed(1)}, ${j.hi.toFixed(1)}]% (${w!.observed}): the intervals do not overlap` });
      }
    }
  }
  return out;
}
