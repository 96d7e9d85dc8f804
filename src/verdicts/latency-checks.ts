import type { Outcome } from './outcome.js';
import type { SampleCheck } from './sample-checks.js';
import { quantileInterval } from './stats.js';

/**
 * A latency percentile is below (or at least) a bound, by distribution-free bounds from order
 * statistics: a one-sided claim, so each bound is one-sided at the look's whole spent error. Latency
 * counts from the intended send time (no coordinated omission). The generator's own send lag is
 * never allowed to decide against the mesh: a claim fails only on latency measured from when the
 * request actually left (lag removed), and an "at least" claim passes only on that latency too;
 * each outcome is taken on the reading least favourable to it.
 */
export function percentile(claim: string, q: number, boundMs: number, direction: 'below' | 'atLeast'): SampleCheck {
  return {
    claim,
    kind: 'latency',
    spec: { form: 'percentile', q, boundMs, direction },
    decide(samples, look, final) {
      const n = samples.length;
      const intended = samples.map((s) => s.latencyUs / 1000).sort((a, b) => a - b);
      const actual = samples.map((s) => (s.latencyUs - (s.lagUs ?? 0)) / 1000).sort((a, b) => a - b);
      const ci = quantileInterval(intended, q, look.z1);
      const ciActual = quantileInterval(actual, q, look.z1);
      const confidence = 1 - look.alpha;
      // Before the last look, fail only when the last look is sure to fail, as rateBand does: the
      // order statistic that bounds the interval stays on the failing side of the bound even if
      // every remaining request lands on the other side (or none comes).
      const rest = Math.max(0, look.budget - n);
      const lost = n > 0 && [n, n + rest].every((m) => {
        const sd = Math.sqrt(m * q * (1 - q));
        if (direction === 'below') {
          // Lower bound of the last look = the l-th smallest; it is >= the bound while fewer than l are under it.
          const l = Math.floor(m * q - look.zFinal1 * sd);
          return l >= 1 && actual.filter((x) => x < boundMs).length + (m - n) < l;
        }
        // Upper bound = the u-th smallest; it is < the bound once at least u are under it.
        const u = Math.ceil(m * q + look.zFinal1 * sd);
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
      const need = ci.hi === undefined || ci.lo === undefined ? `; about ${Math.max(10, samplesToBound(q, look.z1, ci.hi === undefined ? 'upper' : 'lower') - n)} more requests needed to bound the ${p}` : '';
      const early = outcome === 'FAILED' && !final ? `; decided at look ${look.index}: whatever the other ${rest} requests of the budget of ${look.budget} bring, the last look's interval would fail the bound too` : '';
      const lagged = ciActual.estimate !== ci.estimate ? `; from the actual send time (the generator's lag removed) ${p} = ${f(ciActual.estimate)}, interval [${f(ciActual.lo)}, ${f(ciActual.hi)}]` : '';
      const explanation = n === 0 ? 'no responses were observed; zero samples never pass'
        : `${p} = ${f(ci.estimate)}, one-sided ${(confidence * 100).toFixed(2)}% bounds [${f(ci.lo)}, ${f(ci.hi)}] vs bound ${boundMs}ms (${direction === 'below' ? 'must lie below' : 'must be at least'})${lagged}${early}${outcome === 'INCONCLUSIVE' ? need || '; the bounds straddle the bound' : ''}`;
      return { outcome, claim, observed: `${p} ${f(ci.estimate)} over ${n} responses`, samples: n, interval: { lo: ci.lo ?? null, hi: ci.hi ?? null, confidence, unit: 'ms', oneSided: true }, band: direction === 'below' ? { lo: 0, hi: boundMs, unit: 'ms' } : { lo: boundMs, hi: Infinity, unit: 'ms' }, explanation };
    },
  };
}


/**
 * How many samples bound the q-quantile at one-sided z on a side: from above, the order statistic
 * at rank n*q + z*sqrt(n*q*(1-q)) must exist (for "p99 below", enough samples beyond the p99); from
 * below, the one at rank n*q - z*sqrt(n*q*(1-q)) must be at least the first.
 */
export function samplesToBound(q: number, z: number, side: 'upper' | 'lower' = 'upper'): number {
  const bounded = (n: number) => {
    const sd = Math.sqrt(n * q * (1 - q));
    return side === 'upper' ? Math.ceil(n * q + z * sd) <= n : Math.floor(n * q - z * sd) >= 1;
  };
  let n = 1;
  while (!bounded(n)) n = Math.ceil(n * 1.05) + 1;
  // Down to the smallest that does.
  while (n > 1 && bounded(n - 1)) n--;
  return n;
}
