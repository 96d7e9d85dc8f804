import type { K8sObject } from '../../kube/objects.js';
import { conditions, groupOf, said, type Signal } from '../../kube/status.js';
import { StatusPolicyWatch } from '../status-watch.js';
import type { ClusterAccess, PolicyWatch } from '../types.js';

/*
 * "In effect" on Consul: consul-k8s's config-entry controller writes the Synced condition once the
 * entry is in Consul, and lastSyncedTime each time it writes a changed entry there; a sync that
 * failed is Synced False (or Unknown) with the reason, and the controller retries it. A deleted
 * entry keeps its finalizer until the controller has removed it from Consul, so "gone from the API"
 * means gone from Consul.
 */

/** consul-k8s: Synced True, written after this apply when the apply changed the entry. */
export const consulSynced: Signal = (live, since) => {
  const synced = conditions(live.status?.conditions).find((c) => c.type === 'Synced');
  if (!synced) return { inEffect: false, why: 'no Synced condition yet (is consul-k8s\'s controller running?)' };
  if (synced.status !== 'True') return { inEffect: false, why: `Synced ${synced.status}: ${said(synced)}` };
  const at = Date.parse(String(live.status?.lastSyncedTime ?? ''));
  // lastSyncedTime has whole seconds.
  if (since.changed && !(at >= Math.floor(since.appliedAt.getTime() / 1000) * 1000)) {
    return { inEffect: false, why: `last synced ${live.status?.lastSyncedTime ?? 'never'}, before this change` };
  }
  return { inEffect: true, how: `Synced True (lastSyncedTime ${live.status?.lastSyncedTime})` };
};

/** The status consul-k8s writes: Synced, on every config entry. */
export function consulSignal(o: Pick<K8sObject, 'apiVersion' | 'kind'>): Signal | undefined {
  return groupOf(o.apiVersion) === 'consul.hashicorp.com' ? consulSynced : undefined;
}

/** Consul's watch: the Synced condition on every config entry meshcheck applies. */
export function consulWatch(c: ClusterAccess): PolicyWatch {
  return new StatusPolicyWatch(c, { mesh: 'consul', signal: consulSignal });
}
