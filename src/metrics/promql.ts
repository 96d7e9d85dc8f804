/** PromQL lives only here, in named builders, each unit-tested for its string. */

/** A label matcher: an exact value, or a regular expression (`=~`). */
export type Matcher = string | { re: string };

/**
 * Where a mesh's proxies count the requests to a service by response code (facts the adapter
 * declares, from the mesh's own metric names): the counter, the label with the status code, and the
 * labels that pick the calls to one service of one namespace.
 */
export interface RequestMetric {
  counter: string;
  codeLabel: string;
  select(service: string, namespace: string): Record<string, Matcher>;
}

const sel = (labels: Record<string, Matcher>) =>
  `{${Object.entries(labels).map(([k, v]) => (typeof v === 'string' ? `${k}=${JSON.stringify(v)}` : `${k}=~${JSON.stringify(v.re)}`)).join(',')}}`;

/** Requests to a service by response code, as the callers' proxies report them (includes injected faults). */
export function requestsByCode(service: string, m: RequestMetric, namespace = ''): string {
  return `sum by (${m.codeLabel}) (${m.counter}${sel(m.select(service, namespace))})`;
}

/** A regular expression matching a service's own name and the Services meshcheck derives from it (versions, origin, fault backends). */
export function serviceAndDerived(service: string): string {
  return `${service.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(-.+)?`;
}
