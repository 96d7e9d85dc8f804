/**
 * Values a step does not state, taken from Istio's documented defaults unless noted.
 * Outlier interval: Istio's default is 10s; the sweep only decides when an ejected host returns.
 * Max ejection: not a default. Istio's 10% ejects nothing from fewer than 10 hosts on current Envoy, so
 * "ejects a host" renders the smallest cap that lets one host go (adapters/common.ts ejectionCap).
 */
export const DEFAULT_OUTLIER = { intervalMs: 10_000 } as const;
