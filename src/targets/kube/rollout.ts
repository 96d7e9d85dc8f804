import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
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

/** Why the pods of a namespace that are not ready are not: a condition's reason and message, or a container's waiting reason (five at most). */
export async function notReady(kc: KubeConfig, namespace: string): Promise<string[]> {
  const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp && !p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).slice(0, 5).map((p) => {
    const c = p.status?.conditions?.find((x) => x.status !== 'True' && (x.reason || x.message));
    const waiting = p.status?.containerStatuses?.find((x) => x.state?.waiting?.reason)?.state?.waiting;
    const why = c ? `${c.type} ${c.status}: ${[c.reason, c.message].filter(Boolean).join(': ')}` : waiting ? `waiting: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` : `phase ${p.status?.phase ?? 'unknown'}${p.spec?.nodeName ? ` on ${p.spec.nodeName}` : ', not scheduled'}`;
    return `${namespace}/${p.metadata?.name} (${why})`;
  });
}
