import type { Sample } from '../load/profile.js';
import { lookSchedule, type Look } from './stats.js';
import type { Verdict } from './outcome.js';
import { defaults } from '../config.js';

const ALPHA = 1 - defaults.confidence;

/**
 * What a claim is about, which decides whether an unhealthy load can make it FAILED:
 * rate (a share of responses), latency (a percentile), every (a claim about each response) and
 * count (at least N responses of a kind).
 */
export type ClaimKind = 'rate' | 'latency' | 'every' | 'count';

/** What matching responses "did", in words; may depend on the samples. */
export type Describe = string | ((samples: readonly Sample[]) => string);

/** The words of a Describe for these samples. */
export const wording = (d: Describe, samples: readonly Sample[]): string => (typeof d === 'string' ? d : d(samples));

/** What a claim states, in numbers: what a budget can decide of it (power.ts) reads this. */
export type ClaimSpec =
  /** The share of matching responses lies in [lo, hi] (a ± band). */
  | { form: 'band'; lo: number; hi: number }
  /** Fewer than `hi` of the responses match. */
  | { form: 'below'; hi: number }
  /** The q-quantile of latency is below, or at least, a bound. */
  | { form: 'percentile'; q: number; boundMs: number; direction: 'below' | 'atLeast' }
  /** Every response matches; at least `min` responses match. */
  | { form: 'every' }
  | { form: 'count'; min: number };

/** A verdict that can be decided from the load client's samples, possibly before the budget is spent. */
export interface SampleCheck {
  claim: string;
  kind: ClaimKind;
  spec: ClaimSpec;
  /** For "every" claims: what each response must satisfy. */
  match?: (s: Sample) => boolean;
  /** For "every" claims: whether the data plane answered at all (a missing answer is the generator's to excuse, not a wrong one). */
  answered?: (s: Sample) => boolean;
  /** Decision at a look: PASSED/FAILED when decided, undefined while still open. */
  decide(samples: readonly Sample[], look: Look, final: boolean): Verdict | undefined;
}

/** Every response matches; one counter-example fails at once; passes only once the load is done. */
export function all(claim: string, match: (s: Sample) => boolean, describe: (s: Sample) => string, answered: (s: Sample) => boolean = (s) => s.status !== 0): SampleCheck {
  return {
    claim,
    kind: 'every',
    spec: { form: 'every' },
    match,
    answered,
    decide(samples, _look, final) {
      const bad = samples.filter((s) => !match(s));
      const n = samples.length;
      if (bad.length > 0) {
        const kinds = new Map<string, number>();
        for (const s of bad) kinds.set(describe(s), (kinds.get(describe(s)) ?? 0) + 1);
        // The most frequent first, five at most (each failure's cause can make its own kind).
        const sorted = [...kinds].sort((a, b) => b[1] - a[1]);
        const list = sorted.slice(0, 5).map(([k, c]) => `${c} x ${k}`).join(', ') + (sorted.length > 5 ? `, and ${sorted.length - 5} other kinds` : '');
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
    spec: { form: 'count', min },
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
 * Runs a set of checks over a budget's look schedule. `decided` is true once every check has a
 * decision (the load can stop); `verdict` gives each check's decision at its first decided look,
 * or at the final look with every sample.
 */
export class SequentialPlan {
  readonly looks: Look[];
  private readonly decisions = new Map<SampleCheck, Verdict>();
  private evaluated = 0;

  /** The looks taken so far, of how many: what the progress line shows. */
  get looksUsed(): string {
    return `look ${this.evaluated}/${this.looks.length}`;
  }

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
