/** PromQL lives only here, in named builders, each unit-tested for its string. */

const sel = (labels: Record<string, string>) =>
  `{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;

/** Requests to a service by response code, as the callers' sidecars report them (includes injected faults). */
export function requestsByCode(service: string): string {
  return `sum by (response_code) (istio_requests_total${sel({ reporter: 'source', destination_service_name: service })})`;
}

/** Success rate of a service over a window, the Istio dashboard way (non-5xx / all). */
export function successRate(service: string, windowS: number): string {
  const m = sel({ reporter: 'source', destination_service_name: service });
  return `sum(increase(istio_requests_total{${m.slice(1, -1)},response_code!~"5.."}[${windowS}s])) / sum(increase(istio_requests_total${m}[${windowS}s]))`;
}

/** p-quantile of request duration to a service, from the Istio histogram. */
export function latencyQuantile(service: string, q: number, windowS: number): string {
  return `histogram_quantile(${q}, sum by (le) (rate(istio_request_duration_milliseconds_bucket${sel({ reporter: 'source', destination_service_name: service })}[${windowS}s])))`;
}
