/** Delay a share of the requests to a service (client side, before they leave the caller). */
export interface FaultDelay {
  kind: 'FaultDelay';
  /** Destination service name. */
  service: string;
  /** Share of requests delayed, 0-100. */
  percent: number;
  /** Fixed delay added, in milliseconds. */
  delayMs: number;
}

/** Answer a share of the requests with an HTTP status instead of forwarding them. */
export interface FaultAbort {
  kind: 'FaultAbort';
  service: string;
  /** Share of requests aborted, 0-100. */
  percent: number;
  /** Status returned to the caller, 200-599. */
  httpStatus: number;
}

/** Weighted routing by version; weights are integers summing to 100. */
export interface TrafficSplit {
  kind: 'TrafficSplit';
  service: string;
  /** Version and its weight in percent. */
  weights: { version: string; weight: number }[];
}

/** Requests carrying an exact header value go to one version. */
export interface HeaderRoute {
  kind: 'HeaderRoute';
  service: string;
  /** Header name, matched case-insensitively. */
  header: string;
  /** Exact value to match. */
  value: string;
  /** Version that matching requests go to. */
  version: string;
}

/** Inbound mTLS acceptance of a service or of the whole namespace. */
export interface MtlsMode {
  kind: 'MtlsMode';
  /** Service the mode applies to; undefined means the whole namespace. */
  service?: string;
  /** STRICT refuses plaintext; PERMISSIVE accepts both. */
  mode: 'STRICT' | 'PERMISSIVE';
}

/** Connection-pool limits each caller's sidecar keeps towards a service. */
export interface ConnectionPool {
  kind: 'ConnectionPool';
  service: string;
  /** Max upstream connections (HTTP/1.1: max concurrent requests in flight). */
  maxConnections: number;
  /** Max requests waiting for a connection; overflow gets 503 UO. */
  maxPendingRequests: number;
  /** Max concurrent requests, if limited separately. */
  maxRequests?: number;
}

/** Passive health checking: eject a host after consecutive 5xx. */
export interface OutlierDetection {
  kind: 'OutlierDetection';
  service: string;
  /** Consecutive 5xx responses that eject a host. */
  consecutive5xx: number;
  /** Sweep interval at which ejected hosts may return, in milliseconds. */
  intervalMs: number;
  /** Base ejection time, multiplied by the number of times the host was ejected, in milliseconds. */
  baseEjectionMs: number;
  /**
   * Max share of hosts ejected at once, 0-100. Current Envoy counts the host about to go, even for the
   * first ejection: with 3 hosts and 10% nothing is ever ejected. Undefined (the step "ejects a host"):
   * the smallest cap that lets one host go, ceil(100 / hosts).
   */
  maxEjectionPercent?: number;
}

/** Retry policy of calls to a service. */
export interface Retry {
  kind: 'Retry';
  service: string;
  /** Retries after the first attempt; 0 disables retries (including the mesh's default). */
  attempts: number;
  /** Timeout of each attempt, in milliseconds. */
  perTryTimeoutMs?: number;
  /** Envoy retry-on conditions, e.g. ["5xx"] or ["connect-failure", "reset"]. */
  retryOn: string[];
}

/** Route timeout covering the whole call including retries; expiry answers 504. */
export interface Timeout {
  kind: 'Timeout';
  service: string;
  /** Whole-request timeout, in milliseconds. */
  timeoutMs: number;
}

/** Deny by default; allow only the named caller services' identities. */
export interface Authorization {
  kind: 'Authorization';
  service: string;
  /** Caller services whose identity may call. */
  allowFrom: string[];
}

export type Intent =
  | FaultDelay
  | FaultAbort
  | TrafficSplit
  | HeaderRoute
  | MtlsMode
  | ConnectionPool
  | OutlierDetection
  | Retry
  | Timeout
  | Authorization;

export type IntentKind = Intent['kind'];

export const INTENT_KINDS: readonly IntentKind[] = [
  'FaultDelay', 'FaultAbort', 'TrafficSplit', 'HeaderRoute', 'MtlsMode',
  'ConnectionPool', 'OutlierDetection', 'Retry', 'Timeout', 'Authorization',
];
