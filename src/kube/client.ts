import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { InfraError, UsageError } from '../errors.js';
import { PATCH_ANNOTATION } from './objects.js';

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

/** Deletes a namespace meshcheck created; a namespace already gone is fine. Refuses anything else. */
export async function deleteNamespace(kc: KubeConfig, name: string): Promise<boolean> {
  if (!name.startsWith('meshcheck-')) throw new InfraError(`refusing to delete namespace ${name}: meshcheck only deletes namespaces it created (meshcheck-*)`);
  const client = KubernetesObjectApi.makeApiClient(kc);
  try {
    const ns = await apiCall({ verb: 'get', kind: 'Namespace', name }, () => client.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
    if (ns.metadata?.labels?.['app.kubernetes.io/managed-by'] !== 'meshcheck') throw new InfraError(`refusing to delete namespace ${name}: it is not labelled app.kubernetes.io/managed-by=meshcheck`);
    await apiCall({ verb: 'delete', kind: 'Namespace', name }, () => client.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return false;
    throw err;
  }
}

/** How long API calls are retried through conflicts, throttling and an API server restart. */
const RETRY_FOR_MS = 30_000;

/**
 * One API call, retried with backoff where the server asks for it or is briefly away: 409 (a
 * conflict: the caller's function re-reads; not AlreadyExists, which no retry changes), 429 (throttled: Retry-After honoured), 500/503/504 and a
 * refused or reset connection (an API server restarting). A 403 is an RBAC denial: an
 * infrastructure error naming the verb, the kind and the namespace. Anything else is thrown as is.
 */
export async function apiCall<T>(
  what: { verb: string; kind?: string; name?: string; namespace?: string },
  fn: () => Promise<T>,
  sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
): Promise<T> {
  const deadline = Date.now() + RETRY_FOR_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const e = err as { code?: number | string; headers?: Record<string, string>; message?: string };
      if (e.code === 403)
        throw new InfraError(
          `RBAC: not allowed to ${what.verb} ${what.kind ?? 'objects'}${what.name ? ` ${what.name}` : ''}${what.namespace ? ` in namespace ${what.namespace}` : ' (cluster scope)'}: ${apiErrorMessage(err)}`,
          { cause: err },
        );
      const transient =
        (e.code === 409 && !alreadyExists(err)) ||
        e.code === 429 ||
        e.code === 500 ||
        e.code === 503 ||
        e.code === 504 ||
        (typeof e.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(e.code)) ||
        /ECONNREFUSED|ECONNRESET|socket hang up/.test(e.message ?? '');
      if (!transient || Date.now() >= deadline) throw err;
      const after = Number(e.headers?.['retry-after']);
      await sleep(after > 0 ? Math.min(after * 1000, 10_000) : Math.min(100 * 2 ** attempt, 2000));
    }
  }
}

/**
 * A create refused because the object is there: a 409 like a conflict, but retrying cannot change it
 * (when the API server went away after a create and before its reply, the object is the caller's own).
 */
export function alreadyExists(err: unknown): boolean {
  const e = err as { code?: number; body?: unknown };
  return e.code === 409 && /"reason"\s*:\s*"AlreadyExists"/.test(typeof e.body === 'string' ? e.body : JSON.stringify(e.body ?? ''));
}
