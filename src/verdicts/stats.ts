/**
 * Statistics behind the verdicts. Method (docs/adr/0002-sequential-verdicts.md):
 * - Rates: Wilson score interval.
 * - Percentiles: distribution-free interval from order statistics (normal approximation to the
 *   binomial ranks), exact sample values, no assumption about the latency distribution.
 * - Sequential looks: the request budget is examined at K equally spaced looks; look k spends
 *   alpha * ((k/K)^2 - ((k-1)/K)^2) of the error budget (a Lan-DeMets power spending function with
 *   rho = 2). The per-look errors add up to at most alpha over all looks (union bound), so stopping
 *   at the first decided look keeps the overall error rate at or below alpha.
 * - One-sided claims ("fewer than", "below", "at least", "less than") are decided on one-sided
 *   bounds, each at the look's whole spent error: a false pass and a false fail are each at most
 *   alpha. A ± band is decided on the two-sided interval (each side alpha / 2).
 */

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9 after refinement). */
export function normalQuantile(p: number): number {
  if (p <= 0 || p >= 1) throw new RangeError(`normalQuantile(${p}): p must be in (0, 1)`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  let x: number;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - lo) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  return x;
}

/** Two-sided z for an error rate alpha. */
export function zFor(alpha: number): number {
  return normalQuantile(1 - alpha / 2);
}

/** One-sided z for an error rate alpha: a bound on one side only, with all of alpha beyond it. */
export function zOneSided(alpha: number): number {
  return normalQuantile(1 - alpha);
}

export interface Interval {
  lo: number;
  hi: number;
}

/** Wilson score interval for k successes out of n. */
export function wilson(k: number, n: number, z: number): Interval {
  if (n === 0) return { lo: 0, hi: 1 };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/**
 * Distribution-free interval for the q-quantile from sorted values: the order statistics at ranks
 * n*q -/+ z*sqrt(n*q*(1-q)). A bound beyond the sample is undefined (too few samples).
 */
export function quantileInterval(sorted: readonly number[], q: number, z: number): { estimate: number; lo?: number; hi?: number } {
  const n = sorted.length;
  if (n === 0) return { estimate: NaN };
  const sd = Math.sqrt(n * q * (1 - q));
  const l = Math.floor(n * q - z * sd);
  const u = Math.ceil(n * q + z * sd);
  const estimate = sorted[Math.min(n - 1, Math.max(0, Math.ceil(n * q) - 1))]!;
  return { estimate, lo: l >= 1 ? sorted[l - 1] : undefined, hi: u <= n ? sorted[u - 1] : undefined };
}

/** The look schedule of a request budget and the error spent at each look. */
export interface Look {
  index: number;
  /** Samples needed for this look. */
  n: number;
  /** Error spent at this look. */
  alpha: number;
  /** Two-sided z at the spent error (± bands). */
  z: number;
  /** One-sided z at the spent error (one-sided claims: each bound on its own). */
  z1: number;
  /** The request budget the looks divide. */
  budget: number;
  /** z of the last look, where a claim still undecided is decided on every sample; two-sided and one-sided. */
  zFinal: number;
  zFinal1: number;
}

export function lookSchedule(budget: number, alpha: number, looks = 10): Look[] {
  const k = Math.max(1, Math.min(looks, budget));
  const out: Look[] = [];
  const last = alpha * (1 - ((k - 1) / k) ** 2);
  const [zFinal, zFinal1] = [zFor(last), zOneSided(last)];
  for (let i = 1; i <= k; i++) {
    const spent = alpha * ((i / k) ** 2 - ((i - 1) / k) ** 2);
    out.push({ index: i, n: Math.ceil((i * budget) / k), alpha: spent, z: zFor(spent), z1: zOneSided(spent), budget, zFinal, zFinal1 });
  }
  return out;
}

/**
 * Two-sided Student t quantile for `df` degrees of freedom at error rate alpha, from the normal
 * quantile by the Cornish-Fisher expansion (four terms; within 0.3% of the table from df = 3);
 * exact closed forms for df = 1 and 2.
 */
export function tFor(alpha: number, df: number): number {
  if (df < 1) throw new RangeError(`tFor: df must be at least 1, got ${df}`);
  const p = 1 - alpha / 2;
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  const z = zFor(alpha);
  const [z3, z5, z7, z9] = [z ** 3, z ** 5, z ** 7, z ** 9];
  return z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3)
    + (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * df ** 4);
}

/** Mean of repeated measurements with a t interval (undefined bounds with fewer than two). */
export function meanInterval(xs: readonly number[], alpha: number): { estimate: number; lo?: number; hi?: number } {
  const n = xs.length;
  if (n === 0) return { estimate: NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { estimate: mean };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const half = (tFor(alpha, n - 1) * sd) / Math.sqrt(n);
  return { estimate: mean, lo: mean - half, hi: mean + half };
}

/**
 * The quantile interval of `quantileInterval`, read from an HDR histogram (values are exact to the
 * histogram's 3 significant digits): the order statistics at the same ranks.
 *
 * `independent` is how many of the n samples count as independent looks (default all n). Latencies
 * of one load are not independent when a stall (a GC pause, a scheduler hiccup, a proxy reloading)
 * catches a run of consecutive requests: taking them as n independent draws makes the interval far
 * too narrow. With m independent looks the rank band is n * (q -/+ z * sqrt(q (1 - q) / m)), the
 * same fractions as a sample of m, read from the n values.
 */
export function histogramQuantileInterval(
  h: { totalCount: number; getValueAtPercentile(p: number): number },
  q: number,
  z: number,
  independent?: number,
): { estimate: number; lo?: number; hi?: number } {
  const n = h.totalCount;
  if (n === 0) return { estimate: NaN };
  const m = independent === undefined ? n : Math.max(1, Math.min(n, independent));
  const half = n * z * Math.sqrt((q * (1 - q)) / m);
  const l = Math.floor(n * q - half);
  const u = Math.ceil(n * q + half);
  const at = (rank: number) => h.getValueAtPercentile((100 * rank) / n);
  return { estimate: at(Math.max(1, Math.ceil(n * q))), lo: l >= 1 ? at(l) : undefined, hi: u <= n ? at(u) : undefined };
}

/**
 * Distribution-free interval for the median of a few values (the sign test): the order statistics
 * at ranks l and n + 1 - l, with the largest l whose coverage 1 - 2 P(Binomial(n, 1/2) < l) is at
 * least 1 - alpha. One or two outliers at either end do not move it. Undefined bounds when n is
 * too small for that coverage (n < 6 at alpha = 0.05).
 */
export function medianInterval(xs: readonly number[], alpha: number): { estimate: number; lo?: number; hi?: number } {
  const n = xs.length;
  if (n === 0) return { estimate: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const estimate = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  // P(Binomial(n, 1/2) <= k), accumulated.
  let tail = 0;
  let coef = 1;
  let l = 0;
  for (let k = 0; k < n / 2; k++) {
    if (k > 0) coef = (coef * (n - k + 1)) / k;
    tail += coef / 2 ** n;
    if (1 - 2 * tail >= 1 - alpha) l = k + 1;
    else break;
  }
  return l >= 1 ? { estimate, lo: s[l - 1], hi: s[n - l] } : { estimate };
}

/**
 * The smallest request count of at least `from` at which `decides` holds, for `decides` false up to
 * some count and true from it on: doubling to a count that decides, then bisection. Undefined when
 * none up to `limit` does (a share on the very edge of a band never settles).
 */
export function smallestDecidingCount(from: number, decides: (n: number) => boolean, limit = 10_000_000): number | undefined {
  if (decides(from)) return from;
  let [lo, hi] = [from, Math.max(from + 1, 2 * from)];
  while (!decides(hi)) {
    if (hi >= limit) return undefined;
    [lo, hi] = [hi, 2 * hi];
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (decides(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
