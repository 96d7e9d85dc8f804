import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { InfraError } from '../../errors.js';

/**
 * Nodes where no container runs: kwok's simulated nodes, which kwok marks with an annotation. They
 * are found in scale-test clusters, and they make up meshcheck's own test cluster (test/helpers/
 * cluster.ts). A workload scheduled there has no data plane: every step that needs one (a load, a
 * probe, an instance told to fail, the sidecars' usage) ends BROKEN saying so, after the scenario's
 * policy was applied, waited on and undone, rather than waiting for answers that cannot come.
 */
const SIMULATED_NODE_ANNOTATIONS = ['kwok.x-k8s.io/node'];

/** The nodes the pods of a namespace were scheduled to where no container runs. */
export async function simulatedNodes(kc: KubeConfig, namespace: string): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const pods = await core.listNamespacedPod({ namespace });
  const nodes = [...new Set(pods.items.map((p) => p.spec?.nodeName).filter((n): n is string => Boolean(n)))];
  const out: string[] = [];
  for (const name of nodes) {
    const n = await core.readNode({ name });
    if (SIMULATED_NODE_ANNOTATIONS.some((a) => n.metadata?.annotations?.[a])) out.push(name);
  }
  return out.sort();
}

/** Why no request can pass on those nodes, and what became of the scenario's policy (`inEffectBy`: how it was found in effect). */
export function noDataPlane(namespace: string, nodes: readonly string[], inEffectBy?: string): InfraError {
  const applied = inEffectBy ? `; the scenario's policy was applied, ${inEffectBy}, and it is undone` : '';
  return new InfraError(`no data plane on simulated nodes: the workload of ${namespace} is scheduled on ${nodes.join(', ')}, which kwok simulates (no container runs there), so no request can pass${applied}`);
}
