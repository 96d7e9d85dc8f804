import { PatchStrategy, type KubernetesObject, type KubernetesObjectApi } from '@kubernetes/client-node';
import { MANAGED_BY, RUN_ID_LABEL } from './objects.js';
import type { LedgerEntry } from '../ledger/ledger.js';
import { alreadyExists, apiCall } from './client.js';
import { InfraError } from '../errors.js';

/**
 * The copy of a run's ledger kept in the cluster: a ConfigMap in the run's namespace, one key per
 * entry, written before each change it records (after the local file). A cleanup from a machine
 * that does not have the local file finds the run's namespace by its label and puts back, from here,
 * what the run changed outside it.
 */
export const LEDGER_CONFIGMAP = 'meshcheck-ledger';

type Entry = LedgerEntry & { seq: number };

const keyOf = (seq: number) => `e${String(seq).padStart(6, '0')}`;

/** Creates the ConfigMap; returns the function that adds an entry to it. */
export async function startClusterLedger(client: KubernetesObjectApi, namespace: string, runId: string): Promise<(e: Entry) => Promise<void>> {
  const meta = { name: LEDGER_CONFIGMAP, namespace };
  await apiCall({ verb: 'create', kind: 'ConfigMap', name: LEDGER_CONFIGMAP, namespace }, async () => {
    try {
      await client.create({
        apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...meta, labels: { ...MANAGED_BY, [RUN_ID_LABEL]: runId } }, data: {},
      } as KubernetesObject);
    } catch (err) {
      if (!alreadyExists(err)) throw err;
      // The create went through and its reply was lost (an API server restart): the ConfigMap is this
      // run's own when it carries the run's label; anything else is not meshcheck's to write over.
      const there = await client.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta });
      if (there.metadata?.labels?.[RUN_ID_LABEL] !== runId) {
        throw new InfraError(`ConfigMap ${LEDGER_CONFIGMAP} in namespace ${namespace} already exists and is not run ${runId}'s ledger`);
      }
    }
  });
  return async (e) => {
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, data: { [keyOf(e.seq)]: JSON.stringify(e) } } as KubernetesObject;
    await apiCall({ verb: 'patch', kind: 'ConfigMap', name: LEDGER_CONFIGMAP, namespace }, () => client.patch(body, undefined, undefined, 'meshcheck', undefined, PatchStrategy.MergePatch));
  };
}

/** The entries of a run's in-cluster ledger, in order (empty when the ConfigMap is gone). */
export async function readClusterLedger(client: KubernetesObjectApi, namespace: string): Promise<Entry[]> {
  try {
    const cm = await client.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: LEDGER_CONFIGMAP, namespace } }) as { data?: Record<string, string> };
    return Object.keys(cm.data ?? {}).sort().map((k) => JSON.parse(cm.data![k]!) as Entry);
  } catch (err) {
    if ((err as { code?: number }).code === 404) return [];
    throw err;
  }
}
