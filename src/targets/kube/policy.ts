import type { KubeConfig } from '@kubernetes/client-node';
import type { K8sObject } from '../../kube/objects.js';
import type { Mesh } from '../../meshes/types.js';
import { InfraError } from '../../errors.js';
import type { Intent } from '../../intents/types.js';
import { apiCall, applyLayer, type Applier } from '../../kube/apply.js';
import { toYaml } from '../../plan/plan.js';
import type { Applied, Evidence, Undo } from '../target.js';
import { IstiodView, istiodReads, type Expected } from './istiod.js';
import { osmPushes, resourceVersions, SidecarVersions, type Versions } from './envoy-pushes.js';
import { isLinkerdServed, LinkerdPolicyView, namespaceDefault } from './linkerd-policy.js';
import { generations, keyOf, untilInEffect, withoutSignal, type Before } from './mesh-status.js';

/** Intents in effect and the objects applied for them. */
interface Layer {
  intents: readonly Intent[];
  objects: K8sObject[];
}

export interface PolicyOptions {
  namespace: string;
  /** --mesh as given (for messages). */
  mesh: string;
  istiodUrl?: string;
  render(intents: readonly Intent[]): K8sObject[];
  /** Refuses objects outside what the run may change. */
  guard(objects: readonly K8sObject[]): void;
  /** Restarts the app's pods, for policy the mesh reads when a pod starts; says how it went. */
  restartApp(why: string): Promise<{ object: string; how: string }>;
}

/**
 * A scenario's mesh policy on the cluster, a step at a time: the adapter's objects server-side
 * applied on top of those in effect (with the ledger, by the Applier), then waited on until the
 * mesh has them in effect; the undo puts the previous layer back and waits the same way. Istio:
 * istiod's store and every proxy's ack (istiod.ts); the other meshes: what their controllers write
 * on each object (mesh-status.ts).
 */
export class ClusterPolicy {
  /**
   * What is in effect: the intents applied so far (one scenario's, a step at a time) and the objects
   * applied for them. Before the first apply nothing is, even where the adapter renders objects for
   * no intent (Istio's routes that turn default retries off).
   */
  private layer: Layer = { intents: [], objects: [] };
  private istiod?: IstiodView;
  private linkerd?: LinkerdPolicyView;
  /** How istiod was last reached, for the run record. */
  private via?: string;
  /** How Linkerd's policy controller was last reached, for the run record. */
  private linkerdViaLast?: string;

  constructor(private readonly kc: KubeConfig, private readonly applier: Applier, private readonly adapter: Mesh, private readonly o: PolicyOptions) {}

  async apply(intents: readonly Intent[]): Promise<Applied & { by: string }> {
    const prev = this.layer;
    const before = prev.objects;
    const next: Layer = { intents: [...prev.intents, ...intents], objects: this.o.render([...prev.intents, ...intents]) };
    const objects = next.objects;
    // The guardrail first, for every mesh: what would be changed outside the run's namespace.
    this.o.guard(objects);
    if (this.adapter.name !== 'istio') return this.applyOnStatus(prev, next);
    const view = await this.view();
    const start = performance.now();
    const undoLayer = await applyLayer(this.applier, before, objects);
    this.layer = next;
    const undo: Undo = async () => {
      this.layer = prev;
      await undoLayer();
      // Undone once istiod holds the previous config again.
      await (await this.view()).until(await this.expected(before, objects), this.o.namespace);
    };
    const { seen, convergenceMs } = await this.converged(async () => (await this.view()).until(await this.expected(objects, before), this.o.namespace), undo, start);
    const held = seen.store.filter((c) => objects.some((o) => o.kind === c.kind && o.metadata.name === c.metadata.name && o.metadata.namespace === c.metadata.namespace));
    const evidence: Evidence[] = [
      { name: 'applied manifests (server-side apply, field manager meshcheck)', contentType: 'application/yaml', body: toYaml(objects) },
      { name: `istiod's store (debug/configz, ${view.via})`, contentType: 'application/json', body: JSON.stringify(held, null, 2) },
      { name: `proxies of ${this.o.namespace} synced (debug/syncz)`, contentType: 'application/json', body: JSON.stringify(seen.proxies, null, 2) },
    ];
    return { undo, convergenceMs, evidence, by: 'istiod held it' };
  }

  /**
   * istiod's debug endpoints, connected again when its pods changed (its control plane stopped or
   * restarted in the scenario), so an undo after a restart waits on the istiod that runs now.
   */
  private async view(): Promise<IstiodView> {
    this.istiod ??= await IstiodView.connect(this.kc, this.o.istiodUrl);
    return this.istiod;
  }

  /** Linkerd's policy controller, connected on first use and again after its control plane was stopped or restarted. */
  private async linkerdView(): Promise<LinkerdPolicyView> {
    this.linkerd ??= await LinkerdPolicyView.connect(this.kc, this.adapter.controlPlane?.namespace ?? 'linkerd');
    this.linkerdViaLast = this.linkerd.via;
    return this.linkerd;
  }

  /** Waits until the applied change is in effect (undone if it never is) and records the time it took. */
  private async converged<T>(wait: () => Promise<T>, undo: Undo, start: number): Promise<{ seen: T; convergenceMs: number }> {
    let seen: T;
    try {
      seen = await wait();
    } catch (err) {
      await undo().catch(() => undefined);
      throw err;
    }
    return { seen, convergenceMs: performance.now() - start };
  }

  /**
   * Linkerd, Consul, OSM: applied, then waited on until the mesh's controllers wrote on each object
   * that they have it (mesh-status.ts); Linkerd's inbound policy and ServiceProfiles, on which it
   * writes nothing, until its controllers serve them (linkerd-policy.ts); OSM's objects until every
   * Envoy sidecar of the namespace accepted OSM's push (envoy-pushes.ts). What the mesh reads only
   * when a pod starts (Linkerd's namespace default policy) is in effect once the app's pods have
   * restarted, and, on Linkerd, its policy controller serves them the new default. A scenario with an
   * object its mesh writes nothing on is not applied: meshcheck does not apply what it could not
   * wait on. The undo waits the same way: objects the layer created gone, objects it changed (a
   * workload's own Consul intentions, a patched namespace) back and in effect as they were.
   */
  private async applyOnStatus(prev: Layer, next: Layer): Promise<Applied & { by: string }> {
    const mesh = this.adapter.name;
    const [before, objects] = [prev.objects, next.objects];
    const atStart = (o: K8sObject) => this.adapter.readAtPodStart?.(o) ?? false;
    const served = (o: K8sObject) => mesh === 'linkerd' && isLinkerdServed(o);
    const pushed = (o: K8sObject) => mesh === 'osm' && osmPushes(o);
    const blind = withoutSignal(mesh, objects.filter((o) => !atStart(o) && !served(o) && !pushed(o)));
    if (blind.length) {
      throw new InfraError(`the kube target has no "in effect" signal on ${mesh} for ${blind.join(', ')} (${mesh} writes no status on ${blind.length === 1 ? 'it' : 'them'}), so it does not apply policy it could not wait on; meshcheck plan --mesh ${this.o.mesh} shows what it would apply`);
    }
    const same = (a: K8sObject) => (b: K8sObject) => a.kind === b.kind && a.metadata.name === b.metadata.name && a.metadata.namespace === b.metadata.namespace;
    const timeoutMs = Number(process.env.MESHCHECK_KUBE_IN_EFFECT_TIMEOUT_MS ?? 120_000);
    const client = this.applier.client;
    const restart = [...before, ...objects].some(atStart);
    // OSM: what the sidecars accepted before the change, and the objects whose change OSM pushes.
    const osmObjects = [...before, ...objects.filter((o) => !before.some(same(o)))].filter(pushed);
    const sidecars = osmObjects.length ? new SidecarVersions(this.kc, this.o.namespace, this.adapter.sidecar?.container ?? 'envoy') : undefined;
    type Baseline = { versions: Versions; rv: string[] } | undefined;
    const baseline = async (): Promise<Baseline> => {
      if (!sidecars) return undefined;
      try {
        const versions = await sidecars.read();
        if (!versions.size) throw new InfraError(`no running pod of ${this.o.namespace} has OSM's ${this.adapter.sidecar?.container ?? 'envoy'} sidecar, whose accepted config says when OSM's objects are in effect: is OSM's injector running, and does the namespace carry openservicemesh.io/monitored-by?`);
        return { versions, rv: await resourceVersions(client, osmObjects) };
      } finally {
        sidecars.close();
      }
    };
    // Linkerd's namespace default policy: the default the controller serves the app's pods before the
    // change (what the undo returns to), then the one the layer sets, once the pods have restarted.
    const defaults = mesh === 'linkerd' && [...before, ...objects].some((o) => namespaceDefault([o]) !== undefined);
    const previousDefault = defaults ? await (await this.linkerdView()).servedDefault(this.kc, this.o.namespace) : undefined;
    const wait = async (present: K8sObject[], gone: K8sObject[], gens: Before, at: Date, base: Baseline, defaultPolicy?: string) => {
      const seen = await untilInEffect(client, mesh, present.filter((o) => !atStart(o) && !served(o) && !pushed(o)), gone, gens, at, timeoutMs);
      if (restart) seen.push(await this.o.restartApp(`${mesh} reads ${present.concat(gone).filter(atStart).map((o) => `${o.kind} ${o.metadata.name}`).join(', ')} when a pod starts`));
      // After any restart, so the pods asked about are those that run now.
      if (present.concat(gone).some(served) || defaultPolicy) seen.push(...await (await this.linkerdView()).until(this.kc, this.o.namespace, present.filter(served), gone.filter(served), timeoutMs, defaultPolicy));
      if (base && sidecars) {
        try {
          // A change the API server saw as none (an apply of what was there) makes OSM push nothing.
          const moved = (await resourceVersions(client, osmObjects)).some((v, i) => v !== base.rv[i]);
          seen.push(...(moved ? await sidecars.until(base.versions, at.getTime(), timeoutMs) : [{ object: osmObjects.map(keyOf).join(', '), how: 'unchanged by this step, so OSM pushes nothing' }]));
        } finally {
          sidecars.close();
        }
      }
      return seen;
    };
    const gens = await generations(client, objects);
    const base = await baseline();
    const start = performance.now();
    const appliedAt = new Date();
    const undoLayer = await applyLayer(this.applier, before, objects);
    this.layer = next;
    const added = objects.filter((o) => !before.some(same(o)));
    const undo: Undo = async () => {
      this.layer = prev;
      // What the layer changed rather than created is put back, and must be in effect again.
      const restored = added.filter((o) => gens.get(keyOf(o)));
      const present = [...before, ...restored];
      // What the wait compares against is read first; if reading it fails, the objects are put back all the same.
      let pre: { was: Before; base: Baseline } | Error;
      try {
        pre = { was: await generations(client, present), base: await baseline() };
      } catch (err) {
        pre = err as Error;
      }
      const at = new Date();
      await undoLayer();
      if (pre instanceof Error) throw pre;
      await wait(present, added.filter((o) => !restored.includes(o)), pre.was, at, pre.base, defaults ? namespaceDefault(before) ?? previousDefault : undefined);
    };
    const by = osmObjects.length ? `${mesh}'s sidecars accepted its push` : `${mesh}'s controllers reported it in effect${objects.some(served) || defaults ? ' and its policy controller serves it' : ''}${restart ? ' and the app\'s pods restarted to read it' : ''}`;
    const { seen, convergenceMs } = await this.converged(() => wait(objects, before.filter((o) => !objects.some(same(o))), gens, appliedAt, base, defaults ? namespaceDefault(objects) ?? previousDefault : undefined), undo, start);
    return {
      undo, convergenceMs, by, evidence: [
        { name: 'applied manifests (server-side apply, field manager meshcheck)', contentType: 'application/yaml', body: toYaml(objects) },
        { name: osmObjects.length ? `in effect: what ${mesh}'s Envoy sidecars accepted (config_dump versions)` : `in effect: what ${mesh}'s controllers wrote on each object${objects.some(served) || defaults ? ' and what its policy controller serves' : ''}`, contentType: 'application/json', body: JSON.stringify(seen, null, 2) },
      ],
    };
  }

  /** What istiod should hold once `present` is applied and what only `gone` had is removed. */
  private async expected(present: readonly K8sObject[], gone: readonly K8sObject[]): Promise<Expected[]> {
    const out: Expected[] = [];
    for (const o of present.filter(istiodReads)) {
      const now = await apiCall({ verb: 'get', kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace }, () => this.applier.client.read({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace } }));
      out.push({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace, uid: now.metadata!.uid!, generation: now.metadata!.generation ?? 1 });
    }
    for (const o of gone.filter(istiodReads)) {
      if (!present.some((p) => p.kind === o.kind && p.metadata.name === o.metadata.name && p.metadata.namespace === o.metadata.namespace)) out.push({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace, absent: true });
    }
    return out;
  }

  /** The control plane's pods are new after it was stopped or restarted: the next wait connects again (istiod: unless --istiod-url names it). */
  forgetControlPlane(): void {
    this.linkerd?.close();
    this.linkerd = undefined;
    if (this.o.istiodUrl) return;
    this.close();
  }

  /** What the run record says of how policy was waited on. */
  get istiodVia(): string | undefined {
    return this.istiod?.via ?? this.via;
  }

  /** What the run record says of how Linkerd's policy controller was asked. */
  get linkerdVia(): string | undefined {
    return this.linkerdViaLast;
  }

  close(): void {
    this.via = this.istiod?.via ?? this.via;
    this.istiod?.close();
    this.istiod = undefined;
    this.linkerd?.close();
    this.linkerd = undefined;
  }
}
