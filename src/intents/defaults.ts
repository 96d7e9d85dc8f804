/**
 * Values a step does not state, taken from Istio's documented defaults unless noted.
 * Outlier interval: Istio's default is 10s; the sweep only decides when an ejected host returns.
 * Max ejection: Istio's default 10% (one host can always be ejected).
 */
export const DEFAULT_OUTLIER = { intervalMs: 10_000, maxEjectionPercent: 10 } as const;
