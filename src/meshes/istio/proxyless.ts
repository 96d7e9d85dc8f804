import type { Intent } from '../../intents/types.js';
import type { Mesh, Support } from '../types.js';
import { istio } from './mesh.js';
import { renderIstio } from './render.js';
import { AGENT_QUIT_URL, PROXYLESS_CONTROL_PORT, PROXYLESS_DATA_PATH, proxylessBehaviour, proxylessImage, renderProxylessWorkload } from './proxyless-workload.js';
import { GRPC_READING } from '../../load/grpc-status.js';

/** Why each intent the proxyless data plane cannot take is NOT_SUPPORTED there (measured with istiod 1.31, grpc-go 1.82). */
const PROXYLESS_UNSUPPORTED = {
  outlier: "istiod's gRPC generator sends no outlier detection in CDS to proxyless clients (pilot/pkg/networking/grpcgen/cds.go; the served CDS has none)",
  pool: 'proxyless gRPC takes only connectionPool.http.http2MaxRequests; max connections and pending requests are not translated for it (no TCP pool in grpc-go)',
  retry: "grpc-go retries on gRPC status codes, but not on another host: it ignores the retry_host_predicate (previous_hosts) Istio sets, so a retry can land on the same failing instance (measured: 4 retries against a backend failing half its calls left 34 of 1000 failed, the 3.1% of independent picks); Envoy's retries skip the hosts already tried",
  permissive: "istiod serves a proxyless server plaintext only (workload not marked security.istio.io/tlsMode=istio) or mTLS only (marked, as meshcheck's are), never both, and auto-mTLS does not reach proxyless clients: PERMISSIVE's plaintext-and-mTLS does not exist on this data plane (measured with istiod 1.31)",
} as const;

/**
 * Istio with its proxyless gRPC data plane (grpc-go's xDS client and server, no sidecar): the same
 * objects, plus what gRPC needs (tls ISTIO_MUTUAL in every DestinationRule), and
 * NOT_SUPPORTED where istiod does not translate a field for proxyless.
 */
export const istioProxyless: Mesh = {
  ...istio,
  title: 'Istio (proxyless gRPC)',
  // The version the Istio tier builds and runs (scripts/build-istio.sh).
  defaultVersion: '1.31',
  dataPlane: 'proxyless gRPC',
  // Without tls ISTIO_MUTUAL in a DestinationRule a client calls in plaintext, which the servers refuse.
  baselineFirst: true,
  // grpc-go is linked into each workload: no sidecar container. Istio's agent beside it captures no traffic.
  sidecar: undefined,
  requests: undefined,
  workload: renderProxylessWorkload,
  ownWorkload: {
    engine: 'proxyless-grpc',
    reading: GRPC_READING,
    dataPath: PROXYLESS_DATA_PATH,
    control: { port: PROXYLESS_CONTROL_PORT, path: '/behaviour', body: proxylessBehaviour },
    image: proxylessImage,
    quitUrl: AGENT_QUIT_URL,
  },
  skipInbound: () => ({}),
  support(intent: Intent): Support {
    switch (intent.kind) {
      case 'OutlierDetection': return { level: 'unsupported', reason: PROXYLESS_UNSUPPORTED.outlier };
      case 'ConnectionPool': return { level: 'unsupported', reason: PROXYLESS_UNSUPPORTED.pool };
      case 'MtlsMode':
        return intent.mode === 'PERMISSIVE' ? { level: 'unsupported', reason: PROXYLESS_UNSUPPORTED.permissive } : { level: 'native', via: 'PeerAuthentication STRICT and DestinationRule tls ISTIO_MUTUAL (xDS credentials in grpc-go)' };
      case 'Retry': return intent.attempts > 0 ? { level: 'unsupported', reason: PROXYLESS_UNSUPPORTED.retry } : { level: 'native', via: 'VirtualService http[].retries attempts 0 (no retries)' };
      case 'Timeout': return { level: 'native', via: 'VirtualService http[].timeout, served as the route\'s max_stream_duration (DEADLINE_EXCEEDED)' };
      case 'Authorization': return { level: 'native', via: "AuthorizationPolicy ALLOW with source principals, the RBAC filter of grpc-go's xDS server (PERMISSION_DENIED)" };
      default: return istio.support(intent);
    }
  },
  // supportAll is istio's: the same combination rule over this support().
  render(input, ctx) {
    return renderIstio(this, input, ctx, 'proxyless');
  },
  lacks(feature) {
    switch (feature) {
      case 'mesh-metrics': return 'proxyless gRPC exports no Istio standard metrics (istio_requests_total comes from Envoy sidecars), so there is nothing for Prometheus to count on this data plane';
      case 'sidecar-usage': return 'proxyless gRPC has no sidecar: the data plane (grpc-go) is linked into each workload, so there is no sidecar CPU or memory to measure';
    }
  },
};
