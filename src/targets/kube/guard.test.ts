import { meshFor, appContext } from '../../meshes/registry.js';
import type { Intent } from '../../intents/types.js';
import { allowedNamespaces, refusedChanges } from './guard.js';

const NS = 'meshcheck-run1';
const render = (mesh: string, intents: Intent[]) => {
  const { mesh: adapter, version } = meshFor(mesh);
  return adapter.render(intents, appContext(NS, version, 'run-1')).objects;
};

describe('the kube target changes nothing outside its namespace unless allowed', () => {
  it("lets a scenario's own objects through", () => {
    const objects = render('istio', [{ kind: 'TrafficSplit', service: 'reviews', weights: [{ version: 'v1', weight: 80 }, { version: 'v2', weight: 20 }] }]);
    expect(objects.length).toBeGreaterThan(0);
    expect(refusedChanges(objects, NS, [])).toBeUndefined();
  });

  it("refuses OSM's global MeshConfig (a retry turns its feature flag on) in osm-system until --allow-changes-in names it", () => {
    const objects = render('osm', [{ kind: 'Retry', service: 'reviews', attempts: 2, retryOn: ['5xx'] }]);
    const meshConfig = objects.find((o) => o.kind === 'MeshConfig');
    expect(meshConfig?.metadata.namespace).toBe('osm-system');
    expect(refusedChanges(objects, NS, [])).toMatch(/would change MeshConfig osm-system\/osm-mesh-config outside the run's namespace meshcheck-run1; .*--allow-changes-in osm-system$/);
    expect(refusedChanges(objects, NS, ['osm-system'])).toBeUndefined();
  });

  it('never changes a cluster-scoped object or another namespace object', () => {
    const objects = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'x' } },
    ];
    expect(refusedChanges(objects, NS, ['kube-system'])).toBe(`this scenario would change Namespace kube-system, ClusterRole x outside the run's namespace ${NS}; meshcheck changes nothing there unless allowed: cluster-scoped objects are never changed`);
  });

  it('reads --allow-changes-in as namespace names', () => {
    expect(allowedNamespaces('osm-system, consul')).toEqual(['osm-system', 'consul']);
    expect(allowedNamespaces(undefined)).toEqual([]);
    expect(() => allowedNamespaces('a,Bad_NS')).toThrow(/"Bad_NS" is not a namespace name/);
  });
});
