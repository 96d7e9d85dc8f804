import type { K8sObject } from '../../kube/objects.js';
import { conditions, groupOf, said, type Signal } from '../../kube/status.js';
import { StatusPolicyWatch, type ReadBack, type ReadBackChange } from '../status-watch.js';
import type { ClusterAccess, PolicyWatch } from '../types.js';
import { DEFAULT_INBOUND_POLICY } from './facts.js';
import { isLinkerdServed, LinkerdPolicyView, namespaceDefault } from './policy-controller.js';

/*
 * "In effect" on Linkerd: the policy controller writes an HTTPRoute's status per parent
 * (controllerName linkerd.io/policy-controller) with the Accepted condition. Linkerd writes no status
 * on Server, AuthorizationPolicy, MeshTLSAuthentication or a namespace's default policy: the first
 * three (and, before 2.16, ServiceProfiles) are read back from its controllers (policy-controller.ts);
 * the default policy is read by a proxy when its pod starts, so the app's pods restart for it and the
 * policy controller must then serve them the new default.
 */

const LINKERD_POLICY_CONTROLLER = 'linkerd.io/policy-controller';

/** Linkerd: every parent the policy controller wrote a status for has Accepted True, of this generation where it says. */
export const linkerdAccepted: Signal = (live) => {
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


/** The status Linkerd writes: on its HTTPRoutes (its own and the Gateway API's), from the policy controller. */
export function linkerdSignal(o: Pick<K8sObject, 'apiVersion' | 'kind'>): Signal | undefined {
  return o.kind === 'HTTPRoute' && ['policy.linkerd.io', 'gateway.networking.k8s.io'].includes(groupOf(o.apiVersion)) ? linkerdAccepted : undefined;
}

/** The namespace annotation a proxy reads when its pod starts. */
const readAtPodStart = (o: K8sObject): boolean => o.kind === 'Namespace' && o.metadata.annotations?.[DEFAULT_INBOUND_POLICY] !== undefined;

/** Linkerd's control-plane namespace, as clusters/profiles/linkerd.yaml installs it. */
const CONTROL_PLANE_NAMESPACE = 'linkerd';

/** What Linkerd's controllers serve, for the objects it writes no status on and for the namespace default. */
class ServedByController implements ReadBack {
  private view?: LinkerdPolicyView;
  /** How the policy controller was last reached, for the run record. */
  private via?: string;

  constructor(private readonly c: ClusterAccess) {}

  covers(o: K8sObject): boolean {
    return isLinkerdServed(o);
  }

  private async connect(): Promise<LinkerdPolicyView> {
    this.view ??= await LinkerdPolicyView.connect(this.c.kc, CONTROL_PLANE_NAMESPACE);
    this.via = this.view.via;
    return this.view;
  }

  async prepare(before: readonly K8sObject[], after: readonly K8sObject[]): Promise<ReadBackChange | undefined> {
    const all = [...before, ...after];
    const defaults = all.some((o) => namespaceDefault([o]) !== undefined);
    if (!defaults && !all.some(isLinkerdServed)) return undefined;
    // The default the controller serves the app's pods before the change: what the way back returns to.
    const previous = defaults ? await (await this.connect()).servedDefault(this.c.kc, this.c.namespace) : undefined;
    const change = (to: readonly K8sObject[], from: readonly K8sObject[]): ReadBackChange => ({
      until: async ({ present, gone }) =>
        (await this.connect()).until(
          this.c.kc,
          this.c.namespace,
          present.filter(isLinkerdServed),
          gone.filter(isLinkerdServed),
          this.c.timeoutMs,
          defaults ? (namespaceDefault(to) ?? previous) : undefined,
        ),
      back: async () => change(from, to),
      by: (status) => `${status} and its policy controller serves it`,
      evidenceName: (status) => `${status} and what its policy controller serves`,
    });
    return change(after, before);
  }

  forgetControlPlane(): void {
    this.close();
  }

  describe(): Record<string, string> {
    return this.via ? { linkerdPolicyController: this.via } : {};
  }

  close(): void {
    this.view?.close();
    this.view = undefined;
  }
}

/** Linkerd's watch: route status, pods restarted for the namespace default, and what its controllers serve. */
export function linkerdWatch(c: ClusterAccess): PolicyWatch {
  return new StatusPolicyWatch(c, {
    mesh: 'linkerd',
    signal: linkerdSignal,
    readAtPodStart,
    readBack: new ServedByController(c),
  });
}
