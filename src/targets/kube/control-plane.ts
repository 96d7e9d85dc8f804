import type { KubeConfig } from '@kubernetes/client-node';
import { patch, type K8sObject } from '../../kube/objects.js';
import type { Mesh, RenderContext } from '../../meshes/types.js';
import { InfraError } from '../../errors.js';
import { type Applier } from '../../kube/apply.js';
import { apiCall } from '../../kube/client.js';
import { orUndo, type Undo } from '../../util/undo.js';
import { rolledOut, type Rollable } from './rollout.js';

/**
 * The mesh's control plane on a cluster (the adapter's data: its namespace and workloads, as
 * clusters/profiles installs them). Stopping it scales each workload to zero by a server-side apply
 * of `spec.replicas` alone, recorded in the ledger first and put back exactly by the undo; the proxies
 * keep the config they have. It lives outside the run's namespace, so the guardrail asks for
 * `--allow-changes-in` its namespace.
 */
export class ClusterControlPlane {
  constructor(
    private readonly kc: KubeConfig,
    private readonly applier: Applier,
    private readonly adapter: Mesh,
    private readonly ctx: () => RenderContext,
    private readonly guard: (objects: readonly K8sObject[]) => void,
    private readonly log: (m: string) => void,
  ) {}

  private workloads(): Rollable[] {
    const cp = this.adapter.controlPlane;
    if (!cp) throw new InfraError(`${this.adapter.title} has no control plane to stop`);
    return cp.workloads.map((w) => ({ ...w, namespace: cp.namespace }));
  }

  /** Scales the control plane to zero and waits until its pods are gone; the undo scales it back and waits until it is ready. */
  async stop(): Promise<{ undo: Undo; downMs: number }> {
    const workloads = this.workloads();
    const patches = workloads.map((w) => patch(this.ctx(), 'apps/v1', w.kind, w.name, { spec: { replicas: 0 } }, { namespace: w.namespace }));
    this.guard(patches);
    for (const w of workloads) {
      await apiCall({ verb: 'get', kind: w.kind, name: w.name, namespace: w.namespace }, () =>
        this.applier.client.read({ apiVersion: 'apps/v1', kind: w.kind, metadata: { name: w.name, namespace: w.namespace } }),
      ).catch((err: { code?: number }) => {
        if (err.code === 404)
          throw new InfraError(
            `the ${this.adapter.name} control plane was not found: no ${w.kind} ${w.namespace}/${w.name} (meshcheck knows the mesh as clusters/profiles/${this.adapter.name}.yaml installs it)`,
          );
        throw err;
      });
    }
    const what = workloads.map((w) => `${w.kind} ${w.namespace}/${w.name}`).join(', ');
    this.log(`kube: stopping the ${this.adapter.name} control plane (${what} scaled to zero)`);
    const t0 = performance.now();
    const undoScale = await this.applier.apply(patches);
    const undo: Undo = async () => {
      this.log(`kube: starting the ${this.adapter.name} control plane again`);
      await undoScale();
      await rolledOut(this.kc, workloads, `the ${this.adapter.name} control plane (${what}) to run again`);
    };
    await orUndo(() => rolledOut(this.kc, workloads, `the ${this.adapter.name} control plane (${what}) to stop`), undo);
    return { undo, downMs: performance.now() - t0 };
  }

  /**
   * What the control plane runs: each workload's container images as its pod template has them, or
   * undefined when a workload is not there (a mesh installed otherwise, or a simulated cluster).
   */
  async images(): Promise<{ workload: string; images: string[] }[] | undefined> {
    if (!this.adapter.controlPlane) return undefined;
    const out: { workload: string; images: string[] }[] = [];
    for (const w of this.workloads()) {
      const got = await apiCall({ verb: 'get', kind: w.kind, name: w.name, namespace: w.namespace }, () =>
        this.applier.client.read({ apiVersion: 'apps/v1', kind: w.kind, metadata: { name: w.name, namespace: w.namespace } }),
      ).catch(() => undefined);
      const containers = (got as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } } | undefined)?.spec?.template?.spec?.containers;
      if (!containers) return undefined;
      out.push({ workload: `${w.kind} ${w.namespace}/${w.name}`, images: containers.map((c) => c.image ?? '?') });
    }
    return out;
  }

  /** Stops the control plane and starts it again: the time to stop, and from then until it is ready. */
  async restart(): Promise<{ downMs: number; readyMs: number }> {
    const { undo, downMs } = await this.stop();
    const t = performance.now();
    await undo();
    return { downMs: Number(downMs.toFixed(1)), readyMs: Number((performance.now() - t).toFixed(1)) };
  }
}
