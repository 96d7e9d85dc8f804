/**
 * The part of an Envoy sidecar's config dump that carries a service's policy, for a scenario's
 * evidence: on the caller's side the virtual hosts and clusters of the service (routes, splits,
 * faults, retries, timeouts, connection pools, outlier detection, TLS to it); on the destination's
 * side its inbound filter chains (the TLS they require, the RBAC filter). Envoy's own JSON, cut down
 * to those resources: what the policy became in the data plane, not what was applied.
 */

import type { KubeConfig } from '@kubernetes/client-node';
import type { Evidence } from '../../evidence.js';
import { execOutput } from '../../kube/exec.js';

type Json = Record<string, unknown>;

const ofType = (dump: unknown, suffix: string): Json | undefined =>
  ((dump as { configs?: Json[] } | undefined)?.configs ?? []).find((c) => String(c['@type'] ?? '').endsWith(suffix));

/** The caller's routes to `host` (a service's cluster-local name) and its clusters of that host, by subset. */
export function callerSlice(dump: unknown, host: string): Json {
  const routes = (ofType(dump, '.RoutesConfigDump')?.dynamic_route_configs as { route_config?: { name?: string; virtual_hosts?: { domains?: string[] }[] } }[] | undefined) ?? [];
  const virtualHosts = routes.flatMap((r) =>
    (r.route_config?.virtual_hosts ?? []).filter((v) => (v.domains ?? []).some((d) => d === host || d.startsWith(`${host}:`))).map((v) => ({ routeConfig: r.route_config?.name, ...v })),
  );
  const clusters = ((ofType(dump, '.ClustersConfigDump')?.dynamic_active_clusters as { cluster?: { name?: string } }[] | undefined) ?? [])
    .map((c) => c.cluster)
    .filter((c): c is Json & { name: string } => typeof c?.name === 'string' && c.name.endsWith(`|${host}`));
  return { virtualHosts, clusters };
}

/** The destination's inbound filter chains (Istio's `virtualInbound` listener): each chain's match, its TLS, its filters, and any RBAC filter whole. */
export function destinationSlice(dump: unknown, listener = 'virtualInbound'): Json {
  const listeners = (ofType(dump, '.ListenersConfigDump')?.dynamic_listeners as { name?: string; active_state?: { listener?: Json } }[] | undefined) ?? [];
  const inbound = listeners.find((l) => l.name === listener)?.active_state?.listener as { filter_chains?: Json[] } | undefined;
  const chains = (inbound?.filter_chains ?? []).map((c) => {
    const filters = (c.filters as { name?: string; typed_config?: Json }[] | undefined) ?? [];
    const http = filters.find((f) => f.name === 'envoy.filters.network.http_connection_manager')?.typed_config as { http_filters?: { name?: string; typed_config?: Json }[] } | undefined;
    const rbac = [...filters, ...(http?.http_filters ?? [])].filter((f) => /rbac/i.test(f.name ?? ''));
    return {
      name: c.name,
      match: c.filter_chain_match,
      tls: c.transport_socket ? (c.transport_socket as Json).name : 'none (plaintext accepted)',
      filters: filters.map((f) => f.name),
      httpFilters: http?.http_filters?.map((f) => f.name),
      ...(rbac.length ? { rbac } : {}),
    };
  });
  return { listener, filterChains: chains };
}

/** Envoy's config dump from a pod's sidecar: `command` run in its container prints it (JSON). */
async function configDump(kc: KubeConfig, namespace: string, pod: string, container: string, command: readonly string[]): Promise<unknown> {
  const { out, code, stderr } = await execOutput(kc, namespace, pod, container, [...command]);
  if (code !== 0) throw new Error(`${command.join(' ')} in ${pod} exited with ${code}: ${stderr || out.slice(0, 200)}`);
  // pilot-agent may log a line of its own (Go's memory limit) before the answer.
  return JSON.parse(out.slice(out.indexOf('{')));
}

/**
 * For each service a scenario's policy names: the caller's Envoy config for it, and one destination
 * pod's inbound chains. A dump that cannot be read becomes evidence saying why (never a failure).
 */
export async function envoyPolicyEvidence(
  kc: KubeConfig,
  o: { namespace: string; caller?: string; destinations: ReadonlyMap<string, string | undefined>; container: string; command: readonly string[] },
): Promise<Evidence[]> {
  const read = async (pod: string | undefined, slice: (dump: unknown) => Json): Promise<Json | string> => {
    if (!pod) return 'no running pod to read';
    try {
      return slice(await configDump(kc, o.namespace, pod, o.container, o.command));
    } catch (err) {
      return `not read: ${(err as Error).message}`;
    }
  };
  const out: Evidence[] = [];
  for (const [service, pod] of o.destinations) {
    const host = `${service}.${o.namespace}.svc.cluster.local`;
    const body = {
      caller: { pod: o.caller, ...wrap(await read(o.caller, (d) => callerSlice(d, host))) },
      destination: { pod, ...wrap(await read(pod, (d) => destinationSlice(d))) },
    };
    out.push({ name: `Envoy config for ${service} (config dump, in effect)`, contentType: 'application/json', body: JSON.stringify(body, null, 2) });
  }
  return out;
}

const wrap = (r: Json | string): Json => (typeof r === 'string' ? { error: r } : r);
