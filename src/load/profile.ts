/** One load shape, engine-neutral. */
export interface LoadProfile {
  /** Destination service (sent as the Host header to the caller's sidecar). */
  service: string;
  /** Caller whose sidecar the traffic goes through; undefined = the meshed load client. */
  caller?: string;
  /** Constant arrival rate, requests per second; undefined = all requests at once (concurrent burst). */
  rps?: number;
  /** Request budget: at most this many requests are sent. */
  requests: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Request body size in bytes (0 = no body). */
  payloadBytes: number;
  /** Max requests in flight; an arrival finding all busy is dropped (never queued: open model). */
  maxInFlight: number;
  /**
   * A fixed number of client connections the requests take in turn (each carries every Nth request
   * while it is free), as fortio's `-c` and the vendors' published benchmarks use them; maxInFlight is
   * then this number. Undefined: up to maxInFlight connections, each request on the first free one,
   * which leaves one warm connection carrying most requests at a low rate.
   */
  connections?: number;
}

export function profile(p: Partial<LoadProfile> & Pick<LoadProfile, 'service' | 'requests'>): LoadProfile {
  return { method: 'GET', path: '/', headers: {}, payloadBytes: 0, maxInFlight: 512, ...p, ...(p.connections ? { maxInFlight: p.connections } : {}) };
}

/** One response as the load client saw it. */
export interface Sample {
  /** HTTP status; 0 = no HTTP response (connection refused or reset). On gRPC: 200 for OK, else 0 (the code is in `grpc`). */
  status: number;
  /** gRPC status code, on a gRPC data plane (read through its SampleReading, never directly). */
  grpc?: number;
  /** The caller identity the workload saw (gRPC echo reply), when it saw one. */
  caller?: string;
  /** Version that answered, from the echo reply; undefined when no workload answered. */
  version?: string;
  /** Latency from the intended send time, in microseconds. */
  latencyUs: number;
  /** How much later than intended the request was sent (the generator's own lag), in microseconds. */
  lagUs?: number;
  /** Rejected by a circuit breaker (x-envoy-overloaded). */
  overloaded: boolean;
  /** Sidecar response flags (meshcheck's reference sidecar reports them in a header). */
  flags: string;
  /** Why no response came back (status 0), as the load generator said it: a refused connection, a name that did not resolve. */
  error?: string;
  /**
   * The start of a body that is not the echo workload's (which is JSON): a reply the data plane made
   * itself, e.g. Envoy's "fault filter abort" or "RBAC: access denied".
   */
  reply?: string;
}
