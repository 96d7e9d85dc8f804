import type { Sample } from '../load/profile.js';
import { lookSchedule, quantileInterval, wilson, type Look } from './stats.js';
import type { Outcome, Verdict } from './outcome.js';
import { defaults } from '../config.js';

const ALPHA = 1 - defaults.confidence;

/**
 * What a claim is about, which decides whether an unhealthy load can make it FAILED:
 * rate (a share of responses), latency (a percentile), every (a claim about each response) and
 * count (at least N responses of a kind).
 */
export type ClaimKind = 'rate' | 'latency' | 'every' | 'count';

/** A verdict that can be decided from the load client's samples, possibly before the budget is spent. */
export interface SampleCheck {
  claim: string;
  kind: ClaimKind;
  /** For "every" claims: what each response must satisfy. */
  match?: (s: Sample) => boolean;
  /** For "every" claims: whether the data plane answered at all (a missing answer is the generator's to excuse, not a wrong one). */
  answered?: (s: Sample) => boolean;
  /** Decision at a look: PASSED/FAILED when decided, undefined while still open. */
  decide(samples: readonly Sample[], look: Look, final: boolean): Verdict | undefined;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * Share of responses matching a predicate lies in [lo, hi]. Before the last look a claim fails only
 * when the last look is sure to fail it, whatever the rest of the budget brings: the looks assume the
 * mesh behaves the same through the load, and a transient (the requests a failing host takes before
 * it is ejected, a cold start) concentrates early, so an early interval outside the band is not yet
 * a failure of a claim about the whole load. Passing early keeps the alpha-spending interval.
 */
/** What matching responses "did", in words; may depend on the samples (gRPC codes counted for an HTTP status). */
export type Describe = string | ((samples: readonly Sample[]) => string);

const wording = (d: Describe, samples: readonly Sample[]) => (typeof d === 'string' ? d : d(samples));

export function rateBand(claim: string, match: (s: Sample) => boolean, lo: number, hi: number, describe: Describe): SampleCheck {
  return {
    claim,
    kind: 'rate',
    decide(samples, look, final) {
      const n = samples.length;
      const k = samples.reduce((a, s) => a + (match(s) ? 1 : 0), 0);
      const ci = wilson(k, n, look.z);
      const confidence = 1 - look.alpha;
      // The last look's interval, if every remaining request matched (highest) or none did (lowest),
      // and if none came at all (the rest dropped): outside the band in every case = sure to fail.
      const rest = Math.max(0, look.budget - n);
      const outside = ci.hi < lo || ci.lo > hi;
      const certain = n > 0 && (
        (wilson(k + rest, n + rest, look.zFinal).hi < lo && wilson(k, n, look.zFinal).hi < lo)
        || (wilson(k, n + rest, look.zFinal).lo > hi && wilson(k, n, look.zFinal).lo > hi));
      let outcome: Outcome | undefined;
      if (n > 0 && ci.lo >= lo && ci.hi <= hi) outcome = 'PASSED';
      else if (n > 0 && (final ? outside : certain)) outcome = 'FAILED';
      else if (final) outcome = 'INCONCLUSIVE';
      if (!outcome) return undefined;
      const p = n ? k / n : 0;
      const observed = `${k} of ${n} responses ${wording(describe, samples)} (${n ? pct(p) : 'no samples'})`;
      const interval = `${(confidence * 100).toFixed(2)}% interval [${pct(ci.lo)}, ${pct(ci.hi)}]`;
      const explanation =
        outcome === 'PASSED' ? `${interval} lies inside the band [${pct(lo)}, ${pct(hi)}] at look ${look.index}`
        : outcome === 'FAILED' && !final ? `${interval} lies outside the band [${pct(lo)}, ${pct(hi)}] at look ${look.index}, and whatever the other ${rest} requests of the budget of ${look.budget} bring, the last look's interval would too`
        : outcome === 'FAILED' ? `${interval} lies outside the band [${pct(lo)}, ${pct(hi)}] at look ${look.index}`
        : n === 0 ? 'no responses were observed; zero samples never pass'
        : `${interval} overlaps the edge of the band [${pct(lo)}, ${pct(hi)}]; ${moreRequests(k, n, lo, hi, look.z)}`;
      return { outcome, claim, observed, samples: n, interval: { lo: ci.lo * 100, hi: ci.hi * 100, confidence, unit: '%' }, band: { lo: lo * 100, hi: hi * 100, unit: '%' }, explanation };
    },
  };
}

/** Every response matches; one counter-example fails at once; passes only once the load is done. */
export function all(claim: string, match: (s: Sample) => boolean, describe: (s: Sample) => string, answered: (s: Sample) => boolean = (s) => s.status !== 0): SampleCheck {
  return {
    claim,
    kind: 'every',
    match,
    answered,
    decide(samples, _look, final) {
      const bad = samples.filter((s) => !match(s));
      const n = samples.length;
      if (bad.length > 0) {
        const kinds = new Map<string, number>();
        for (const s of bad) kinds.set(describe(s), (kinds.get(describe(s)) ?? 0) + 1);
        const list = [...kinds].map(([k, c]) => `${c} x ${k}`).join(', ');
        return { outcome: 'FAILED', claim, observed: `${bad.length} of ${n} responses did not match: ${list}`, samples: n, explanation: `the claim covers every response; ${bad.length} counter-example(s) observed` };
      }
      if (!final) return undefined;
      if (n === 0) return { outcome: 'INCONCLUSIVE', claim, observed: 'no responses', samples: 0, explanation: 'no responses were observed; zero samples never pass' };
      return { outcome: 'PASSED', claim, observed: `all ${n} responses matched (${describe(samples[0]!)})`, samples: n, explanation: `every one of the ${n} observed responses matched` };
    },
  };
}

/** At least `min` responses match (a count, not a share). */
export function atLeast(claim: string, match: (s: Sample) => boolean, min: number, describe: Describe): SampleCheck {
  return {
    claim,
    kind: 'count',
    decide(samples, _look, final) {
      const k = samples.filter(match).length;
      const observed = `${k} of ${samples.length} responses ${wording(describe, samples)}`;
      if (k >= min && samples.length > 0) return { outcome: 'PASSED', claim, observed, samples: samples.length, explanation: `${k} >= ${min}` };
      if (!final) return undefined;
      return { outcome: 'FAILED', claim, observed, samples: samples.length, explanation: samples.length === 0 ? 'no responses were observed' : `only ${k}, fewer than ${min}` };
    },
  };
}

/**
 * A latency percentile is below (or at least) a bound, by a distribution-free interval. Latency
 * counts from the intended send time (no coordinated omission). The generator's own send lag is
 * never allowed to decide against the mesh: a claim fails only on latency measured from when the
 * request actually left (lag removed), and an "at least" claim passes only on that latency too;
 * each outcome is taken on the reading least favourable to it.
 */
export function percentile(claim: string, q: number, boundMs: number, direction: 'below' | 'atLeast'): SampleCheck {
  return {
    claim,
    kind: 'latency',
    decide(samples, look, final) {
      const n = samples.length;
      const intended = samples.map((s) => s.latencyUs / 1000).sort((a, b) => a - b);
      const actual = samples.map((s) => (s.latencyUs - (s.lagUs ?? 0)) / 1000).sort((a, b) => a - b);
      const ci = quantileInterval(intended, q, look.z);
      const ciActual = quantileInterval(actual, q, look.z);
      const confidence = 1 - look.alpha;
      // Before the last look, fail only when the last look is sure to fail, as rateBand does: the
      // order statistic that bounds the interval stays on the failing side of the bound even if
      // every remaining request lands on the other side (or none comes).
      const rest = Math.max(0, look.budget - n);
      const lost = n > 0 && [n, n + rest].every((m) => {
        const sd = Math.sqrt(m * q * (1 - q));
        if (direction === 'below') {
          // Lower bound of the last look = the l-th smallest; it is >= the bound while fewer than l are under it.
          const l = Math.floor(m * q - look.zFinal * sd);
          return l >= 1 && actual.filter((x) => x < boundMs).length + (m - n) < l;
        }
        // Upper bound = the u-th smallest; it is < the bound once at least u are under it.
        const u = Math.ceil(m * q + look.zFinal * sd);
        return u <= m && intended.filter((x) => x < boundMs).length >= u;
      });
      let outcome: Outcome | undefined;
      if (direction === 'below') {
        if (ci.hi !== undefined && ci.hi < boundMs) outcome = 'PASSED';
        else if (final ? ciActual.lo !== undefined && ciActual.lo >= boundMs : lost) outcome = 'FAILED';
      } else {
        if (ciActual.lo !== undefined && ciActual.lo >= boundMs) outcome = 'PASSED';
        else if (final ? ci.hi !== undefined && ci.hi < boundMs : lost) outcome = 'FAILED';
      }
      if (!outcome && final) outcome = 'INCONCLUSIVE';
      if (!outcome) return undefined;
      const f = (x: number | undefined) => (x === undefined ? 'undefined' : `${x.toFixed(2)}ms`);
      const p = `p${+(q * 100).toFixed(3)}`;
      const need = ci.hi === undefined || ci.lo === undefined ? `; about ${Math.max(10, Math.ceil((look.z ** 2 * 4) / (1 - q)) - n)} more requests needed to bound the ${p}` : '';
      const early = outcome === 'FAILED' && !final ? `; decided at look ${look.index}: whatever the other ${rest} requests of the budget of ${look.budget} bring, the last look's interval would fail the bound too` : '';
      const lagged = ciActual.estimate !== ci.estimate ? `; from the actual send time (the generator's lag removed) ${p} = ${f(ciActual.estimate)}, interval [${f(ciActual.lo)}, ${f(ciActual.hi)}]` : '';
      const explanation = n === 0 ? 'no responses were observed; zero samples never pass'
        : `${p} = ${f(ci.estimate)}, ${(confidence * 100).toFixed(2)}% interval [${f(ci.lo)}, ${f(ci.hi)}] vs bound ${boundMs}ms (${direction === 'below' ? 'must lie below' : 'must be at least'})${lagged}${early}${outcome === 'INCONCLUSIVE' ? need || '; the interval straddles the bound' : ''}`;
      return { outcome, claim, observed: `${p} ${f(ci.estimate)} over ${n} responses`, samples: n, interval: { lo: ci.lo ?? null, hi: ci.hi ?? null, confidence, unit: 'ms' }, band: direction === 'below' ? { lo: 0, hi: boundMs, unit: 'ms' } : { lo: boundMs, hi: Infinity, unit: 'ms' }, explanation };
    },
  };
}

/**
 * How many more requests would decide a rate claim, if the observed share held: the smallest
 * total at which the interval lies inside or outside the band, found by doubling then bisection.
 */
export function moreRequests(k: number, n: number, lo: number, hi: number, z: number): string {
  if (n === 0) return 'about 100 more requests needed at least (no responses yet)';
  const p = k / n;
  const decided = (m: number) => {
    const ci = wilson(Math.round(p * m), m, z);
    return (ci.lo >= lo && ci.hi <= hi) || ci.hi < lo || ci.lo > hi;
  };
  const LIMIT = 10_000_000;
  let upper = Math.max(n + 1, 2 * n);
  while (!decided(upper) && upper < LIMIT) upper *= 2;
  if (!decided(upper)) return `the observed share ${pct(p)} sits on the edge of the band, so more requests at this share would not settle it`;
  let lower = n;
  while (upper - lower > 1) {
    const mid = Math.floor((lower + upper) / 2);
    if (decided(mid)) upper = mid;
    else lower = mid;
  }
  return `about ${Math.max(10, upper - n)} more requests needed`;
}

/**
 * Runs a set of checks over a budget's look schedule. `decided` is true once every check has a
 * decision (the load can stop); `verdict` gives each check's decision at its first decided look,
 * or at the final look with every sample.
 */
export class SequentialPlan {
  readonly looks: Look[];
  private readonly decisions = new Map<SampleCheck, Verdict>();
  private evaluated = 0;

  constructor(readonly checks: SampleCheck[], budget: number, alpha = ALPHA) {
    this.looks = lookSchedule(budget, alpha);
  }

  /**
   * Called as samples arrive, with the responses in send order up to the first request still
   * outstanding (never the first to complete: see SendOrder); true when every check is decided.
   */
  update(samples: readonly Sample[]): boolean {
    for (const look of this.looks.slice(this.evaluated)) {
      if (samples.length < look.n) break;
      this.evaluated++;
      for (const c of this.checks) {
        if (this.decisions.has(c)) continue;
        const v = c.decide(samples.slice(0, look.n), look, false);
        if (v) this.decisions.set(c, v);
      }
    }
    return this.checks.length > 0 && this.checks.every((c) => this.decisions.has(c));
  }

  verdict(check: SampleCheck, samples: readonly Sample[]): Verdict {
    this.update(samples);
    return this.decisions.get(check) ?? check.decide(samples, this.looks[this.looks.length - 1]!, true)!;
  }
}
