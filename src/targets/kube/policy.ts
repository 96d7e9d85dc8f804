import type { KubeConfig } from '@kubernetes/client-node';
import type { K8sObject, MeshAdapter } from '../../adapters/types.js';
import { InfraError } from '../../errors.js';
import type { Intent } from '../../intents/types.js';
import { apiCall, applyLayer, type Applier } from '../../kube/apply.js';
import { toYaml } from '../../plan/plan.js';
import type { Applied, Evidence, Undo } from '../target.js';
import { IstiodView, istiodReads, type Expected } from './istiod.js';
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
  /** How istiod was last reached, for the run record. */
  private via?: string;

  constructor(private readonly kc: KubeConfig, private readonly applier: Applier, private readonly adapter: MeshAdapter, private readonly o: PolicyOptions) {}

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
   * that they have it (mesh-status.ts). What the mesh reads only when a pod starts (Linkerd's
   * namespace default policy) is in effect once the app's pods have restarted. A scenario with an
   * object its mesh writes nothing on is not applied: meshcheck does not apply what it could not
   * wait on. The undo waits the same way: objects the layer created gone, objects it changed (a
   * workload's own Consul intentions, a patched namespace) back and in effect as they were.
   */
  private async applyOnStatus(prev: Layer, next: Layer): Promise<Applied & { by: string }> {
    const mesh = this.adapter.name;
    const [before, objects] = [prev.objects, next.objects];
    const atStart = (o: K8sObject) => this.adapter.readAtPodStart?.(o) ?? false;
    const blind = withoutSignal(mesh, objects.filter((o) => !atStart(o)));
    if (blind.length) {
      throw new InfraError(`the kube target has no "in effect" signal on ${mesh} for ${blind.join(', ')} (${mesh} writes no status on ${blind.length === 1 ? 'it' : 'them'}), so it does not apply policy it could not wait on; meshcheck plan --mesh ${this.o.mesh} shows what it would apply`);
    }
    const same = (a: K8sObject) => (b: K8sObject) => a.kind === b.kind && a.metadata.name === b.metadata.name && a.metadata.namespace === b.metadata.namespace;
    const timeoutMs = Number(process.env.MESHCHECK_KUBE_IN_EFFECT_TIMEOUT_MS ?? 120_000);
    const client = this.applier.client;
    const restart = [...before, ...objects].some(atStart);
    const wait = async (present: K8sObject[], gone: K8sObject[], gens: Before, at: Date) => {
      const seen = await untilInEffect(client, mesh, present.filter((o) => !atStart(o)), gone, gens, at, timeoutMs);
      if (restart) seen.push(await this.o.restartApp(`${mesh} reads ${present.concat(gone).filter(atStart).map((o) => `${o.kind} ${o.metadata.name}`).join(', ')} when a pod starts`));
      return seen;
    };
    const gens = await generations(client, objects);
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
      const was = await generations(client, present);
      const at = new Date();
      await undoLayer();
      await wait(present, added.filter((o) => !restored.includes(o)), was, at);
    };
    const by = `${mesh}'s controllers reported it in effect${restart ? ' and the app\'s pods restarted to read it' : ''}`;
    const { seen, convergenceMs } = await this.converged(() => wait(objects, before.filter((o) => !objects.some(same(o))), gens, appliedAt), undo, start);
    return {
      undo, convergenceMs, by, evidence: [
        { name: 'applied manifests (server-side apply, field manager meshcheck)', contentType: 'application/yaml', body: toYaml(objects) },
        { name: `in effect: what ${mesh}'s controllers wrote on each object`, contentType: 'application/json', body: JSON.stringify(seen, null, 2) },
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

  /** istiod's pods are new after its control plane was stopped or restarted: the next wait connects again (unless --istiod-url names it). */
  forgetIstiod(): void {
    if (this.o.istiodUrl) return;
    this.close();
  }

  /** What the run record says of how policy was waited on. */
  get istiodVia(): string | undefined {
    return this.istiod?.via ?? this.via;
  }

  close(): void {
    this.via = this.istiod?.via ?? this.via;
    this.istiod?.close();
    this.istiod = undefined;
  }
}
