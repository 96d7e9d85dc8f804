/** PromQL lives only here, in named builders, each unit-tested for its string. */

const sel = (labels: Record<string, string>) =>
  `{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;

/** Requests to a service by response code, as the callers' sidecars report them (includes injected faults). */
export function requestsByCode(service: string): string {
  return `sum by (response_code) (istio_requests_total${sel({ reporter: 'source', destination_service_name: service })})`;
}
