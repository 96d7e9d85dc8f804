import { kubernetesSignal, type Live, type Since } from './status.js';
import type { K8sObject } from './objects.js';

const obj = (apiVersion: string, kind: string): K8sObject => ({ apiVersion, kind, metadata: { name: 'reviews', namespace: 'meshcheck-r1' } });
const applied: Since = { appliedAt: new Date('2026-12-02T10:00:00.400Z'), changed: true };
const read = (o: K8sObject, live: Live, since = applied) => kubernetesSignal(o)!(live, since);

describe('the Kubernetes objects beside the mesh objects', () => {
  test('a Deployment is in effect once rolled out at its generation', () => {
    const d = obj('apps/v1', 'Deployment');
    expect(read(d, { metadata: { generation: 2 }, spec: { replicas: 1 }, status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 } })).toEqual({ inEffect: true, how: 'rolled out (1 of 1 available)' });
    expect(
      read(d, {
        metadata: { generation: 2 },
        spec: { replicas: 1 },
        status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1 },
      }).inEffect,
    ).toBe(false);
    expect(read(d, { metadata: { generation: 2 }, spec: { replicas: 2 }, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 1 } })).toEqual({ inEffect: false, why: '1 of 2 replicas ready and updated' });
  });

  test('a Deployment whose pod is Ready but not yet for its minReadySeconds (a container crash-looping between restarts) is not in effect', () => {
    const d = obj('apps/v1', 'Deployment');
    const status = { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 0 };
    const live = { metadata: { generation: 1 }, spec: { replicas: 1, minReadySeconds: 5 }, status };
    expect(read(d, live)).toEqual({ inEffect: false, why: '0 of 1 replicas available (ready for 5 s)' });
  });
});
