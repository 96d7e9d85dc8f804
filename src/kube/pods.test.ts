import type { V1Pod } from '@kubernetes/client-node';
import { whyNotReady } from './pods.js';

const pod = (status: V1Pod['status']): V1Pod => ({ metadata: { name: 'reviews-v1-abc' }, spec: { nodeName: 'n1', containers: [] }, status });
const notReadyConditions = [
  { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [istio-init]' },
  { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app istio-proxy]' },
];

describe('why a pod is not ready (D2)', () => {
  it('names a sidecar init container that cannot pull its image, with the image, before the pod\'s conditions', () => {
    const p = pod({
      phase: 'Pending', conditions: notReadyConditions,
      initContainerStatuses: [{ name: 'istio-init', image: 'registry.istio.io/testing/proxyv2:latest', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.istio.io/testing/proxyv2:latest"' } } }],
      containerStatuses: [{ name: 'app', image: 'node:22', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
    });
    expect(whyNotReady(p)).toBe('init container istio-init waiting: ImagePullBackOff: Back-off pulling image "registry.istio.io/testing/proxyv2:latest" (image registry.istio.io/testing/proxyv2:latest); the node cannot get the image: --image-mirror names a registry that mirrors it, or load it onto the node');
  });

  it('names an init container that failed, and a container that crashes with how it last exited', () => {
    const failedInit = pod({ phase: 'Pending', conditions: notReadyConditions, initContainerStatuses: [{ name: 'istio-init', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } }] });
    expect(whyNotReady(failedInit)).toBe('init container istio-init exited with 1 (Error)');
    const crashing = pod({ phase: 'Running', conditions: notReadyConditions, containerStatuses: [{ name: 'app', image: 'meshcheck.local/node:20', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }] });
    expect(whyNotReady(crashing)).toBe('container app waiting: CrashLoopBackOff: back-off 40s (image meshcheck.local/node:20); it last exited with 137 (OOMKilled)');
  });

  it('falls back to the pod\'s conditions, then its phase', () => {
    expect(whyNotReady(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available' }] }))).toBe('PodScheduled False: Unschedulable: 0/1 nodes are available');
    expect(whyNotReady({ metadata: {}, spec: { containers: [] }, status: { phase: 'Pending' } })).toBe('phase Pending, not scheduled');
  });
});
