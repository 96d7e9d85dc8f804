import type { K8sObject } from '../../kube/objects.js';
import type { Intent } from '../../intents/types.js';
import { applyLayer, type Applier } from '../../kube/apply.js';
import type { PendingChange, PolicyWatch } from '../../meshes/types.js';
import { toYaml } from '../../util/yaml.js';
import { orUndo, type Undo } from '../../util/undo.js';
import type { Applied } from '../ports.js';

/** Intents in effect and the objects applied for them. */
interface Layer {
  intents: readonly Intent[];
  objects: K8sObject[];
}

export interface PolicyOptions {
  render(intents: readonly Intent[]): K8sObject[];
  /** Refuses objects outside what the run may change. */
  guard(objects: readonly K8sObject[]): void;
}

/**
 * A scenario's mesh policy on the cluster, a step at a time: the mesh's objects server-side applied
 * on top of those in effect (with the ledger, by the Applier), then waited on until the mesh has them
 * in effect (the mesh's own PolicyWatch, from its folder); the undo puts the previous layer back and
 * waits the same way.
 */
export class ClusterPolicy {
  /**
   * What is in effect: the intents applied so far (one scenario's, a step at a time) and the objects
   * applied for them. Before the first apply nothing is, even where the mesh renders objects for no
   * intent (routes that turn a mesh's default retries off), unless the mesh needs them first (baseline()).
   */
  private layer: Layer = { intents: [], objects: [] };

  constructor(private readonly applier: Applier, private readonly watch: PolicyWatch, private readonly o: PolicyOptions) {}

  async apply(intents: readonly Intent[]): Promise<Applied & { by: string }> {
    const prev = this.layer;
    const next: Layer = { intents: [...prev.intents, ...intents], objects: this.o.render([...prev.intents, ...intents]) };
    // The guardrail first: what would be changed outside the run's namespace.
    this.o.guard(next.objects);
    const pending = await this.watch.change(prev.objects, next.objects);
    const start = performance.now();
    const appliedAt = new Date();
    const undoLayer = await applyLayer(this.applier, prev.objects, next.objects);
    this.layer = next;
    const undo: Undo = async () => {
      this.layer = prev;
      // What the wait back compares against is read first; if reading it fails, the objects are put back all the same.
      let back: PendingChange | Error;
      try {
        back = await pending.back();
      } catch (err) {
        back = err as Error;
      }
      const at = new Date();
      await undoLayer();
      if (back instanceof Error) throw back;
      await back.until(at);
    };
    const seen = await orUndo(() => pending.until(appliedAt), undo);
    return {
      undo, convergenceMs: performance.now() - start, by: seen.by,
      evidence: [{ name: 'applied manifests (server-side apply, field manager meshcheck)', contentType: 'application/yaml', body: toYaml(next.objects) }, ...seen.evidence],
    };
  }

  /**
   * Puts the objects the mesh renders for no intent in effect for the rest of the run, under every
   * scenario's own (Mesh.baselineFirst); the ledger has them, and the run's namespace goes with them.
   */
  baseline(): Promise<Applied & { by: string }> {
    // Its undo is never called: every scenario's layer goes back to it.
    return this.apply([]);
  }

  /** The control plane's pods are new after it was stopped or restarted: the next wait connects again. */
  forgetControlPlane(): void {
    this.watch.forgetControlPlane();
  }

  describe(): Record<string, string> {
    return this.watch.describe();
  }

  close(): void {
    this.watch.close();
  }
}
