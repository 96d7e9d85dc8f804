import { defaults } from '../config.js';
import { samplesToBound } from './latency-checks.js';
import type { ClaimSpec } from './sample-checks.js';
import { lookSchedule, smallestDecidingCount, wilson } from './stats.js';

const ALPHA = 1 - defaults.confidence;
/** "Decides with the stated confidence": the chance of that outcome when the truth is exactly so. */
const SURE = defaults.confidence;

/**
 * What a request budget can decide of a claim, before the load (`meshcheck plan`; a warning from
 * `run`): the truths at which the claim PASSES, and those at which it FAILS, each with the stated
 * confidence, counting the last look alone (the earlier looks only add decisions). Between them the
 * claim may end INCONCLUSIVE. `warning` when even the ideal truth cannot pass, with the budget that
 * would let it.
 */
export interface Decidable {
  text: string;
  warning?: { text: string; budget: number };
}

const pct = (x: number) => `${+(x * 100).toFixed(2)}%`;

/** P(Binomial(n, p) <= k), summed in log space (exact; n up to millions). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  let logTerm = n * Math.log1p(-p);
  let sum = Math.exp(logTerm);
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log((n - i + 1) / i) + Math.log(p) - Math.log1p(-p);
    sum += Math.exp(logTerm);
  }
  return Math.min(1, sum);
}

/** The largest p in [0, 1] where `f` holds, for `f` true up to a point and false after. */
function largest(f: (p: number) => boolean): number | undefined {
  if (!f(0)) return undefined;
  return f(1) ? 1 : edge(0, 1, f);
}

/** The last look of a budget: its z, two-sided and one-sided. */
const lastLook = (budget: number) => lookSchedule(budget, ALPHA).at(-1)!;

/** For k of n: the largest k that passes and the smallest that fails, at the last look of `budget`. */
function countRange(budget: number, passes: (k: number, n: number, z: number) => boolean, fails: (k: number, n: number, z: number) => boolean, z: number) {
  let kPass = -1;
  let kFail = budget + 1;
  for (let k = 0; k <= budget; k++) {
    if (passes(k, budget, z)) kPass = k;
    if (fails(k, budget, z) && kFail > budget) kFail = k;
  }
  return { kPass, kFail };
}

/** "Fewer than hi": the largest truth that passes, the smallest that fails, or the budget that could pass at all. */
function below(hi: number, budget: number): Decidable {
  const z = lastLook(budget).z1;
  const passes = (k: number, n: number, zz: number) => wilson(k, n, zz).hi <= hi;
  const { kPass, kFail } = countRange(budget, passes, (k, n, zz) => wilson(k, n, zz).lo > hi, z);
  const failFrom = kFail <= budget ? largest((p) => binomialCdf(kFail - 1, budget, p) > 1 - SURE) : undefined;
  const fails = failFrom === undefined ? 'it cannot FAIL' : `FAILS when it is ${pct(failFrom)} or more`;
  if (kPass < 0) {
    const need = smallestDecidingCount(budget + 1, (n) => passes(0, n, lastLook(n).z1));
    return {
      text: `cannot PASS with ${budget} requests even when no response matches; ${fails}`,
      warning: { text: `${budget} requests cannot pass it even when no response matches${need ? `; ${need} would` : ''}`, budget: need ?? Infinity },
    };
  }
  const passUpTo = largest((p) => binomialCdf(kPass, budget, p) >= SURE);
  return { text: `with ${budget} requests, PASSES when the true share is ${passUpTo === undefined ? 'never' : `${pct(passUpTo)} or less`}, ${fails} (each ${pct(SURE)} sure; between, it may end INCONCLUSIVE)` };
}

/** Where `holds` stops holding on the way from `from` (where it holds) to `to` (where it does not): bisection. */
function edge(from: number, to: number, holds: (p: number) => boolean): number {
  let [inside, outside] = [from, to];
  for (let i = 0; i < 50; i++) {
    const mid = (inside + outside) / 2;
    if (holds(mid)) inside = mid;
    else outside = mid;
  }
  return inside;
}

/** A ± band [lo, hi]: the truths around its centre that pass, and those outside it that fail. */
function band(lo: number, hi: number, budget: number): Decidable {
  const z = lastLook(budget).z;
  // The counts that pass form one run [kLo, kHi]; those below fLow and above fHigh fail.
  let [kLo, kHi, fLow, fHigh] = [-1, -1, -1, budget + 1];
  for (let k = 0; k <= budget; k++) {
    const b = wilson(k, budget, z);
    if (b.lo >= lo && b.hi <= hi) {
      if (kLo < 0) kLo = k;
      kHi = k;
    }
    if (b.hi < lo) fLow = k;
    if (b.lo > hi && fHigh > budget) fHigh = k;
  }
  const passes = (p: number) => kLo >= 0 && binomialCdf(kHi, budget, p) - binomialCdf(kLo - 1, budget, p) >= SURE;
  const fails = (p: number) => binomialCdf(fLow, budget, p) + (fHigh <= budget ? 1 - binomialCdf(fHigh - 1, budget, p) : 0) >= SURE;
  const centre = (lo + hi) / 2;
  if (!passes(centre)) {
    const need = smallestDecidingCount(budget + 1, (n) => {
      const b = wilson(Math.round(centre * n), n, lastLook(n).z);
      return b.lo >= lo && b.hi <= hi;
    });
    return {
      text: `cannot PASS with ${budget} requests even when the true share is the band's centre, ${pct(centre)}`,
      warning: { text: `${budget} requests cannot pass it even when the true share is the band's centre${need ? `; about ${need} would` : ''}`, budget: need ?? Infinity },
    };
  }
  const below = fails(0) ? edge(0, lo, fails) : undefined;
  const above = fails(1) ? edge(1, hi, fails) : undefined;
  const failing = [below === undefined ? undefined : `below ${pct(below)}`, above === undefined ? undefined : `above ${pct(above)}`].filter(Boolean).join(' or ');
  return { text: `with ${budget} requests, PASSES when the true share is within [${pct(edge(centre, lo, passes))}, ${pct(edge(centre, hi, passes))}], ${failing ? `FAILS ${failing}` : 'cannot FAIL'} (each ${pct(SURE)} sure; between, it may end INCONCLUSIVE)` };
}

/** A percentile: how many requests bound it on the side the claim needs, against the budget. */
function percentile(q: number, direction: 'below' | 'atLeast', budget: number): Decidable {
  const p = `p${+(q * 100).toFixed(3)}`;
  const z = lastLook(budget).z1;
  // "below" needs the upper bound (enough samples beyond the percentile); "at least" the lower one.
  const need = samplesToBound(q, z, direction === 'below' ? 'upper' : 'lower');
  const beyond = (n: number) => Math.ceil(n * (direction === 'below' ? 1 - q : q));
  const text = `bounding the ${p} ${direction === 'below' ? 'from above' : 'from below'} takes ${need} requests (${beyond(need)} ${direction === 'below' ? 'beyond' : 'under'} the ${p}); the budget is ${budget}`;
  if (budget >= need) return { text };
  return { text, warning: { text: `${budget} requests cannot bound the ${p} ${direction === 'below' ? 'from above' : 'from below'}, so it can never pass; ${need} would`, budget: need } };
}

/** What a budget can decide of a claim. */
export function decidable(spec: ClaimSpec, budget: number): Decidable {
  switch (spec.form) {
    case 'below': return below(spec.hi, budget);
    case 'band': return band(spec.lo, spec.hi, budget);
    case 'percentile': return percentile(spec.q, spec.direction, budget);
    case 'count':
      return budget >= spec.min ? { text: `needs ${spec.min} matching responses of the budget of ${budget}` }
        : { text: `needs ${spec.min} matching responses, more than the budget of ${budget}`, warning: { text: `a budget of ${budget} cannot reach ${spec.min} matching responses; ${spec.min} would`, budget: spec.min } };
    case 'every': return { text: `FAILS on the first response that does not match; PASSES when all ${budget} do` };
  }
}
