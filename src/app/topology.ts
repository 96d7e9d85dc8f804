/** The Bookinfo-shaped application every local run deploys: productpage -> reviews v1/v2/v3 -> ratings. */
export interface ServiceSpec {
  name: string;
  versions: string[];
  /** Service this one calls when asked to follow the chain (path /chain). */
  upstream?: string;
}

export const BOOKINFO: readonly ServiceSpec[] = [
  { name: 'productpage', versions: ['v1'], upstream: 'reviews' },
  { name: 'reviews', versions: ['v1', 'v2', 'v3'], upstream: 'ratings' },
  { name: 'ratings', versions: ['v1'] },
];

/** The meshed load client's service name; it has a sidecar and no app. */
export const LOAD_CLIENT = 'loadclient';

export function knownServices(): string[] {
  return BOOKINFO.map((s) => s.name);
}

export function serviceSpec(name: string): ServiceSpec | undefined {
  return BOOKINFO.find((s) => s.name === name);
}

/** SPIFFE ID of a service's workload identity (service account named after the service). */
export function spiffeId(trustDomain: string, namespace: string, service: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${service}`;
}

/** Authorization principal: the SPIFFE ID without its scheme, as authorization policies write it. */
export function principalOf(spiffe: string): string {
  return spiffe.replace(/^spiffe:\/\//, '');
}
