import { type KubeConfig, type KubernetesObjectApi, type V1Pod } from '@kubernetes/client-node';
import { request } from 'undici';
import type { K8sObject } from '../../kube/objects.js';
import { InfraError } from '../../errors.js';
import { apiCall } from '../../kube/client.js';
import { eventually } from '../../util/eventually.js';
import { forwardPort, type Forwarded } from '../../kube/port-forward.js';
import { runningPods } from '../../kube/pods.js';

/**
 * "In effect" for OSM, which writes no status on its SMI objects, MeshConfig or Retry: what the
 * run's Envoy sidecars accepted, read from each one's admin /config_dump (port 15000, through a
 * port-forward, so the request arrives on the pod's localhost where Envoy's admin listens).
 *
 * OSM does not push a change on its own: every change it watches (an SMI object, MeshConfig, a
 * Retry) is batched for 2 s after the last one (at most 10 s), then every proxy of the mesh is sent
 * each xDS type again, that type's version one more than the last it was sent (OSM 1.2.4's own ADS
 * stream, pkg/envoy/ads; with the enableSnapshotCacheMode flag, a go-control-plane snapshot one
 * version newer instead). Envoy reports a version in config_dump only once it has accepted it. So the change is in effect once
 * every sidecar of the namespace has accepted a version newer than the one it had before the
 * change, and no sidecar's version has moved for QUIET_MS (longer than OSM's batching), counted
 * from at least OSM_BATCH_MS after the change: a push that was already on its way when the change
 * was made is followed by the push of the change's own batch within that time. This says the
 * proxies took OSM's pushes, not which field of which object each push carried; it is weaker than
 * Istio's wait (istiod's store at the applied generation) and says so in the run record.
 */

const ENVOY_ADMIN_PORT = 15000;
/** OSM's sliding batching window for proxy updates. */
export const OSM_BATCH_MS = 2000;
/** How long every sidecar's version must stay still. */
export const QUIET_MS = 3000;

/** The kinds OSM's controller watches and pushes to the proxies. */
export function osmPushes(o: Pick<K8sObject, 'apiVersion'>): boolean {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '';
  return group.endsWith('.smi-spec.io') || group.endsWith('.openservicemesh.io');
}

/**
 * The versions an Envoy has accepted, from its config_dump: each dump's own version_info (clusters,
 * listeners) and each dynamic resource's (routes, secrets), as one comparable string.
 */
export function acceptedVersions(dump: unknown): string {
  const out: string[] = [];
  const walk = (x: unknown, path: string) => {
    if (Array.isArray(x)) x.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (x && typeof x === 'object') {
      for (const [k, v] of Object.entries(x as Record<string, unknown>)) {
        if (k === 'version_info' && typeof v === 'string') out.push(`${path}=${v}`);
        else if (!k.startsWith('static_') && k !== 'bootstrap') walk(v, `${path}.${k}`);
      }
    }
  };
  walk((dump as { configs?: unknown })?.configs ?? dump, '');
  return out.join(' ');
}

/** What each sidecar of the namespace had accepted at one moment: pod -> acceptedVersions(). */
export type Versions = Map<string, string>;

/** Whether `now` (read at `at`) settles the change made at `changedAt` over `before`, given when the versions last moved. */
export function settled(before: Versions, now: Versions, lastMove: number, changedAt: number, at: number): { done: boolean; why: string } {
  const unmoved = [...now.entries()].filter(([pod, v]) => before.has(pod) && before.get(pod) === v).map(([pod]) => pod).sort();
  if (!now.size) return { done: false, why: 'no sidecar of the namespace answers' };
  if (unmoved.length) return { done: false, why: `${unmoved.length} of ${now.size} sidecars have not accepted a push since the change: ${unmoved.join(', ')}` };
  const quietFrom = Math.max(lastMove, changedAt + OSM_BATCH_MS);
  if (at - quietFrom < QUIET_MS) return { done: false, why: `every sidecar took a push; waiting until none has moved for ${QUIET_MS / 1000} s past OSM's ${OSM_BATCH_MS / 1000} s batching` };
  return { done: true, why: '' };
}

/** The Envoy sidecars of a namespace, each through its own port-forward to its admin port. */
export class SidecarVersions {
  private readonly forwards = new Map<string, Forwarded>();

  constructor(private readonly kc: KubeConfig, private readonly namespace: string, private readonly container: string) {}

  /** What each running sidecar of the namespace has accepted now. */
  async read(): Promise<Versions> {
    const pods = (await runningPods(this.kc, this.namespace)).filter((p) => this.sidecarRuns(p)).map((p) => p.metadata!.name!);
    const out: Versions = new Map();
    for (const pod of pods) {
      let f = this.forwards.get(pod);
      if (!f) {
        f = await forwardPort(this.kc, this.namespace, pod, ENVOY_ADMIN_PORT);
        this.forwards.set(pod, f);
      }
      let r;
      try {
        r = await request(`${f.url}/config_dump`, { signal: AbortSignal.timeout(10_000) });
      } catch (err) {
        // A pod that ended meanwhile (a load's pod, whose sidecar quits once its k6 is done) has no say.
        if (!(await runningPods(this.kc, this.namespace)).some((p) => p.metadata?.name === pod && this.sidecarRuns(p))) {
          f.close();
          this.forwards.delete(pod);
          continue;
        }
        throw new InfraError(`Envoy admin of pod ${this.namespace}/${pod} (port-forward to ${ENVOY_ADMIN_PORT}): ${(err as Error).message}`);
      }
      const text = await r.body.text();
      if (r.statusCode !== 200) throw new InfraError(`Envoy admin of pod ${this.namespace}/${pod}: /config_dump answered ${r.statusCode} ${text.slice(0, 200)}`);
      out.set(pod, acceptedVersions(JSON.parse(text)));
    }
    return out;
  }

  /** Waits until the change made at `changedAt` is settled over `before` (settled()); says what each sidecar accepted. */
  async until(before: Versions, changedAt: number, timeoutMs: number): Promise<{ object: string; how: string }[]> {
    let last: Versions | undefined;
    let lastMove = changedAt;
    let why = '';
    return eventually(async () => {
      const now = await this.read();
      if (!last || [...now].some(([pod, v]) => last!.get(pod) !== v)) lastMove = Date.now();
      last = now;
      const s = settled(before, now, lastMove, changedAt, Date.now());
      why = s.why;
      return s.done ? [...now].map(([pod, v]) => ({ object: `Pod ${this.namespace}/${pod}`, how: `Envoy accepted OSM's push (${v.split(' ').length} versions, e.g. ${v.split(' ')[0] ?? '?'}) and no sidecar moved for ${QUIET_MS / 1000} s` })) : undefined;
    }, { timeoutMs, intervalMs: 500, describe: `every Envoy sidecar of ${this.namespace} to accept OSM's push of the change` }).catch((err: Error) => {
      throw new InfraError(`${err.message}: ${why || (err.cause as Error | undefined)?.message || 'no answer'}`);
    });
  }

  /** The pod has the sidecar and it is running (not yet ended, as a load pod's does when its k6 is done). */
  private sidecarRuns(p: V1Pod): boolean {
    return Boolean(p.spec?.containers.some((c) => c.name === this.container)) && Boolean(p.status?.containerStatuses?.some((c) => c.name === this.container && c.state?.running));
  }

  close(): void {
    for (const f of this.forwards.values()) f.close();
    this.forwards.clear();
  }
}

/** Each object's resourceVersion now ('' when it is not there): a change that moves none pushes nothing. */
export async function resourceVersions(client: KubernetesObjectApi, objects: readonly K8sObject[]): Promise<string[]> {
  const out: string[] = [];
  for (const o of objects) {
    const live = await apiCall({ verb: 'get', kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace }, () => client.read({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace } })).catch((err: { code?: number }) => {
      if (err.code === 404) return undefined;
      throw err;
    });
    out.push(live?.metadata?.resourceVersion ?? '');
  }
  return out;
}
