import { apiCall } from '../../kube/client.js';
import type { K8sObject } from '../../kube/objects.js';
import type { ClusterAccess, PendingChange, PolicyWatch } from '../types.js';
import { IstiodView, istiodReads, type Expected } from './istiod.js';

const same = (a: Pick<K8sObject, 'kind' | 'metadata'>) => (b: Pick<K8sObject, 'kind' | 'metadata'>) => a.kind === b.kind && a.metadata.name === b.metadata.name && a.metadata.namespace === b.metadata.namespace;

/**
 * "In effect" on Istio: istiod's store holds every applied object at the generation the API server
 * gave it (the removed ones gone), and every proxy of the run's namespace acked istiod's push after
 * it (istiod.ts). istiod's debug endpoints are connected again after its pods changed (its control
 * plane stopped or restarted in the scenario), so a wait after a restart asks the istiod that runs now.
 */
class IstiodWatch implements PolicyWatch {
  private view?: IstiodView;
  /** How istiod was last reached, for the run record. */
  private via?: string;

  constructor(private readonly c: ClusterAccess) {}

  private async connect(): Promise<IstiodView> {
    this.view ??= await IstiodView.connect(this.c.kc, this.c.options.istiodUrl);
    return this.view;
  }

  async change(before: readonly K8sObject[], after: readonly K8sObject[]): Promise<PendingChange> {
    const view = await this.connect();
    return {
      until: async () => {
        const seen = await (await this.connect()).until(await this.expected(after, before), this.c.namespace);
        const held = seen.store.filter((c) => after.some(same(c)));
        return {
          by: 'istiod held it',
          evidence: [
            { name: `istiod's store (debug/configz, ${view.via})`, contentType: 'application/json', body: JSON.stringify(held, null, 2) },
            { name: `proxies of ${this.c.namespace} synced (debug/syncz)`, contentType: 'application/json', body: JSON.stringify(seen.proxies, null, 2) },
          ],
        };
      },
      // Undone once istiod holds the previous config again.
      back: async () => ({
        until: async () => {
          await (await this.connect()).until(await this.expected(before, after), this.c.namespace);
          return { by: 'istiod held the config from before', evidence: [] };
        },
        back: () => this.change(before, after),
      }),
    };
  }

  /** What istiod should hold once `present` is applied and what only `gone` had is removed. */
  private async expected(present: readonly K8sObject[], gone: readonly K8sObject[]): Promise<Expected[]> {
    const out: Expected[] = [];
    for (const o of present.filter(istiodReads)) {
      const now = await apiCall({ verb: 'get', kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace }, () => this.c.client.read({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace } }));
      out.push({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace, uid: now.metadata!.uid!, generation: now.metadata!.generation ?? 1 });
    }
    for (const o of gone.filter(istiodReads)) {
      if (!present.some(same(o))) out.push({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace, absent: true });
    }
    return out;
  }

  /** istiod's pods are new after its control plane was stopped or restarted: connect again (unless --istiod-url names it). */
  forgetControlPlane(): void {
    if (this.c.options.istiodUrl) return;
    this.close();
  }

  describe(): Record<string, string> {
    const via = this.view?.via ?? this.via;
    return via ? { istiod: via } : {};
  }

  close(): void {
    this.via = this.view?.via ?? this.via;
    this.view?.close();
    this.view = undefined;
  }
}

export function istioWatch(c: ClusterAccess): PolicyWatch {
  return new IstiodWatch(c);
}
