/** What the local control plane pushes to each reference sidecar (our small stand-in for xDS). */

export interface Endpoint {
  service: string;
  version: string;
  instance: string;
  /** host:port of the instance's sidecar inbound listener. */
  address: string;
  /** SPIFFE ID the instance's certificate must carry. */
  identity: string;
}

export interface RouteConfig {
  /** Exact header matches, tried in order before weights. */
  headerRoutes: { header: string; value: string; version: string }[];
  /** Weighted split by version; absent = all endpoints of the service. */
  weights?: { version: string; weight: number }[];
  faultDelay?: { percent: number; delayMs: number };
  faultAbort?: { percent: number; httpStatus: number };
  /** Absent = Istio's default policy (2 retries on connect-failure, refused-stream, unavailable, cancelled). */
  retry?: { attempts: number; perTryTimeoutMs?: number; retryOn: string[] };
  timeoutMs?: number;
  pool?: { maxConnections: number; maxPendingRequests: number; maxRequests?: number };
  outlier?: { consecutive5xx: number; intervalMs: number; baseEjectionMs: number; maxEjectionPercent?: number };
}

export interface InboundConfig {
  mtlsMode: 'STRICT' | 'PERMISSIVE';
  /** Allowed principals (SPIFFE IDs without scheme); absent = allow all. */
  allowPrincipals?: string[];
}

export interface SidecarConfig {
  version: number;
  endpoints: Record<string, Endpoint[]>;
  outbound: Record<string, RouteConfig>;
  inbound: InboundConfig;
}

/** Static facts a sidecar process is started with. */
export interface SidecarBoot {
  service: string;
  version: string;
  instance: string;
  namespace: string;
  identity: string;
  inboundPort: number;
  outboundPort: number;
  adminPort: number;
  /** App port; absent for the load client, which has no app. */
  appPort?: number;
  certFile: string;
  keyFile: string;
  caFile: string;
}

export interface WorkloadBoot {
  service: string;
  version: string;
  instance: string;
  port: number;
  /** Service called on /chain, through the sidecar's outbound port. */
  upstream?: string;
  outboundPort?: number;
}

/** What a workload can be told to do (not mesh policy: the app itself misbehaving). */
export interface WorkloadBehaviour {
  /** Answer every request with this status; undefined = 200. */
  failStatus?: number;
  /** Wait this long before answering. */
  delayMs?: number;
}

/** Istio's default retry policy when a route sets none. */
export const DEFAULT_RETRY = { attempts: 2, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled'] } as const;

/** Istio's histogram buckets for istio_request_duration_milliseconds. */
export const ISTIO_DURATION_BUCKETS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
