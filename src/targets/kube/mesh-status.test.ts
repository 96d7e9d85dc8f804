import { statusSignal, withoutSignal, type Live, type Since } from './mesh-status.js';
import type { K8sObject } from '../../kube/objects.js';

const obj = (apiVersion: string, kind: string): K8sObject => ({ apiVersion, kind, metadata: { name: 'reviews', namespace: 'meshcheck-r1' } });
const applied: Since = { appliedAt: new Date('2026-12-02T10:00:00.400Z'), changed: true };
const read = (mesh: string, o: K8sObject, live: Live, since = applied) => statusSignal(mesh, o)!(live, since);

describe('Consul: the Synced condition consul-k8s writes', () => {
  const splitter = obj('consul.hashicorp.com/v1alpha1', 'ServiceSplitter');
  const synced = (lastSyncedTime: string, status = 'True', extra = {}) => ({ metadata: { generation: 2 }, status: { conditions: [{ type: 'Synced', status, ...extra }], lastSyncedTime } });

  test('in effect when Synced True was written after this change (lastSyncedTime has whole seconds)', () => {
    expect(read('consul', splitter, synced('2026-12-02T10:00:00Z'))).toMatchObject({ inEffect: true, how: 'Synced True (lastSyncedTime 2026-12-02T10:00:00Z)' });
  });

  test('a Synced True from before this change is not yet this change', () => {
    expect(read('consul', splitter, synced('2026-12-02T09:59:59Z'))).toEqual({ inEffect: false, why: 'last synced 2026-12-02T09:59:59Z, before this change' });
  });

  test('an apply that changed nothing is in effect on the earlier sync', () => {
    expect(read('consul', splitter, synced('2026-12-02T09:00:00Z'), { ...applied, changed: false }).inEffect).toBe(true);
  });

  test("a failed sync is pending with consul-k8s's own reason; no condition yet names the controller", () => {
    expect(read('consul', splitter, synced('', 'False', { reason: 'ConsulAgentError', message: 'writing config entry to consul: protocol must be http' }))).toEqual({ inEffect: false, why: 'Synced False: ConsulAgentError: writing config entry to consul: protocol must be http' });
    expect(read('consul', splitter, { metadata: { generation: 1 } })).toEqual({ inEffect: false, why: "no Synced condition yet (is consul-k8s's controller running?)" });
  });
});

describe("Linkerd: an HTTPRoute's parent status from the policy controller", () => {
  const route = obj('policy.linkerd.io/v1beta3', 'HTTPRoute');
  const parent = (conditions: object[], controllerName = 'linkerd.io/policy-controller') => ({ controllerName, parentRef: { kind: 'Service', name: 'reviews' }, conditions });

  test('in effect when every parent it wrote says Accepted True', () => {
    expect(read('linkerd', route, { metadata: { generation: 3 }, status: { parents: [parent([{ type: 'Accepted', status: 'True' }])] } })).toEqual({ inEffect: true, how: 'Accepted by linkerd.io/policy-controller (1 parent)' });
  });

  test("another controller's status, an older generation or Accepted False is not in effect", () => {
    expect(read('linkerd', route, { status: { parents: [parent([{ type: 'Accepted', status: 'True' }], 'example.com/gateway')] } }).inEffect).toBe(false);
    expect(read('linkerd', route, { metadata: { generation: 3 }, status: { parents: [parent([{ type: 'Accepted', status: 'True', observedGeneration: 2 }])] } })).toEqual({ inEffect: false, why: 'Accepted is of generation 2, the route is at 3' });
    expect(read('linkerd', route, { status: { parents: [parent([{ type: 'Accepted', status: 'False', reason: 'NoMatchingParent' }])] } })).toEqual({ inEffect: false, why: 'Accepted False: NoMatchingParent' });
  });
});

describe('the Kubernetes objects beside the mesh objects', () => {
  test('a Deployment is in effect once rolled out at its generation', () => {
    const d = obj('apps/v1', 'Deployment');
    expect(read('linkerd', d, { metadata: { generation: 2 }, spec: { replicas: 1 }, status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1 } })).toEqual({ inEffect: true, how: 'rolled out (1 of 1 ready)' });
    expect(read('linkerd', d, { metadata: { generation: 2 }, spec: { replicas: 1 }, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1 } }).inEffect).toBe(false);
    expect(read('linkerd', d, { metadata: { generation: 2 }, spec: { replicas: 2 }, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 1 } })).toEqual({ inEffect: false, why: '1 of 2 replicas ready and updated' });
  });

  test('the kinds a mesh writes nothing on have no signal, and are named', () => {
    const objects = [obj('policy.linkerd.io/v1beta3', 'Server'), obj('policy.linkerd.io/v1alpha1', 'AuthorizationPolicy'), obj('policy.linkerd.io/v1beta3', 'HTTPRoute'), obj('v1', 'Service'), obj('policy.linkerd.io/v1beta3', 'Server')];
    expect(withoutSignal('linkerd', objects)).toEqual(['AuthorizationPolicy (policy.linkerd.io/v1alpha1)', 'Server (policy.linkerd.io/v1beta3)']);
    expect(withoutSignal('osm', [obj('split.smi-spec.io/v1alpha2', 'TrafficSplit')])).toEqual(['TrafficSplit (split.smi-spec.io/v1alpha2)']);
    // A Consul kind is only Consul's signal on Consul.
    expect(withoutSignal('consul', [obj('consul.hashicorp.com/v1alpha1', 'ServiceIntentions')])).toEqual([]);
    expect(withoutSignal('linkerd', [obj('consul.hashicorp.com/v1alpha1', 'ServiceIntentions')])).toHaveLength(1);
  });
});
