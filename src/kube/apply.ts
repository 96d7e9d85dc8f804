import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { InfraError } from '../errors.js';
import type { Ledger, LedgerEntry } from '../ledger/ledger.js';
import type { K8sObject } from './objects.js';
import { apiCall, apiErrorMessage, serverSideApply } from './client.js';

export type Undo = () => Promise<void>;

/** Where an object lives: enough for `meshcheck cleanup` to reach it again. */
export interface ApiServerRef {
  kubeconfig: string;
  context?: string;
  /** The API server is the run's own (a local tier's): its objects go with its process group. */
  ownServer?: boolean;
}

/** An object as it was before meshcheck applied over it (server-managed fields dropped), or null if absent. */
type Prior = Record<string, unknown> | null;

function key(o: K8sObject | KubernetesObject): KubernetesObject {
  return { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata!.name, ...(o.metadata!.namespace ? { namespace: o.metadata!.namespace } : {}) } };
}

/**
 * An object as it is to be put back: what the server assigns (resourceVersion, uid, creation time,
 * generation) and the status dropped; its managedFields kept, so the restore leaves the record of who
 * owns which field as it was, not naming meshcheck.
 */
function strip(o: KubernetesObject): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(o)) as { metadata: Record<string, unknown>; status?: unknown };
  for (const f of ['resourceVersion', 'uid', 'creationTimestamp', 'generation']) delete copy.metadata[f];
  delete copy.status;
  return copy as Record<string, unknown>;
}

/**
 * Server-side apply with meshcheck's field manager, each object recorded in the ledger (with what was
 * there before) ahead of the call; the undo deletes what meshcheck created and puts back exactly
 * what it changed. Shared by the local tier on a real control plane and the kube target.
 */
export class Applier {
  readonly client: KubernetesObjectApi;
  /**
   * Called with each ledger entry after it is written locally and before the change it records (the
   * kube target keeps a copy in the cluster, for a cleanup from another machine).
   */
  mirror?: (entry: LedgerEntry & { seq: number }) => Promise<void>;

  constructor(readonly kc: KubeConfig, private readonly ledger: Ledger, private readonly where: ApiServerRef) {
    this.client = KubernetesObjectApi.makeApiClient(kc);
  }

  private async note(entry: LedgerEntry): Promise<number> {
    const seq = this.ledger.record(entry);
    await this.mirror?.({ seq, ...entry });
    return seq;
  }

  /** Applies objects in order; the undo reverts them newest first. A failure part-way undoes what was applied. */
  async apply(objects: readonly K8sObject[]): Promise<Undo> {
    const done: { o: K8sObject; prior: Prior; seq: number }[] = [];
    const undo = async () => {
      const problems: string[] = [];
      for (const d of done.reverse()) {
        try {
          await apiCall({ verb: 'restore', kind: d.o.kind, name: d.o.metadata.name, namespace: d.o.metadata.namespace }, () => restore(this.client, d.o, d.prior));
          await this.note({ op: 'done', ref: d.seq });
        } catch (err) {
          problems.push(`${d.o.kind} ${d.o.metadata.name}: ${apiErrorMessage(err)}`);
        }
      }
      done.length = 0;
      if (problems.length) throw new InfraError(`restoring objects: ${problems.join('; ')}`);
    };
    try {
      for (const o of objects) {
        const what = { kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace };
        const prior = await apiCall({ verb: 'get', ...what }, () => read(this.client, o));
        const seq = await this.note({ op: 'kube-object', ...this.where, object: key(o) as never, prior });
        done.push({ o, prior, seq });
        await apiCall({ verb: 'patch (server-side apply)', ...what }, () => serverSideApply(this.client, o as KubernetesObject));
      }
    } catch (err) {
      await undo().catch(() => undefined);
      throw err instanceof InfraError ? err : new InfraError(`applying objects: ${apiErrorMessage(err)}`, { cause: err });
    }
    return undo;
  }

  /** Deletes objects (recorded with their state first); the undo creates them again as they were. */
  async remove(objects: readonly K8sObject[]): Promise<Undo> {
    const done: { o: K8sObject; prior: Prior; seq: number }[] = [];
    const undo = async () => {
      for (const d of done.reverse()) {
        await apiCall({ verb: 'create', kind: d.o.kind, name: d.o.metadata.name, namespace: d.o.metadata.namespace }, () => restore(this.client, d.o, d.prior));
        await this.note({ op: 'done', ref: d.seq });
      }
      done.length = 0;
    };
    try {
      for (const o of objects) {
        const what = { kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace };
        const prior = await apiCall({ verb: 'get', ...what }, () => read(this.client, o));
        if (prior === null) continue;
        const seq = await this.note({ op: 'kube-object', ...this.where, object: key(o) as never, prior });
        done.push({ o, prior, seq });
        // A 404 here is the goal reached (a delete whose reply an API server restart lost).
        await apiCall({ verb: 'delete', ...what }, () => this.client.delete(key(o), undefined, undefined, 0, undefined, 'Background').catch((err: { code?: number }) => {
          if (err.code !== 404) throw err;
        }));
      }
    } catch (err) {
      await undo().catch(() => undefined);
      throw err instanceof InfraError ? err : new InfraError(`deleting objects: ${apiErrorMessage(err)}`, { cause: err });
    }
    return undo;
  }
}

/**
 * Moves the applied objects from one set to the next (a scenario's intents on top of those in effect):
 * applies `next`, deletes what `previous` had and `next` has not; the undo puts `previous` back.
 */
export async function applyLayer(applier: Applier, previous: readonly K8sObject[], next: readonly K8sObject[]): Promise<Undo> {
  const stale = previous.filter((o) => !next.some((x) => x.kind === o.kind && x.metadata.name === o.metadata.name && x.metadata.namespace === o.metadata.namespace));
  const undoNext = await applier.apply(next);
  const undoStale = await applier.remove(stale).catch(async (err: unknown) => {
    await undoNext();
    throw err;
  });
  return async () => {
    await undoStale();
    await undoNext();
  };
}

async function read(client: KubernetesObjectApi, o: K8sObject): Promise<Prior> {
  try {
    return strip(await client.read(key(o) as never));
  } catch (err) {
    if ((err as { code?: number }).code === 404) return null;
    throw err;
  }
}

/** Puts an object back as it was: deleted when it was not there, else replaced by its prior state. */
export async function restore(client: KubernetesObjectApi, o: K8sObject | KubernetesObject, prior: Prior): Promise<void> {
  if (prior === null) {
    try {
      // Pods without a kubelet only go with a zero grace period. Dependents go too (a Job's pods:
      // the API's default for a Job is to leave them behind).
      await client.delete(key(o), undefined, undefined, 0, undefined, 'Background');
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
    return;
  }
  let now: KubernetesObject | undefined;
  try {
    now = await client.read(key(o) as never);
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
  if (!now) {
    await client.create(prior as KubernetesObject);
    return;
  }
  // Named, so the first update's fields are never merged into another unnamed client's entry.
  const put = (rv?: string) => client.replace({ ...prior, metadata: { ...(prior.metadata as object), resourceVersion: rv } } as KubernetesObject, undefined, undefined, 'meshcheck');
  const back = await put(now.metadata?.resourceVersion);
  // The server records the fields that update changed under the caller's name beside the managedFields
  // it was given; a second update that changes nothing leaves exactly the prior ones.
  const want = (prior.metadata as { managedFields?: unknown }).managedFields;
  if (want && JSON.stringify(back.metadata?.managedFields) !== JSON.stringify(want)) await put(back.metadata?.resourceVersion);
}

/** `meshcheck cleanup`: restores one recorded object, if its API server is still there. */
export async function restoreRecorded(where: ApiServerRef, object: KubernetesObject, prior: Prior): Promise<boolean> {
  const kc = new KubeConfig();
  kc.loadFromFile(where.kubeconfig);
  if (where.context) kc.setCurrentContext(where.context);
  const client = KubernetesObjectApi.makeApiClient(kc);
  try {
    await restore(client, object, prior);
    return true;
  } catch (err) {
    const code = (err as { code?: string | number }).code;
    // The API server that held it is gone (a local tier's own, stopped with the run): nothing is left.
    if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(String((err as Error).message))) return false;
    throw err;
  }
}
