import { kubernetesSignal, withoutSignal, type SignalOf } from '../kube/status.js';
import type { K8sObject } from '../kube/objects.js';
import { consulSignal } from './consul/in-effect.js';
import { linkerdSignal } from './linkerd/in-effect.js';

const obj = (apiVersion: string, kind: string): K8sObject => ({ apiVersion, kind, metadata: { name: 'reviews', namespace: 'meshcheck-r1' } });
/** The signals of a mesh's status watch: the Kubernetes kinds', then the mesh's own. */
const on = (mesh?: SignalOf): SignalOf => (o) => kubernetesSignal(o) ?? mesh?.(o);

describe('a status watch refuses what no signal covers', () => {
  test('the kinds a mesh writes nothing on have no signal, and are named', () => {
    const objects = [obj('policy.linkerd.io/v1beta3', 'Server'), obj('policy.linkerd.io/v1alpha1', 'AuthorizationPolicy'), obj('policy.linkerd.io/v1beta3', 'HTTPRoute'), obj('v1', 'Service'), obj('policy.linkerd.io/v1beta3', 'Server')];
    expect(withoutSignal(on(linkerdSignal), objects)).toEqual(['AuthorizationPolicy (policy.linkerd.io/v1alpha1)', 'Server (policy.linkerd.io/v1beta3)']);
    expect(withoutSignal(on(), [obj('split.smi-spec.io/v1alpha2', 'TrafficSplit')])).toEqual(['TrafficSplit (split.smi-spec.io/v1alpha2)']);
    // A Consul kind is only Consul's signal on Consul.
    expect(withoutSignal(on(consulSignal), [obj('consul.hashicorp.com/v1alpha1', 'ServiceIntentions')])).toEqual([]);
    expect(withoutSignal(on(linkerdSignal), [obj('consul.hashicorp.com/v1alpha1', 'ServiceIntentions')])).toHaveLength(1);
  });
});
