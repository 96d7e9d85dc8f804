import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { request } from 'undici';
import { InfraError } from '../../errors.js';
import type { OwnWorkload, RenderContext } from '../../meshes/types.js';
import { spiffeId } from '../../app/topology.js';
import type { Misbehaviour, Workload } from '../ports.js';
import { forwardPort, type Forwarded } from '../../kube/port-forward.js';
import { LOAD_LABEL } from './k6-job.js';
import { ready } from '../../kube/pods.js';

/** One running instance of the app in the cluster: a Ready pod of one version of one service. */
export interface PodInstance extends Workload {
  podIP: string;
  node: string;
}


/** Where an instance's echo workload takes meshcheck's controls, and the body it takes for a behaviour (the mesh's own, for its own workload). */
export type EchoControl = OwnWorkload['control'];

/**
 * The app's pods in the run's namespace, and each one's echo workload reached on its direct port
 * (which the sidecar does not intercept) through a port-forward: to make an instance fail or slow,
 * and to read how many requests it failed on purpose.
 */
export class PodInstances {
  private list: PodInstance[] = [];
  private readonly forwards = new Map<string, Forwarded>();

  private readonly control: EchoControl;

  constructor(private readonly kc: KubeConfig, private readonly ctx: RenderContext, control?: EchoControl) {
    // meshcheck's node echo workload: on its direct port, which the sidecar does not intercept.
    this.control = control ?? { port: ctx.directPort, path: '/__meshcheck/behaviour', body: (b) => b };
  }

  /** Reads the Ready pods of every service again (after a rollout or a change of versions). */
  async refresh(): Promise<PodInstance[]> {
    const core = this.kc.makeApiClient(CoreV1Api);
    const names = new Set(this.ctx.services.map((s) => s.name));
    // A load's pods carry their caller's labels; they are not instances.
    const pods = await core.listNamespacedPod({ namespace: this.ctx.namespace, labelSelector: `app,version,!${LOAD_LABEL}` });
    this.list = pods.items.filter((p) => ready(p) && names.has(p.metadata?.labels?.app ?? '')).map((p) => ({
      service: p.metadata!.labels!.app!, version: p.metadata!.labels!.version!, name: p.metadata!.name!,
      identity: spiffeId(this.ctx.trustDomain, this.ctx.namespace, p.spec?.serviceAccountName ?? 'default'),
      podIP: p.status?.podIP ?? '', node: p.spec?.nodeName ?? '',
    })).sort((a, b) => a.name.localeCompare(b.name));
    return this.list;
  }

  get all(): readonly PodInstance[] {
    return this.list;
  }

  of(service: string): PodInstance[] {
    return this.list.filter((i) => i.service === service);
  }

  find(name: string): PodInstance {
    const i = this.list.find((x) => x.name === name);
    if (!i) throw new InfraError(`pod ${name} is not a running instance in ${this.ctx.namespace}`);
    return i;
  }

  private async url(pod: string): Promise<string> {
    let f = this.forwards.get(pod);
    if (!f) {
      f = await forwardPort(this.kc, this.ctx.namespace, pod, this.control.port);
      this.forwards.set(pod, f);
    }
    return `${f.url}${this.control.path}`;
  }

  /** Tells one instance's echo workload how to answer ({} = normally); returns what it now holds. */
  async behave(pod: string, b: Misbehaviour): Promise<{ failed: number }> {
    return this.call(pod, 'POST', JSON.stringify(this.control.body(b)));
  }

  /** Requests the instance answered with its fail status since it was told to. */
  async failed(pod: string): Promise<number> {
    return (await this.call(pod, 'GET')).failed;
  }

  private async call(pod: string, method: 'GET' | 'POST', body?: string): Promise<{ failed: number }> {
    const url = await this.url(pod);
    try {
      const r = await request(url, { method, body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(10_000) });
      const text = await r.body.text();
      if (r.statusCode !== 200) throw new Error(`${r.statusCode} ${text.slice(0, 200)}`);
      return JSON.parse(text) as { failed: number };
    } catch (err) {
      throw new InfraError(`the echo workload of pod ${this.ctx.namespace}/${pod} (port ${this.control.port}, port-forward through the API server): ${(err as Error).message}`);
    }
  }

  close(): void {
    for (const f of this.forwards.values()) f.close();
    this.forwards.clear();
  }
}
