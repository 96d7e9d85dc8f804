/** Every timeout and default in one place, so none is buried in code. */
export const timeouts = {
  /** A child process must listen within this. */
  processStartMs: 10_000,
  /** Every sidecar must acknowledge a config version within this. */
  convergenceMs: 5_000,
  /** Prometheus must answer and have scraped within this. */
  prometheusReadyMs: 20_000,
  /** A cluster's Prometheus (scrape intervals of 15-60 s) must have scraped the run's pods within this. */
  clusterPrometheusScrapeMs: 150_000,
  /** Grace after SIGTERM before SIGKILL when stopping children. */
  stopGraceMs: 2_000,
  /** Slack added to a load run's planned duration before it is cut off. */
  loadSlackMs: 10_000,
} as const;

export const defaults = {
  /** Confidence level of every verdict interval. */
  confidence: 0.95,
  /** SPIFFE trust domain of the local CA (the usual cluster default). */
  trustDomain: 'cluster.local',
  /** Namespace the local app pretends to live in, for identities and metric labels. */
  namespace: 'default',
  /** Overhead runs: the stated duration is split into this many alternating baseline / mesh rounds, then pooled. */
  overheadRounds: 10,
  /**
   * Overhead runs: a pair of rounds with a load that was not healthy (the machine busy: steal, CPU
   * pressure) is replaced by another pair, up to this many times the stated rounds in all, so that a
   * verdict still has the stated number of healthy pairs where the machine allows (bounded load).
   */
  overheadRoundsMaxFactor: 2,
  /** Overhead runs: warm-up each way before the rounds, not measured (connections, JIT). */
  overheadWarmupMs: 500,
  /** Overhead runs: how long to wait for sidecar counters collected after a round (cAdvisor's default housekeeping is 10 s). */
  usageRefreshWaitMs: 15_000,
  /** Per-second progress line refresh while load runs. */
  progressIntervalMs: 500,
} as const;
