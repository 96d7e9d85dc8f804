import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { request } from 'undici';
import { InfraError } from '../../errors.js';
import type { K8sObject } from '../../kube/objects.js';
import { eventually, sleep } from '../../util/eventually.js';
import { forwardPort, type Forwarded } from '../../kube/port-forward.js';
import { ready } from '../../kube/pods.js';

/** istiod's HTTP debug port (monitoring): /debug/configz, /debug/syncz. */
export const ISTIOD_DEBUG_PORT = 15014;

/** One object of istiod's config store, as /debug/configz lists it. */
export interface StoredConfig {
  kind: string;
  apiVersion?: string;
  metadata: { name: string; namespace?: string; uid?: string; generation?: number; resourceVersion?: string };
}

/** One connected proxy, as /debug/syncz lists it: the nonce of each type istiod sent and the proxy acked. */
export interface ProxySync {
  proxy: string;
  [field: string]: unknown;
}

/** What an object is expected to be in istiod's store: at least this generation of this uid, or absent. */
export type Expected = { kind: string; name: string; namespace?: string } & ({ uid: string; generation: number } | { absent: true });

/** The config kinds istiod reads from the API server: Istio's own groups and the Gateway API. */
export function istiodReads(o: Pick<K8sObject, 'apiVersion'>): boolean {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '';
  return group.endsWith('.istio.io') || group === 'gateway.networking.k8s.io';
}

/** Whether the store holds every expected object at its generation (and none of the absent ones); what is missing. */
export function storeMissing(store: readonly StoredConfig[], expected: readonly Expected[]): string[] {
  const find = (e: Expected) => store.find((c) => c.kind === e.kind && c.metadata.name === e.name && (c.metadata.namespace ?? '') === (e.namespace ?? ''));
  return expected.flatMap((e) => {
    const got = find(e);
    const what = `${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}`;
    if ('absent' in e) return got ? [`${what} still held`] : [];
    if (!got) return [`${what} not yet held`];
    if (got.metadata.uid !== e.uid || (got.metadata.generation ?? 0) < e.generation) return [`${what} held at generation ${got.metadata.generation ?? '?'}, applied ${e.generation}`];
    return [];
  });
}

/** The proxies of a namespace (syncz ids are pod.namespace) with a push sent and not acked yet. */
export function proxiesBehind(syncz: readonly ProxySync[], namespace: string): string[] {
  return syncz.filter((p) => p.proxy.endsWith(`.${namespace}`)).filter((p) => ['cluster', 'listener', 'route', 'endpoint'].some((t) => (p[`${t}_sent`] ?? '') !== (p[`${t}_acked`] ?? ''))).map((p) => p.proxy);
}

/**
 * istiod as the kube target sees it: its debug endpoints, either at a URL the user gives
 * (--istiod-url, e.g. after `kubectl port-forward -n istio-system deploy/istiod 15014`) or through
 * meshcheck's own port-forward to a running istiod pod, so requests arrive on istiod's localhost
 * (istiod lets those through without a token, as it does for istioctl).
 */
export class IstiodView {
  private constructor(readonly url: string, readonly via: string, private readonly forwarded?: Forwarded) {}

  static async connect(kc: KubeConfig, explicitUrl?: string): Promise<IstiodView> {
    if (explicitUrl) return new IstiodView(explicitUrl.replace(/\/$/, ''), explicitUrl);
    const core = kc.makeApiClient(CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: 'istio-system', labelSelector: 'app=istiod' }).catch((err: Error) => {
      throw new InfraError(`looking for istiod (pods labelled app=istiod in istio-system): ${err.message}`);
    });
    const pod = pods.items.find(ready);
    if (!pod?.metadata?.name) throw new InfraError('no ready istiod pod (app=istiod in istio-system): is Istio installed on this cluster? If istiod runs elsewhere, give its debug port with --istiod-url');
    const name = pod.metadata.name;
    const forwarded = await forwardPort(kc, 'istio-system', name, ISTIOD_DEBUG_PORT);
    return new IstiodView(forwarded.url, `port-forward to pod istio-system/${name}:${ISTIOD_DEBUG_PORT}`, forwarded);
  }

  private async get<T>(path: string): Promise<T> {
    let r;
    try {
      r = await request(`${this.url}${path}`, { signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new InfraError(`istiod ${path} (${this.via}): ${(err as Error).message}`);
    }
    const text = await r.body.text();
    if (r.statusCode !== 200) throw new InfraError(`istiod ${path} (${this.via}): ${r.statusCode} ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  }

  configz(): Promise<StoredConfig[]> {
    return this.get<StoredConfig[] | null>('/debug/configz').then((x) => x ?? []);
  }

  syncz(): Promise<ProxySync[]> {
    return this.get<ProxySync[] | null>('/debug/syncz').then((x) => x ?? []);
  }

  /**
   * In effect on Istio: istiod's store holds every expected object at the generation the API server
   * gave it (the absent ones gone), then, after istiod's push debounce, no proxy of the namespace has a
   * push it has not acked, twice in a row. Returns what the last look saw, for the evidence.
   */
  async until(expected: readonly Expected[], namespace: string, timeoutMs = 60_000): Promise<{ store: StoredConfig[]; proxies: ProxySync[] }> {
    const end = Date.now() + timeoutMs;
    const left = () => Math.max(1000, end - Date.now());
    let missing: string[] = [];
    const store = await eventually(async () => {
      const s = await this.configz();
      missing = storeMissing(s, expected);
      return missing.length === 0 ? s : undefined;
    }, { timeoutMs: left(), intervalMs: 100, describe: `istiod to hold the applied config (${this.via})` }).catch((err: Error) => {
      throw new InfraError(`${err.message}: ${missing.join('; ')}`);
    });
    // istiod debounces pushes (100 ms quiet, at most 10 s by default): let it start the push first.
    await sleep(1000);
    let behind: string[] = [];
    let synced = 0;
    const proxies = await eventually(async () => {
      const p = await this.syncz();
      behind = proxiesBehind(p, namespace);
      synced = behind.length === 0 ? synced + 1 : 0;
      return synced >= 2 ? p : undefined;
    }, { timeoutMs: left(), intervalMs: 250, describe: `every proxy of namespace ${namespace} to ack istiod's push` }).catch((err: Error) => {
      throw new InfraError(`${err.message}: behind: ${behind.join(', ')}`);
    });
    return { store, proxies: proxies.filter((p) => p.proxy.endsWith(`.${namespace}`)) };
  }

  close(): void {
    this.forwarded?.close();
  }
}
