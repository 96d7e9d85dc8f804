import { InfraError } from '../errors.js';
import type { K8sObject } from '../kube/objects.js';
import { generations, keyOf, kubernetesSignal, untilInEffect, withoutSignal, type Before, type Signal } from '../kube/status.js';
import type { ClusterAccess, InEffect, PendingChange, PolicyWatch, Seen } from './types.js';

/**
 * What a mesh without a control plane meshcheck can ask (every mesh but Istio) tells its status
 * watch: the status its controllers write on its own kinds, what it reads only when a pod starts, and
 * how the objects it writes nothing on are read back from its control plane or its proxies.
 */
export interface StatusHooks {
  /** The mesh's name, in messages. */
  mesh: string;
  /** The status the mesh's controllers write on its own kinds (undefined: none on this kind). */
  signal?(o: Pick<K8sObject, 'apiVersion' | 'kind'>): Signal | undefined;
  /** Objects the mesh reads only when a pod starts: the app's pods restart for them to be in effect. */
  readAtPodStart?(o: K8sObject): boolean;
  readBack?: ReadBack;
}

/** For objects a mesh writes no status on: their effect read back from its control plane or proxies. */
export interface ReadBack {
  /** The objects this read-back waits on (they need no status signal). */
  covers(o: K8sObject): boolean;
  /** Before a change from `before` to `after`: what the wait compares against; undefined when the change involves nothing of its. */
  prepare(before: readonly K8sObject[], after: readonly K8sObject[]): Promise<ReadBackChange | undefined>;
  forgetControlPlane?(): void;
  describe?(): Record<string, string>;
  close?(): void;
}

export interface ReadBackChange {
  /** After the objects changed (and after the app's pods restarted, where they had to). */
  until(c: { present: readonly K8sObject[]; gone: readonly K8sObject[]; appliedAt: Date }): Promise<Seen[]>;
  /** The same change backwards, prepared before the undo. */
  back(): Promise<ReadBackChange>;
  /** How the message and the evidence say it was found in effect, given what the status part says. */
  by(statusBy: string): string;
  evidenceName(statusName: string): string;
}

const same = (a: K8sObject) => (b: K8sObject) => a.kind === b.kind && a.metadata.name === b.metadata.name && a.metadata.namespace === b.metadata.namespace;

/**
 * "In effect" from what a mesh's controllers write on each object (and the Kubernetes objects'
 * own status), what a pod reads when it starts (the app's pods restart), and what the mesh's
 * read-back says for the objects it writes nothing on. A change with an object none of these covers
 * is refused before anything is applied: meshcheck does not apply what it could not wait on. The
 * way back waits the same way: objects the change created gone, objects it changed (a workload's own
 * objects, a patched namespace) back and in effect as they were.
 */
export class StatusPolicyWatch implements PolicyWatch {
  constructor(
    private readonly c: ClusterAccess,
    private readonly hooks: StatusHooks,
  ) {}

  private signalOf = (o: Pick<K8sObject, 'apiVersion' | 'kind'>): Signal | undefined => kubernetesSignal(o) ?? this.hooks.signal?.(o);
  private atStart = (o: K8sObject): boolean => this.hooks.readAtPodStart?.(o) ?? false;
  private covered = (o: K8sObject): boolean => this.hooks.readBack?.covers(o) ?? false;

  async change(before: readonly K8sObject[], after: readonly K8sObject[]): Promise<PendingChange> {
    const mesh = this.hooks.mesh;
    const blind = withoutSignal(
      this.signalOf,
      after.filter((o) => !this.atStart(o) && !this.covered(o)),
    );
    if (blind.length) {
      throw new InfraError(
        `the kube target has no "in effect" signal on ${mesh} for ${blind.join(', ')} (${mesh} writes no status on ${blind.length === 1 ? 'it' : 'them'}), so it does not apply policy it could not wait on; meshcheck plan --mesh ${this.c.meshSpec} shows what it would apply`,
      );
    }
    const gens = await generations(this.c.client, after);
    const readBack = await this.hooks.readBack?.prepare(before, after);
    const restart = [...before, ...after].some(this.atStart);
    const forward = this.transition(
      after,
      before.filter((o) => !after.some(same(o))),
      gens,
      restart,
      readBack,
    );
    return {
      until: forward,
      back: async () => {
        // What the change created goes; what it changed rather than created is put back, and must be in effect again.
        const added = after.filter((o) => !before.some(same(o)));
        const restored = added.filter((o) => gens.get(keyOf(o)));
        const present = [...before, ...restored];
        const was = await generations(this.c.client, present);
        const until = this.transition(
          present,
          added.filter((o) => !restored.includes(o)),
          was,
          restart,
          await readBack?.back(),
        );
        return { until, back: () => Promise.reject(new InfraError('a change undone has no way back')) };
      },
    };
  }

  /** The wait for one direction of a change: `present` in effect, `gone` gone. */
  private transition(
    present: readonly K8sObject[],
    gone: readonly K8sObject[],
    gens: Before,
    restart: boolean,
    readBack: ReadBackChange | undefined,
  ): (appliedAt: Date) => Promise<InEffect> {
    const mesh = this.hooks.mesh;
    return async (appliedAt) => {
      const seen: Seen[] = await untilInEffect(
        this.c.client,
        mesh,
        this.signalOf,
        present.filter((o) => !this.atStart(o) && !this.covered(o)),
        gone,
        gens,
        appliedAt,
        this.c.timeoutMs,
      );
      if (restart)
        seen.push(
          await this.c.restartApp(
            `${mesh} reads ${present
              .concat(gone)
              .filter(this.atStart)
              .map((o) => `${o.kind} ${o.metadata.name}`)
              .join(', ')} when a pod starts`,
          ),
        );
      // After any restart, so the pods asked about are those that run now.
      if (readBack) seen.push(...(await readBack.until({ present, gone, appliedAt })));
      const by = `${readBack ? readBack.by(`${mesh}'s controllers reported it in effect`) : `${mesh}'s controllers reported it in effect`}${restart ? " and the app's pods restarted to read it" : ''}`;
      const name = `in effect: what ${mesh}'s controllers wrote on each object`;
      return {
        by,
        evidence: [{ name: readBack ? readBack.evidenceName(name) : name, contentType: 'application/json', body: JSON.stringify(seen, null, 2) }],
      };
    };
  }

  forgetControlPlane(): void {
    this.hooks.readBack?.forgetControlPlane?.();
  }

  describe(): Record<string, string> {
    return this.hooks.readBack?.describe?.() ?? {};
  }

  close(): void {
    this.hooks.readBack?.close?.();
  }
}
