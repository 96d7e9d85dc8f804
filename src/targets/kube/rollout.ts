import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { InfraError } from '../../errors.js';
import { eventually } from '../../util/eventually.js';

/** A workload that rolls out: a Deployment or a StatefulSet. */
export interface Rollable {
  kind: 'Deployment' | 'StatefulSet';
  name: string;
  namespace: string;
}

const label = (w: Rollable) => `${w.kind} ${w.namespace}/${w.name}`;

async function read(apps: AppsV1Api, w: Rollable) {
  return w.kind === 'Deployment' ? apps.readNamespacedDeployment({ name: w.name, namespace: w.namespace }) : apps.readNamespacedStatefulSet({ name: w.name, namespace: w.namespace });
}

/**
 * Waits until each workload has exactly the replicas its spec asks for, updated and ready, at its
 * latest generation (zero replicas: every pod gone). A wait that runs out names what each one lacks
 * and why its pods are not ready.
 */
export async function rolledOut(
  kc: KubeConfig,
  workloads: readonly Rollable[],
  what: string,
  timeoutMs = Number(process.env.MESHCHECK_KUBE_READY_TIMEOUT_MS ?? 150_000),
): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  let pending: string[] = [];
  await eventually(
    async () => {
      pending = [];
      for (const w of workloads) {
        const d = await read(apps, w);
        const want = d.spec?.replicas ?? 1;
        const st = (d.status ?? {}) as { observedGeneration?: number; replicas?: number; readyReplicas?: number; updatedReplicas?: number };
        if (
          (st.observedGeneration ?? 0) < (d.metadata?.generation ?? 0) ||
          (st.replicas ?? 0) !== want ||
          (st.readyReplicas ?? 0) !== want ||
          (st.updatedReplicas ?? 0) !== want
        ) {
          pending.push(
            `${label(w)} (${st.updatedReplicas ?? 0} updated, ${st.readyReplicas ?? 0} ready, ${st.replicas ?? 0} in all, of ${want}; generation ${st.observedGeneration ?? 0} seen of ${d.metadata?.generation ?? 0})`,
          );
        }
      }
      return pending.length === 0;
    },
    { timeoutMs, intervalMs: 500, describe: what },
  ).catch(async (err: Error) => {
    const why = (await Promise.all([...new Set(workloads.map((w) => w.namespace))].map((ns) => notReady(kc, ns).catch(() => [])))).flat();
    throw new InfraError(`${err.message}: ${pending.join('; ')}${why.length ? `; pods not ready: ${why.join('; ')}` : ''}`);
  });
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
