import type { Sample } from '../load/profile.js';
import type { Outcome, Verdict } from './outcome.js';
import { wording, type Describe, type SampleCheck } from './sample-checks.js';
import { smallestDecidingCount, wilson, type Interval, type Look } from './stats.js';

/*
 * Claims about the share of responses that match (a status, a version), decided on Wilson intervals
 * at the error each look spends (ADR 0002). Before the last look a claim fails only when the last look
 * is sure to fail it, whatever the rest of the budget brings: the looks assume the mesh behaves the
 * same through the load, and a transient (the requests a failing host takes before it is ejected, a
 * cold start) concentrates early, so an early bound on the failing side is not yet a failure of a
 * claim about the whole load. Passing early keeps the look's bound.
 */

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const countOf = (samples: readonly Sample[], match: (s: Sample) => boolean) => samples.reduce((a, s) => a + (match(s) ? 1 : 0), 0);

/**
 * What decides a rate claim at a look: when its Wilson bounds pass or fail it. A ± band reads them
 * as one two-sided interval; a one-sided claim reads each bound on its own, at the look's whole
 * spent error.
 */
interface RateRule {
  oneSided: boolean;
  passes(b: Interval): boolean;
  /** Fails below the band (too few match), or above it (too many). */
  tooLow(b: Interval): boolean;
  tooHigh(b: Interval): boolean;
  /** The band as the claim states it, for the record. */
  band: { lo: number; hi: number };
}

const zAt = (rule: RateRule, look: Look) => (rule.oneSided ? look.z1 : look.z);
const zLast = (rule: RateRule, look: Look) => (rule.oneSided ? look.zFinal1 : look.zFinal);

/** How a rule's bounds are named in explanations. */
function boundsText(rule: RateRule, look: Look, b: Interval): string {
  const confidence = `${((1 - look.alpha) * 100).toFixed(2)}%`;
  return rule.oneSided ? `one-sided ${confidence} bounds: upper ${pct(b.hi)}, lower ${pct(b.lo)}` : `${confidence} interval [${pct(b.lo)}, ${pct(b.hi)}]`;
}

/** A rate claim's decision at a look, with the rule's bounds and the same wording for every rule. */
function decideRate(claim: string, match: (s: Sample) => boolean, describe: Describe, rule: RateRule, samples: readonly Sample[], look: Look, final: boolean): Verdict | undefined {
  const n = samples.length;
  const k = countOf(samples, match);
  const b = wilson(k, n, zAt(rule, look));
  // The last look's bounds if every remaining request matched (the most the claim can gain below the
  // band) or none did (above it), and if none came at all (the rest dropped): failing on that side in
  // every case = sure to fail.
  const rest = Math.max(0, look.budget - n);
  const last = (kk: number, nn: number) => wilson(kk, nn, zLast(rule, look));
  const certain = n > 0 && (
    (rule.tooLow(last(k + rest, n + rest)) && rule.tooLow(last(k, n)))
    || (rule.tooHigh(last(k, n + rest)) && rule.tooHigh(last(k, n))));
  let outcome: Outcome | undefined;
  if (n > 0 && rule.passes(b)) outcome = 'PASSED';
  else if (n > 0 && (final ? fails(rule, b) : certain)) outcome = 'FAILED';
  else if (final) outcome = 'INCONCLUSIVE';
  if (!outcome) return undefined;
  const { lo, hi } = rule.band;
  const observed = `${k} of ${n} responses ${wording(describe, samples)} (${n ? pct(k / n) : 'no samples'})`;
  const bounds = boundsText(rule, look, b);
  const { oneSided } = rule;
  const bandText = `[${pct(lo)}, ${pct(hi)}]`;
  const explanation =
    outcome === 'PASSED' ? `${bounds} lies inside the band ${bandText} at look ${look.index}`
    : outcome === 'FAILED' && !final ? `${bounds} lies outside the band ${bandText} at look ${look.index}, and whatever the other ${rest} requests of the budget of ${look.budget} bring, the last look's ${oneSided ? 'bounds' : 'interval'} would too`
    : outcome === 'FAILED' ? `${bounds} lies outside the band ${bandText} at look ${look.index}`
    : n === 0 ? 'no responses were observed; zero samples never pass'
    : `${bounds} overlaps the edge of the band ${bandText}; ${moreRequests(k, n, rule, look)}`;
  return {
    outcome, claim, observed, samples: n,
    interval: { lo: b.lo * 100, hi: b.hi * 100, confidence: 1 - look.alpha, unit: '%', ...(oneSided ? { oneSided: true } : {}) },
    band: { lo: lo * 100, hi: hi * 100, unit: '%' }, explanation,
  };
}

const fails = (rule: RateRule, b: Interval) => rule.tooLow(b) || rule.tooHigh(b);

/** The share of matching responses lies in [lo, hi] (a ± band): decided on the two-sided interval. */
export function rateBand(claim: string, match: (s: Sample) => boolean, lo: number, hi: number, describe: Describe): SampleCheck {
  const rule: RateRule = {
    oneSided: false,
    passes: (b) => b.lo >= lo && b.hi <= hi,
    tooLow: (b) => b.hi < lo,
    tooHigh: (b) => b.lo > hi,
    band: { lo, hi },
  };
  return { claim, kind: 'rate', spec: { form: 'band', lo, hi }, decide: (samples, look, final) => decideRate(claim, match, describe, rule, samples, look, final) };
}

/**
 * Fewer than `hi` of the responses match (a one-sided claim): PASSED once the one-sided upper bound
 * is at most `hi`, FAILED once the one-sided lower bound is above it, each bound at the look's whole
 * spent error. A false pass and a false fail are each at most alpha over the looks.
 */
export function rateBelow(claim: string, match: (s: Sample) => boolean, hi: number, describe: Describe): SampleCheck {
  const rule: RateRule = {
    oneSided: true,
    passes: (b) => b.hi <= hi,
    tooLow: () => false,
    tooHigh: (b) => b.lo > hi,
    band: { lo: 0, hi },
  };
  return { claim, kind: 'rate', spec: { form: 'below', hi }, decide: (samples, look, final) => decideRate(claim, match, describe, rule, samples, look, final) };
}

/**
 * How many more requests would decide a rate claim, if the observed share held: the smallest total
 * at which the rule passes or fails, at the z of the look asked.
 */
function moreRequests(k: number, n: number, rule: RateRule, look: Look): string {
  if (n === 0) return 'about 100 more requests needed at least (no responses yet)';
  const p = k / n;
  const z = zAt(rule, look);
  const decided = (m: number) => {
    const b = wilson(Math.round(p * m), m, z);
    return rule.passes(b) || fails(rule, b);
  };
  const total = smallestDecidingCount(n + 1, decided);
  if (total === undefined) return `the observed share ${pct(p)} sits on the edge of the band, so more requests at this share would not settle it`;
  return `about ${Math.max(10, total - n)} more requests needed`;
}
