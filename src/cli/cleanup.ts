import { existsSync, rmSync } from 'node:fs';
import { KubernetesObjectApi, type KubeConfig } from '@kubernetes/client-node';
import { restoreRecorded, restore } from '../kube/apply.js';
import { Ledger, type LedgerEntry } from '../ledger/ledger.js';
import { killGroup, processAlive as alive } from '../process/process-group.js';
import { deleteNamespace, kubeClient } from '../kube/client.js';
import { readClusterLedger } from '../kube/cluster-ledger.js';
import { MANAGED_BY, RUN_ID_LABEL } from '../kube/objects.js';
import { undoHostChange } from '../cluster/host.js';

type Entry = LedgerEntry & { seq: number };

/** The entries still to undo, newest first; objects inside a namespace the run created go with it. */
function toUndo(all: readonly Entry[], namespace?: string): Entry[] {
  const undone = new Set(all.flatMap((e) => (e.op === 'done' ? [e.ref] : [])));
  const ownNamespaces = new Set([...all.flatMap((e) => (e.op === 'kube-namespace' ? [e.name] : [])), ...(namespace ? [namespace] : [])]);
  return all.filter((e) => !undone.has(e.seq))
    .filter((e) => !(e.op === 'kube-object' && e.object.metadata?.namespace && ownNamespaces.has(e.object.metadata.namespace)))
    .reverse();
}

const objectName = (e: Extract<Entry, { op: 'kube-object' }>) => `${e.object.kind} ${e.object.metadata?.namespace ? `${e.object.metadata.namespace}/` : ''}${e.object.metadata?.name}`;

/** Undoes what a run's ledger records, newest first; returns what was done. */
export async function undoLedger(file: string): Promise<string[]> {
  const done: string[] = [];
  for (const e of toUndo(Ledger.read(file))) {
    if (e.op === 'process-group') {
      if (await killGroup(e.pgid)) done.push(`stopped process group ${e.pgid} (${e.what})`);
    } else if (e.op === 'directory') {
      rmSync(e.path, { recursive: true, force: true });
      done.push(`removed ${e.path} (${e.what})`);
    } else if (e.op === 'kube-object') {
      // An object in the run's own API server (a local tier's) goes with that server's process group.
      if (e.ownServer || !existsSync(e.kubeconfig)) continue;
      if (await restoreRecorded({ kubeconfig: e.kubeconfig, context: e.context }, e.object as never, e.prior)) done.push(`${e.prior ? 'restored' : 'deleted'} ${objectName(e)}`);
    } else if (e.op === 'host') {
      done.push(...(await undoHostChange(e.change)));
    } else if (e.op === 'kube-namespace') {
      if (await deleteNamespace(kubeClient({ context: e.context, kubeconfig: e.kubeconfig }), e.name)) done.push(`deleted namespace ${e.name} (context ${e.context})`);
    }
  }
  rmSync(file, { force: true });
  return done;
}

/**
 * Ledgers of runs whose owner is gone (crashed or killed). The owner is the last `run` entry's pid: a
 * ledger can be handed on (the real node's, from `cluster up` to the process group that keeps running).
 */
export function orphanLedgers(): { runId: string; file: string }[] {
  return Ledger.list().filter(({ file }) => {
    const run = Ledger.read(file).filter((e) => e.op === 'run').pop();
    return !run || run.op !== 'run' || !alive(run.pid);
  });
}

/**
 * `meshcheck cleanup --context CTX`: what runs left in a cluster, found by label (namespaces with
 * app.kubernetes.io/managed-by=meshcheck) rather than by a local ledger, so it works from another
 * machine: the objects each run changed outside its namespace are put back from the copy of its
 * ledger in that namespace, then the namespace goes. Runs still going on this machine are left alone;
 * a run going on another machine is not known here: name one run with runId when others may be running.
 */
export async function cleanupCluster(kc: KubeConfig, runId?: string): Promise<string[]> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  const orphans = new Set(orphanLedgers().map((o) => o.file));
  const live = new Set(Ledger.list().filter((l) => !orphans.has(l.file)).map((l) => l.runId));
  const selector = `app.kubernetes.io/managed-by=${MANAGED_BY['app.kubernetes.io/managed-by']}${runId ? `,${RUN_ID_LABEL}=${runId}` : ''}`;
  const namespaces = (await client.list('v1', 'Namespace', undefined, undefined, undefined, undefined, undefined, selector)).items;
  const done: string[] = [];
  for (const ns of namespaces) {
    const name = ns.metadata!.name!;
    const run = ns.metadata?.labels?.[RUN_ID_LABEL];
    if (run && live.has(run)) {
      done.push(`left namespace ${name}: its run ${run} is still going on this machine`);
      continue;
    }
    // Putting back twice (a local ledger's undo may have got here first) writes the same prior state.
    for (const e of toUndo(await readClusterLedger(client, name), name)) {
      if (e.op !== 'kube-object') continue;
      await restore(client, e.object as never, e.prior);
      done.push(`${e.prior ? 'restored' : 'deleted'} ${objectName(e)} (from the ledger in ${name})`);
    }
    if (await deleteNamespace(kc, name)) done.push(`deleted namespace ${name}${run ? ` (run ${run})` : ''}`);
  }
  return done;
}
