import { callerSlice, destinationSlice } from './envoy-config.js';

const host = 'reviews.ns.svc.cluster.local';
// Shaped as Envoy's /config_dump answers (admin.v3 *ConfigDump messages), cut to what the slices read.
const dump = {
  configs: [
    { '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', dynamic_active_clusters: [
      { cluster: { name: `outbound|9080|v1|${host}`, outlier_detection: { consecutive_5xx: 1 } } },
      { cluster: { name: 'outbound|9080||ratings.ns.svc.cluster.local' } },
    ] },
    { '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump', dynamic_listeners: [
      { name: 'virtualOutbound', active_state: { listener: { filter_chains: [] } } },
      { name: 'virtualInbound', active_state: { listener: { filter_chains: [
        { name: 'inbound|9080||', filter_chain_match: { transport_protocol: 'tls' }, transport_socket: { name: 'envoy.transport_sockets.tls' }, filters: [
          { name: 'envoy.filters.network.http_connection_manager', typed_config: { http_filters: [{ name: 'envoy.filters.http.rbac', typed_config: { rules: { action: 'DENY' } } }, { name: 'envoy.filters.http.router' }] } },
        ] },
        { name: 'inbound|9080||', filter_chain_match: { transport_protocol: 'raw_buffer' }, filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: { http_filters: [{ name: 'envoy.filters.http.router' }] } }] },
      ] } } },
    ] },
    { '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump', dynamic_route_configs: [
      { route_config: { name: '9080', virtual_hosts: [
        { name: `${host}:9080`, domains: [`${host}:9080`, 'reviews', 'reviews:9080'], routes: [{ route: { weighted_clusters: {} } }] },
        { name: 'ratings.ns.svc.cluster.local:9080', domains: ['ratings.ns.svc.cluster.local:9080'] },
      ] } },
    ] },
  ],
};

test("the caller's side: the service's virtual hosts (with their route config) and its clusters, nothing else", () => {
  const s = callerSlice(dump, host) as { virtualHosts: { name: string; routeConfig: string }[]; clusters: { name: string }[] };
  expect(s.virtualHosts.map((v) => [v.routeConfig, v.name])).toEqual([['9080', `${host}:9080`]]);
  expect(s.clusters.map((c) => c.name)).toEqual([`outbound|9080|v1|${host}`]);
  expect(callerSlice({}, host)).toEqual({ virtualHosts: [], clusters: [] });
});

test("the destination's side: each inbound chain's match and TLS, its filters, and the RBAC filter whole", () => {
  const s = destinationSlice(dump) as { filterChains: Record<string, unknown>[] };
  expect(s.filterChains).toEqual([
    { name: 'inbound|9080||', match: { transport_protocol: 'tls' }, tls: 'envoy.transport_sockets.tls', filters: ['envoy.filters.network.http_connection_manager'], httpFilters: ['envoy.filters.http.rbac', 'envoy.filters.http.router'], rbac: [{ name: 'envoy.filters.http.rbac', typed_config: { rules: { action: 'DENY' } } }] },
    { name: 'inbound|9080||', match: { transport_protocol: 'raw_buffer' }, tls: 'none (plaintext accepted)', filters: ['envoy.filters.network.http_connection_manager'], httpFilters: ['envoy.filters.http.router'] },
  ]);
  expect(destinationSlice({})).toEqual({ listener: 'virtualInbound', filterChains: [] });
});
