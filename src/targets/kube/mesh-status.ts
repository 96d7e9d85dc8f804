import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import type { K8sObject } from '../../kube/objects.js';
import { InfraError } from '../../errors.js';
import { apiCall } from '../../kube/apply.js';
import { eventually } from '../../util/eventually.js';

/**
 * "In effect" for meshes other than Istio, from what their controllers write on the objects
 * meshcheck applied (Istio has its own, stronger signal: istiod's store and the proxies' acks).
 *
 * - Consul: consul-k8s's config-entry controller writes the Synced condition once the entry is in
 *   Consul, and lastSyncedTime each time it writes a changed entry there; a sync that failed is
 *   Synced False (or Unknown) with the reason, and the controller retries it. A deleted entry keeps
 *   its finalizer until the controller has removed it from Consul, so "gone from the API" means gone
 *   from Consul.
 * - Linkerd: the policy controller writes an HTTPRoute's status per parent (controllerName
 *   linkerd.io/policy-controller) with the Accepted condition. Linkerd writes no status on Server,
 *   AuthorizationPolicy, MeshTLSAuthentication or a namespace's default policy: the first three are
 *   read back from its policy controller instead (linkerd-policy.ts), the last is read when a pod
 *   starts.
 * - OSM: no status on SMI objects, MeshConfig or Retry: the sidecars' accepted versions are read
 *   instead (envoy-pushes.ts).
 * - The Kubernetes objects a render carries beside the mesh's (a fault backend): a Deployment is in
 *   effect once rolled out; a ConfigMap, Service or ServiceAccount once the API server has it.
 */

/** An object as the API server returns it, status included. */
export interface Live {
  metadata?: { generation?: number };
  spec?: { replicas?: number };
  status?: Record<string, unknown>;
}

export type Reading = { inEffect: true; how: string } | { inEffect: false; why: string };

/** What meshcheck knows of its own apply: when it was made and whether it changed the object. */
export interface Since {
  appliedAt: Date;
  /** The object was created, or its generation moved (its spec changed). */
  changed: boolean;
}

type Signal = (live: Live, since: Since) => Reading;

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

const conditions = (x: unknown): Condition[] => (Array.isArray(x) ? (x as Condition[]) : []);
const said = (c: Condition) => [c.reason, c.message].filter(Boolean).join(': ') || 'no reason given';

const KUBERNETES_KINDS = new Set(['v1/ConfigMap', 'v1/Service', 'v1/ServiceAccount', 'v1/Secret']);

const accepted: Signal = () => ({ inEffect: true, how: 'held by the API server' });

const rolledOut: Signal = (live) => {
  const st = live.status ?? {};
  const want = live.spec?.replicas ?? 1;
  const n = (k: string) => Number(st[k] ?? 0);
  if (n('observedGeneration') < (live.metadata?.generation ?? 0)) return { inEffect: false, why: 'the Deployment controller has not seen this generation yet' };
  if (n('updatedReplicas') !== want || n('readyReplicas') !== want || n('replicas') !== want) {
    return { inEffect: false, why: `${n('readyReplicas')} of ${want} replicas ready and updated` };
  }
  return { inEffect: true, how: `rolled out (${want} of ${want} ready)` };
};

/** consul-k8s: Synced True, written after this apply when the apply changed the entry. */
const consulSynced: Signal = (live, since) => {
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

const LINKERD_POLICY_CONTROLLER = 'linkerd.io/policy-controller';

/** Linkerd: every parent the policy controller wrote a status for has Accepted True, of this generation where it says. */
const linkerdAccepted: Signal = (live) => {
  const parents = (Array.isArray(live.status?.parents) ? live.status.parents : []) as { controllerName?: string; conditions?: unknown }[];
  const mine = parents.filter((p) => p.controllerName === LINKERD_POLICY_CONTROLLER);
  if (!mine.length) return { inEffect: false, why: `no parent status from ${LINKERD_POLICY_CONTROLLER} yet` };
  const generation = live.metadata?.generation ?? 0;
  for (const p of mine) {
    const a = conditions(p.conditions).find((c) => c.type === 'Accepted');
    if (!a) return { inEffect: false, why: 'no Accepted condition yet' };
    if (a.observedGeneration !== undefined && a.observedGeneration < generation) return { inEffect: false, why: `Accepted is of generation ${a.observedGeneration}, the route is at ${generation}` };
    if (a.status !== 'True') return { inEffect: false, why: `Accepted ${a.status}: ${said(a)}` };
  }
  return { inEffect: true, how: `Accepted by ${LINKERD_POLICY_CONTROLLER} (${mine.length} parent${mine.length === 1 ? '' : 's'})` };
};

/** How to tell that `o` is in effect on `mesh`; undefined when that mesh writes nothing meshcheck could wait on. */
export function statusSignal(mesh: string, o: Pick<K8sObject, 'apiVersion' | 'kind'>): Signal | undefined {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  if (KUBERNETES_KINDS.has(`${o.apiVersion}/${o.kind}`)) return accepted;
  if (o.apiVersion === 'apps/v1' && o.kind === 'Deployment') return rolledOut;
  if (mesh === 'consul' && group === 'consul.hashicorp.com') return consulSynced;
  if (mesh === 'linkerd' && o.kind === 'HTTPRoute' && (group === 'policy.linkerd.io' || group === 'gateway.networking.k8s.io')) return linkerdAccepted;
  return undefined;
}

/** The kinds among `objects` that have no signal on `mesh`, as "Kind group" (sorted, each once). */
export function withoutSignal(mesh: string, objects: readonly K8sObject[]): string[] {
  return [...new Set(objects.filter((o) => !statusSignal(mesh, o)).map((o) => `${o.kind} (${o.apiVersion})`))].sort();
}

/** An object's key in what generations() returns: kind, namespace and name. */
export const keyOf = (o: K8sObject) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

async function readLive(client: KubernetesObjectApi, o: K8sObject): Promise<(KubernetesObject & Live) | null> {
  try {
    return await apiCall({ verb: 'get', kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace }, () => client.read({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace } }));
  } catch (err) {
    if ((err as { code?: number }).code === 404) return null;
    throw err;
  }
}

/** What an object was before a change: null when it was not there, else its generation (kinds without a spec have none). */
export type Before = Map<string, { generation?: number } | null>;

/** Each object as it is now, read before an apply to tell what the apply created and what it changed. */
export async function generations(client: KubernetesObjectApi, objects: readonly K8sObject[]): Promise<Before> {
  const out: Before = new Map();
  for (const o of objects) {
    const live = await readLive(client, o);
    out.set(keyOf(o), live ? { generation: live.metadata?.generation } : null);
  }
  return out;
}

/**
 * Waits until the mesh's controllers have every object of `present` (statusSignal) and every object
 * of `gone` is gone from the API; returns what each object's status said. A wait that runs out names
 * each object still pending and why (a failed sync's own reason).
 */
export async function untilInEffect(client: KubernetesObjectApi, mesh: string, present: readonly K8sObject[], gone: readonly K8sObject[], before: Before, appliedAt: Date, timeoutMs: number): Promise<{ object: string; how: string; status?: unknown }[]> {
  let pending: string[] = [];
  return eventually(async () => {
    const seen: { object: string; how: string; status?: unknown }[] = [];
    pending = [];
    for (const o of present) {
      const live = await readLive(client, o);
      if (!live) {
        pending.push(`${keyOf(o)}: not there`);
        continue;
      }
      const was = before.get(keyOf(o));
      const r = statusSignal(mesh, o)!(live, { appliedAt, changed: !was || was.generation !== live.metadata?.generation });
      if (r.inEffect) seen.push({ object: keyOf(o), how: r.how, ...(live.status ? { status: live.status } : {}) });
      else pending.push(`${keyOf(o)}: ${r.why}`);
    }
    for (const o of gone) if (await readLive(client, o)) pending.push(`${keyOf(o)}: still there (deleted; the mesh's controller holds its finalizer until the mesh has let it go)`);
    return pending.length ? undefined : seen;
  }, { timeoutMs, intervalMs: 500, describe: `${mesh} to have the change in effect` }).catch((err: Error) => {
    throw new InfraError(`${err.message}: ${pending.join('; ')}`);
  });
}
