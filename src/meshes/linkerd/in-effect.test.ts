import type { Live, Since } from '../../kube/status.js';
import type { K8sObject } from '../../kube/objects.js';
import { linkerdSignal } from './in-effect.js';

const obj = (apiVersion: string, kind: string): K8sObject => ({ apiVersion, kind, metadata: { name: 'reviews', namespace: 'meshcheck-r1' } });
const applied: Since = { appliedAt: new Date('2026-12-02T10:00:00.400Z'), changed: true };
const read = (o: K8sObject, live: Live, since = applied) => linkerdSignal(o)!(live, since);

describe("Linkerd: an HTTPRoute's parent status from the policy controller", () => {
  const route = obj('policy.linkerd.io/v1beta3', 'HTTPRoute');
  const parent = (conditions: object[], controllerName = 'linkerd.io/policy-controller') => ({ controllerName, parentRef: { kind: 'Service', name: 'reviews' }, conditions });

  test('in effect when every parent it wrote says Accepted True', () => {
    expect(read(route, { metadata: { generation: 3 }, status: { parents: [parent([{ type: 'Accepted', status: 'True' }])] } })).toEqual({ inEffect: true, how: 'Accepted by linkerd.io/policy-controller (1 parent)' });
  });

  test("another controller's status, an older generation or Accepted False is not in effect", () => {
    expect(read(route, { status: { parents: [parent([{ type: 'Accepted', status: 'True' }], 'example.com/gateway')] } }).inEffect).toBe(false);
    expect(read(route, { metadata: { generation: 3 }, status: { parents: [parent([{ type: 'Accepted', status: 'True', observedGeneration: 2 }])] } })).toEqual({ inEffect: false, why: 'Accepted is of generation 2, the route is at 3' });
    expect(read(route, { status: { parents: [parent([{ type: 'Accepted', status: 'False', reason: 'NoMatchingParent' }])] } })).toEqual({ inEffect: false, why: 'Accepted False: NoMatchingParent' });
  });
});
