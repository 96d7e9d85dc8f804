import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { apiCall } from './client.js';

/** A pod that runs and is not being deleted. */
export const running = (p: V1Pod): boolean => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp;

/** A running pod whose Ready condition is True. */
export const ready = (p: V1Pod): boolean => running(p) && Boolean(p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

/** The running pods of a namespace (optionally by label selector), listed with apiCall's retries and RBAC naming. */
export async function runningPods(kc: KubeConfig, namespace: string, labelSelector?: string): Promise<V1Pod[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const list = await apiCall({ verb: 'list', kind: 'Pod', namespace }, () => core.listNamespacedPod({ namespace, ...(labelSelector ? { labelSelector } : {}) }));
  return list.items.filter(running);
}
