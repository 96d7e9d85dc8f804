import { homedir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, VersionApi, type KubernetesObject } from '@kubernetes/client-node';
import { InfraError, UsageError } from '../../errors.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { MeshAdapter } from '../../adapters/types.js';
import { appContext } from '../../adapters/registry.js';
import { PATCH_ANNOTATION } from '../../adapters/common.js';
import { eventually } from '../../util/eventually.js';

export const FIELD_MANAGER = 'meshcheck';
/**
 * Field manager for a few fields of an object that exists already (a Service's annotations, a mesh's
 * global config). It must differ from FIELD_MANAGER: an apply drops every field its manager owned and
 * left out, so patching a Service meshcheck created with the same manager would drop its ports.
 */
export const PATCH_FIELD_MANAGER = 'meshcheck-patch';

export interface KubeSettings {
  context: string;
  kubeconfig?: string;
}

/** The kubeconfig file meshcheck reads: --kubeconfig, else $KUBECONFIG (first entry), else ~/.kube/config. */
export function kubeconfigPath(explicit?: string): string {
  return explicit ?? process.env.KUBECONFIG?.split(':')[0] ?? join(homedir(), '.kube', 'config');
}

/** A client for the named context; the context must be named explicitly and exist. */
export function kubeClient(s: KubeSettings): KubeConfig {
  const kc = new KubeConfig();
  const file = kubeconfigPath(s.kubeconfig);
  try {
    kc.loadFromFile(file);
  } catch (err) {
    throw new UsageError(`--kubeconfig ${file}: ${(err as Error).message}`);
  }
  if (!kc.getContexts().some((c) => c.name === s.context)) {
    throw new UsageError(`--context ${s.context}: no such context in ${file} (has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
  }
  kc.setCurrentContext(s.context);
  return kc;
}

/** Server-side apply with meshcheck's field manager (the patch manager for objects marked as patches). */
export async function serverSideApply(client: KubernetesObjectApi, o: KubernetesObject, dryRun = false): Promise<KubernetesObject> {
  const manager = o.metadata?.annotations?.[PATCH_ANNOTATION] ? PATCH_FIELD_MANAGER : FIELD_MANAGER;
  return client.patch(o, undefined, dryRun ? 'All' : undefined, manager, true, PatchStrategy.ServerSideApply);
}

/** The API server's own message from a client-node error (Status.message), else the error text. */
export function apiErrorMessage(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  if (typeof e.body === 'string') {
    try {
      const status = JSON.parse(e.body) as { message?: string };
      if (status.message) return `${e.code ?? ''} ${status.message}`.trim();
    } catch { /* not JSON */ }
  }
  return e.message ?? String(err);
}

/**
 * The kube target, as far as this version goes: it connects to the named context, checks each
 * scenario's capability on the mesh before touching anything, and for a runnable scenario creates the
 * run's own namespace and the mesh-shaped workload and waits until it is available. Applying the
 * scenario's policy and sending load in the cluster are not implemented yet; such a scenario ends
 * BROKEN with that message. Everything created is recorded in the ledger first and deleted at the end.
 */
export class KubeTarget {
  private prepared = false;
  private createdNamespace = false;

  private constructor(readonly settings: KubeSettings, private readonly kc: KubeConfig, private readonly ledger: Ledger, readonly namespace: string, private readonly runId: string) {}

  static async connect(settings: KubeSettings, ledger: Ledger, runId: string, log: (m: string) => void): Promise<KubeTarget> {
    const kc = kubeClient(settings);
    try {
      const v = await kc.makeApiClient(VersionApi).getCode();
      log(`kube context ${settings.context}: Kubernetes ${v.gitVersion} at ${kc.getCurrentCluster()?.server}`);
    } catch (err) {
      throw new InfraError(`kube context ${settings.context}: API server not reachable: ${apiErrorMessage(err)}`);
    }
    const ns = `meshcheck-${runId.replace(/[^a-z0-9]/g, '').slice(-20)}`;
    return new KubeTarget(settings, kc, ledger, ns, runId);
  }

  /** Creates the namespace and workload for this mesh once per run, and waits until it is available. */
  async prepare(adapter: MeshAdapter, version: string, log: (m: string) => void): Promise<void> {
    if (this.prepared) return;
    const client = KubernetesObjectApi.makeApiClient(this.kc);
    const ctx = appContext(this.namespace, version, this.runId);
    const objects = adapter.workload(ctx);
    this.ledger.record({ op: 'kube-namespace', context: this.settings.context, kubeconfig: kubeconfigPath(this.settings.kubeconfig), name: this.namespace });
    this.createdNamespace = true;
    log(`kube: creating namespace ${this.namespace} and the ${adapter.name} workload (${objects.length} objects)`);
    for (const o of objects) {
      try {
        await serverSideApply(client, o as KubernetesObject);
      } catch (err) {
        throw new InfraError(`kube: applying ${o.kind} ${o.metadata.name}: ${apiErrorMessage(err)}`);
      }
    }
    const apps = this.kc.makeApiClient(AppsV1Api);
    const timeoutMs = Number(process.env.MESHCHECK_KUBE_READY_TIMEOUT_MS ?? 180_000);
    await eventually(async () => {
      const list = await apps.listNamespacedDeployment({ namespace: this.namespace });
      const waiting = list.items.filter((d) => !d.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True'));
      if (waiting.length) throw new Error(`not available: ${waiting.map((d) => d.metadata?.name).join(', ')}`);
      return true;
    }, { timeoutMs, intervalMs: 1000, describe: `the workload in namespace ${this.namespace} to become available (are there schedulable nodes, and is ${adapter.name} installed?)` });
    this.prepared = true;
  }

  /** Deletes the run's namespace (and with it everything meshcheck created in it). */
  async stop(): Promise<void> {
    if (this.createdNamespace) await deleteNamespace(this.kc, this.namespace);
  }
}

/** Deletes a namespace meshcheck created; a namespace already gone is fine. Refuses anything else. */
export async function deleteNamespace(kc: KubeConfig, name: string): Promise<boolean> {
  if (!name.startsWith('meshcheck-')) throw new InfraError(`refusing to delete namespace ${name}: meshcheck only deletes namespaces it created (meshcheck-*)`);
  const client = KubernetesObjectApi.makeApiClient(kc);
  try {
    const ns = await client.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    if (ns.metadata?.labels?.['app.kubernetes.io/managed-by'] !== 'meshcheck') throw new InfraError(`refusing to delete namespace ${name}: it is not labelled app.kubernetes.io/managed-by=meshcheck`);
    await client.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
}
