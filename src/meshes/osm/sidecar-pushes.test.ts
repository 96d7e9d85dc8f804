import { acceptedVersions, osmPushes, OSM_BATCH_MS, QUIET_MS, settled } from './sidecar-pushes.js';
import { osm } from './mesh.js';
import { appContext } from '../registry.js';

/** The shape of Envoy's /config_dump: one entry per config type, versions where Envoy accepted one. */
const dump = (v: string) => ({
  configs: [
    { '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump', bootstrap: { node: { id: 'x' } } },
    { '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', version_info: v, static_clusters: [{ version_info: 'static' }], dynamic_active_clusters: [{ version_info: v, cluster: {} }] },
    { '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump', version_info: v, dynamic_listeners: [{ name: 'inbound', active_state: { version_info: v } }] },
    { '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump', dynamic_route_configs: [{ version_info: v, route_config: {} }] },
  ],
});

describe('OSM: in effect once every sidecar accepted a push after the change, and OSM has stopped pushing', () => {
  test("the versions Envoy accepted, from every dynamic config (not the bootstrap's or static ones)", () => {
    expect(acceptedVersions(dump('7'))).toBe('[1]=7 [1].dynamic_active_clusters[0]=7 [2]=7 [2].dynamic_listeners[0].active_state=7 [3].dynamic_route_configs[0]=7');
    expect(acceptedVersions(dump('7'))).not.toEqual(acceptedVersions(dump('8')));
    expect(acceptedVersions(dump('7'))).not.toContain('static');
  });

  test('OSM pushes its SMI objects, MeshConfig and Retry; a Kubernetes object of the render is waited on as such', () => {
    const objects = osm.render([{ kind: 'TrafficSplit', service: 'reviews', weights: [{ version: 'v1', weight: 80 }, { version: 'v2', weight: 20 }] }, { kind: 'Authorization', service: 'reviews', allowFrom: ['productpage'] }], appContext('meshcheck-r1', '1.2')).objects;
    expect(objects.filter(osmPushes).map((o) => o.kind).sort()).toEqual(expect.arrayContaining(['HTTPRouteGroup', 'MeshConfig', 'TrafficSplit', 'TrafficTarget']));
    expect(osmPushes({ apiVersion: 'apps/v1' })).toBe(false);
    expect(osmPushes({ apiVersion: 'v1' })).toBe(false);
  });

  const t0 = 1_000_000;
  const before = new Map([['reviews-v1', 'a'], ['productpage', 'a']]);

  test('a sidecar still on its version from before the change is named', () => {
    expect(settled(before, new Map([['reviews-v1', 'b'], ['productpage', 'a']]), t0 + 100, t0, t0 + 60_000)).toEqual({ done: false, why: '1 of 2 sidecars have not accepted a push since the change: productpage' });
    expect(settled(before, new Map(), t0, t0, t0 + 60_000).done).toBe(false);
  });

  test("all moved: done only after the quiet time, counted from OSM's batching window at the earliest", () => {
    const moved = new Map([['reviews-v1', 'b'], ['productpage', 'b']]);
    // Moved at once (a push already on its way): OSM's own batch for the change may still come.
    expect(settled(before, moved, t0 + 50, t0, t0 + OSM_BATCH_MS + QUIET_MS - 1).done).toBe(false);
    expect(settled(before, moved, t0 + 50, t0, t0 + OSM_BATCH_MS + QUIET_MS).done).toBe(true);
    // Moved late: quiet counted from the last move.
    expect(settled(before, moved, t0 + 4000, t0, t0 + 4000 + QUIET_MS - 1).done).toBe(false);
    expect(settled(before, moved, t0 + 4000, t0, t0 + 4000 + QUIET_MS).done).toBe(true);
  });

  test('a pod that started after the change (a new sidecar) counts as moved', () => {
    expect(settled(before, new Map([['reviews-v1', 'b'], ['productpage-new', 'a']]), t0, t0, t0 + 60_000).done).toBe(true);
  });
});
