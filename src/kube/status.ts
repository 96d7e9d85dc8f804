import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import type { K8sObject } from './objects.js';
import { InfraError } from '../errors.js';
import { apiCall } from './client.js';
import { eventually } from '../util/eventually.js';

/**
 * "In effect" from what controllers write on the objects meshcheck applied: the status signals a
 * mesh declares for its own kinds (in its folder under src/meshes/), and those of the Kubernetes
 * objects a render carries beside the mesh's (a fault backend): a Deployment is in effect once rolled
 * out; a ConfigMap, Service, ServiceAccount or Secret once the API server has it.
 */

/** An object as the API server returns it, status included. */
export interface Live {
  metadata?: { generation?: number };
  spec?: { replicas?: number; minReadySeconds?: number };
  status?: Record<string, unknown>;
}

export type Reading = { inEffect: true; how: string } | { inEffect: false; why: string };

/** What meshcheck knows of its own apply: when it was made and whether it changed the object. */
export interface Since {
  appliedAt: Date;
  /** The object was created, or its generation moved (its spec changed). */
  changed: boolean;
}

export type Signal = (live: Live, since: Since) => Reading;

export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

export const conditions = (x: unknown): Condition[] => (Array.isArray(x) ? (x as Condition[]) : []);
export const said = (c: Condition) => [c.reason, c.message].filter(Boolean).join(': ') || 'no reason given';

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
  // Available = Ready for the Deployment's minReadySeconds: a container crash-looping between
  // moments of Ready does not pass (with no minReadySeconds, available is ready).
  if (n('availableReplicas') !== want) return { inEffect: false, why: `${n('availableReplicas')} of ${want} replicas available (ready for ${live.spec?.minReadySeconds ?? 0} s)` };
  return { inEffect: true, how: `rolled out (${want} of ${want} available)` };
};

/** How to tell that a Kubernetes object of a render is in effect; undefined for the mesh's own kinds. */
export function kubernetesSignal(o: Pick<K8sObject, 'apiVersion' | 'kind'>): Signal | undefined {
  if (KUBERNETES_KINDS.has(`${o.apiVersion}/${o.kind}`)) return accepted;
  if (o.apiVersion === 'apps/v1' && o.kind === 'Deployment') return rolledOut;
  return undefined;
}

/** How to tell an object is in effect: the Kubernetes kinds' signals, else the mesh's own (`meshSignal`). */
export type SignalOf = (o: Pick<K8sObject, 'apiVersion' | 'kind'>) => Signal | undefined;

/** The group of an apiVersion ("" for the core group). */
export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

/** The kinds among `objects` that have no signal, as "Kind (apiVersion)" (sorted, each once). */
export function withoutSignal(signalOf: SignalOf, objects: readonly K8sObject[]): string[] {
  return [...new Set(objects.filter((o) => !signalOf(o)).map((o) => `${o.kind} (${o.apiVersion})`))].sort();
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
export async function untilInEffect(
  client: KubernetesObjectApi,
  mesh: string,
  signalOf: SignalOf,
  present: readonly K8sObject[],
  gone: readonly K8sObject[],
  before: Before,
  appliedAt: Date,
  timeoutMs: number,
): Promise<{ object: string; how: string; status?: unknown }[]> {
  let pending: string[] = [];
  return eventually(
    async () => {
      const seen: { object: string; how: string; status?: unknown }[] = [];
      pending = [];
      for (const o of present) {
        const live = await readLive(client, o);
        if (!live) {
          pending.push(`${keyOf(o)}: not there`);
          continue;
        }
        const was = before.get(keyOf(o));
        const r = signalOf(o)!(live, { appliedAt, changed: !was || was.generation !== live.metadata?.generation });
        if (r.inEffect) seen.push({ object: keyOf(o), how: r.how, ...(live.status ? { status: live.status } : {}) });
        else pending.push(`${keyOf(o)}: ${r.why}`);
      }
      for (const o of gone)
        if (await readLive(client, o))
          pending.push(`${keyOf(o)}: still there (deleted; the mesh's controller holds its finalizer until the mesh has let it go)`);
      return pending.length ? undefined : seen;
    },
    { timeoutMs, intervalMs: 500, describe: `${mesh} to have the change in effect` },
  ).catch((err: Error) => {
    throw new InfraError(`${err.message}: ${pending.join('; ')}`);
  });
}
