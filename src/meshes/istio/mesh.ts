import type { Intent } from '../../intents/types.js';
import type { Mesh, Support } from '../types.js';
import { ISTIO_REQUESTS, ISTIOD_URL } from './facts.js';
import { retryAndTimeoutBesideFault, supportInScenario } from '../render/policy.js';
import { renderWorkload } from '../render/workload.js';
import { renderIstio } from './render.js';

/** Istio (sidecar mode): VirtualService, DestinationRule, PeerAuthentication, AuthorizationPolicy. */
export const istio: Mesh = {
  name: 'istio',
  title: 'Istio',
  defaultVersion: '1.30',
  versionRange: { min: '1.20', max: '1.31' },
  shape: 'subsets',

  support(intent: Intent): Support {
    switch (intent.kind) {
      case 'FaultDelay': return { level: 'native', via: 'VirtualService http[].fault.delay (client sidecar)' };
      case 'FaultAbort': return { level: 'native', via: 'VirtualService http[].fault.abort (client sidecar)' };
      case 'TrafficSplit': return { level: 'native', via: 'VirtualService route weights over DestinationRule subsets' };
      case 'HeaderRoute': return { level: 'native', via: 'VirtualService http[].match.headers exact' };
      case 'MtlsMode': return { level: 'native', via: `PeerAuthentication mtls.mode ${intent.mode}` };
      case 'ConnectionPool': return { level: 'native', via: 'DestinationRule trafficPolicy.connectionPool' };
      case 'OutlierDetection': return { level: 'native', via: 'DestinationRule trafficPolicy.outlierDetection' };
      case 'Retry': return { level: 'native', via: 'VirtualService http[].retries' };
      case 'Timeout': return { level: 'native', via: 'VirtualService http[].timeout' };
      case 'Authorization': return { level: 'native', via: 'AuthorizationPolicy ALLOW with source principals (deny for everyone else)' };
    }
  },

  supportAll(intents) {
    // Istio leaves a route's retries and timeout off when the route injects a fault (HTTPRoute.fault).
    return supportInScenario(intents, (i) => this.support(i), (p) => retryAndTimeoutBesideFault(p, (what) =>
      `Istio does not turn on a route's ${what} when the route injects a fault (VirtualService http[].fault), so the ${what} of ${p.service} would not be in effect next to its ${p.abort ? 'abort' : 'delay'}`));
  },

  render(input, ctx) {
    return renderIstio(this, input, ctx, 'sidecar');
  },

  workload(ctx) {
    return renderWorkload(ctx, { shape: 'subsets', namespace: { labels: { 'istio-injection': 'enabled' } }, pod: () => ({}), skipInbound: (port) => istio.skipInbound(port) });
  },
  optOut: { labels: { 'sidecar.istio.io/inject': 'false' } },
  // pilot-agent's endpoint: it stops the proxy and itself.
  skipInbound: (port) => ({ 'traffic.sidecar.istio.io/excludeInboundPorts': String(port) }),
  controlPlane: { namespace: 'istio-system', workloads: [{ kind: 'Deployment', name: 'istiod' }] },
  // pilot-agent asks its Envoy's admin (which listens on the pod's loopback only).
  sidecar: { container: 'istio-proxy', quitUrl: 'http://127.0.0.1:15020/quitquitquit', configDump: ['pilot-agent', 'request', 'GET', 'config_dump'] },
  clusterOptions: [ISTIOD_URL],
  smpType: 'istio',
  inEffect: async (c) => (await import('./in-effect.js')).istioWatch(c),
  requests: ISTIO_REQUESTS,
  // Istio's sidecar default (ProxyConfig concurrency 2): pilot-agent starts Envoy with --concurrency 2.
  proxyWorkers: 2,
};
