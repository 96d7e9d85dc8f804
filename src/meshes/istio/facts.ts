import type { RequestMetric } from '../../metrics/promql.js';
import type { OptionSpec } from '../../options.js';

/** Istio's standard request metric, istio_requests_total, as the callers' sidecars report it (the reference sidecar reports it too). */
export const ISTIO_REQUESTS: RequestMetric = {
  counter: 'istio_requests_total',
  codeLabel: 'response_code',
  select: (service, namespace) => ({ reporter: 'source', destination_service_name: service, ...(namespace ? { destination_service_namespace: namespace } : {}) }),
};

/** The kube target's option that says where istiod's debug port is, when meshcheck should not find it itself. */
export const ISTIOD_URL: OptionSpec = {
  name: 'istiodUrl',
  flag: '--istiod-url <url>',
  description: 'kube, Istio: istiod\'s debug port (15014), e.g. http://127.0.0.1:15014 after kubectl port-forward; default: meshcheck port-forwards to a ready istiod pod',
  check: (url) => (/^https?:\/\/[^/]+/.test(url) ? undefined : `--istiod-url ${url}: not an http(s) URL, e.g. http://127.0.0.1:15014`),
};
