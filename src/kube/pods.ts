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

/** Why the pods of a namespace that are not ready are not (whyNotReady), pods with the same reason together, five reasons at most. */
export async function notReady(kc: KubeConfig, namespace: string): Promise<string[]> {
  const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace });
  const byReason = new Map<string, string[]>();
  for (const p of pods.items.filter((x) => !x.metadata?.deletionTimestamp && !x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))) {
    const why = whyNotReady(p);
    byReason.set(why, [...(byReason.get(why) ?? []), p.metadata?.name ?? '?']);
  }
  return [...byReason].slice(0, 5).map(([why, names]) => `${namespace}/${names.join(', ')} (${why})`);
}

/** Waiting reasons that are a step on the way, not a cause. */
const ON_THE_WAY = new Set(['ContainerCreating', 'PodInitializing']);
/** Waiting reasons of an image that is not there. */
const NO_IMAGE = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName']);

/**
 * Why one pod is not ready, the cause first: a container (an init container's first: a sidecar's
 * init that cannot pull its image holds every other container back) that waits for a reason, with its
 * image; an init container that failed; then the pod's conditions; then its phase.
 */
export function whyNotReady(p: V1Pod): string {
  const statuses = [...(p.status?.initContainerStatuses ?? []).map((s) => ({ s, kind: 'init container' })), ...(p.status?.containerStatuses ?? []).map((s) => ({ s, kind: 'container' }))];
  const stuck = statuses.find(({ s }) => s.state?.waiting?.reason && !ON_THE_WAY.has(s.state.waiting.reason));
  if (stuck) {
    const w = stuck.s.state!.waiting!;
    const last = stuck.s.lastState?.terminated;
    return `${stuck.kind} ${stuck.s.name} waiting: ${w.reason}${w.message ? `: ${w.message}` : ''} (image ${stuck.s.image})`
      + (last ? `; it last exited with ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}` : '')
      + (NO_IMAGE.has(w.reason!) ? '; the node cannot get the image: --image-mirror names a registry that mirrors it, or load it onto the node' : '');
  }
  const failed = statuses.find(({ s, kind }) => kind === 'init container' && (s.state?.terminated?.exitCode ?? 0) !== 0);
  if (failed) return `init container ${failed.s.name} exited with ${failed.s.state!.terminated!.exitCode}${failed.s.state!.terminated!.reason ? ` (${failed.s.state!.terminated!.reason})` : ''}`;
  const c = p.status?.conditions?.find((x) => x.status !== 'True' && (x.reason || x.message));
  if (c) return `${c.type} ${c.status}: ${[c.reason, c.message].filter(Boolean).join(': ')}`;
  return `phase ${p.status?.phase ?? 'unknown'}${p.spec?.nodeName ? ` on ${p.spec.nodeName}` : ', not scheduled'}`;
}
