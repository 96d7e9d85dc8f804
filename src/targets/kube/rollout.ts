import { AppsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { notReady } from '../../kube/pods.js';
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
