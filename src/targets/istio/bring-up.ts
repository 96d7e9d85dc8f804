import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { CoreV1Api } from '@kubernetes/client-node';
import { BOOKINFO, LOAD_CLIENT, spiffeId } from '../../app/topology.js';
import type { K8sObject } from '../../kube/objects.js';
import type { RenderContext } from '../../meshes/types.js';
import { InfraError } from '../../errors.js';
import type { Applier } from '../../kube/apply.js';
import { tool } from '../../util/tools.js';
import type { ProcessGroup } from '../../process/process-group.js';
import type { Workload } from '../ports.js';
import { bootstrap, proxylessAppObjects, type ProxylessInstance } from './app.js';
import type { IstioControlPlane } from './control-plane.js';
import { XdsWatch, type WatchedNode } from './xds-watch.js';

const run = promisify(execFile);

/** The namespace of the app on the Istio tier's apiserver. */
export const NAMESPACE = 'meshcheck';
/** The label of the watched client node (the xDS a gRPC client is served). */
export const CLIENT_NODE = 'client';

/** A running proxyless workload instance. */
export interface Running extends ProxylessInstance, Workload {
  /** host:port of its control listener (behaviour, counts). */
  control: string;
  /** host:port where the same workload answers plain gRPC, outside the mesh (the overhead baseline). */
  plain: string;
  bootstrapFile: string;
}

export interface BringUp {
  cp: IstioControlPlane;
  group: ProcessGroup;
  applier: Applier;
  workDir: string;
  ctx: RenderContext;
  /** 127.X.Y of the instances' addresses. */
  block: string;
  /** The run's baseline objects (the adapter's render for no intent). */
  baseline: K8sObject[];
  log: (m: string) => void;
}

/**
 * Registers the app on the apiserver, gets each workload's certificate from istiod's CA, starts the
 * proxyless workloads and the xDS watcher, and waits until istiod serves every workload its inbound
 * listener and every service a route.
 */
export async function bringUp(o: BringUp): Promise<{ instances: Running[]; callerBootstraps: Map<string, string>; watch: XdsWatch }> {
  const { cp, ctx, block, log } = o;
  const plan: ProxylessInstance[] = [];
  let n = 2;
  for (const s of BOOKINFO) for (const v of s.versions) {
    plan.push({ service: s.name, version: v, name: `${s.name}-${v}-0`, address: `${block}.${n++}:${ctx.port}`, identity: spiffeId(ctx.trustDomain, NAMESPACE, s.name) });
  }
  const { objects, podStatus } = proxylessAppObjects(ctx, plan, [LOAD_CLIENT]);
  log(`registering the app: ${plan.length} workloads as WorkloadEntry + Pod, ${BOOKINFO.length} Services`);
  await o.applier.apply(objects);
  // The run's baseline: what the adapter renders for no intent (retries off on every route, mTLS from
  // every client). Each scenario's objects go over it, and their undo brings it back.
  await o.applier.apply(o.baseline);
  // No kubelet: meshcheck says the Pods run, at their addresses (istiod finds a server's Pod by IP).
  await Promise.all(podStatus.map((p) => patchPodStatus(cp, p.name, p.status)));

  // Certificates from istiod's CA: each identity's ServiceAccount token (audience istio-ca), checked by istiod.
  const dir = join(o.workDir, 'certs');
  mkdirSync(dir, { recursive: true });
  const rootFile = join(dir, 'root.pem');
  writeFileSync(rootFile, await cp.rootCert(NAMESPACE));
  const core = cp.api.kubeconfig.makeApiClient(CoreV1Api);
  const identities = [...plan.map((i) => ({ name: i.name, sa: i.service })), { name: `${LOAD_CLIENT}-0`, sa: LOAD_CLIENT }];
  const workloads = [];
  for (const id of identities) {
    const tr = await core.createNamespacedServiceAccountToken({ name: id.sa, namespace: NAMESPACE, body: { spec: { audiences: ['istio-ca'], expirationSeconds: 3600 } } });
    const tokenFile = join(dir, `${id.name}.token`);
    writeFileSync(tokenFile, tr.status?.token ?? '', { mode: 0o600 });
    workloads.push({ identity: spiffeId(ctx.trustDomain, NAMESPACE, id.sa), tokenFile, certFile: join(dir, `${id.name}.crt`), keyFile: join(dir, `${id.name}.key`) });
  }
  log(`asking istiod's CA for ${workloads.length} certificates`);
  try {
    await run(tool('meshcheck-proxyless'), ['certs', JSON.stringify({ ca: `127.0.0.1:${cp.ports.secureGrpc}`, rootFile, workloads })], { timeout: 30_000 });
  } catch (err) {
    throw new InfraError(`certificates from istiod's CA: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
  }
  const bootstrapOf = (name: string, ip: string) => {
    const file = join(dir, `${name}.bootstrap.json`);
    writeFileSync(file, JSON.stringify(bootstrap({ xds: `127.0.0.1:${cp.ports.grpc}`, nodeName: name, ip, namespace: NAMESPACE, istioVersion: cp.version, certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`), caFile: rootFile }), null, 2));
    return file;
  };
  const callerBootstraps = new Map<string, string>([[LOAD_CLIENT, bootstrapOf(`${LOAD_CLIENT}-0`, `${block}.1`)]]);

  log(`starting ${plan.length} proxyless gRPC workloads`);
  const instances: Running[] = [];
  await Promise.all(plan.map(async (i) => {
    const ip = i.address.split(':')[0]!;
    const bootstrapFile = bootstrapOf(i.name, ip);
    const r = await o.group.spawn(i.name, 'env', [`GRPC_XDS_BOOTSTRAP=${bootstrapFile}`, 'GRPC_GO_LOG_SEVERITY_LEVEL=warning', tool('meshcheck-proxyless'), 'echo', JSON.stringify({ service: i.service, version: i.version, instance: i.name, address: i.address, plain: `${ip}:0` })]);
    instances.push({ ...i, control: String(r.control), plain: String(r.plain), bootstrapFile });
  }));
  instances.sort((a, b) => a.name.localeCompare(b.name));
  // A service's own instances call others as that service (its certificate): productpage -> reviews.
  for (const s of BOOKINFO) callerBootstraps.set(s.name, instances.find((i) => i.service === s.name)!.bootstrapFile);

  const watch = await XdsWatch.start(`127.0.0.1:${cp.ports.grpc}`, watchedNodes(cp, ctx, block, instances));
  // Up once every instance has its inbound listener and every service its route.
  const served = () => instances.every((i) => watch.of(i.name, 'lds').length === 1)
    && BOOKINFO.every((s) => watch.of(CLIENT_NODE, 'rds').some((r) => r.name === `outbound|${ctx.port}||${s.name}.${NAMESPACE}.svc.cluster.local`));
  try {
    await watch.until(served, 'the inbound listener of every workload and a route for every service', 20_000);
  } catch (err) {
    watch.stop();
    throw err;
  }
  return { instances, callerBootstraps, watch };
}

/** The nodes the watcher asks for: a gRPC client (every service's listener) and each server instance. */
function watchedNodes(cp: IstioControlPlane, ctx: RenderContext, block: string, instances: Running[]): WatchedNode[] {
  const meta = (ip: string) => ({ GENERATOR: 'grpc', NAMESPACE, CLUSTER_ID: 'Kubernetes', ISTIO_VERSION: cp.version, INSTANCE_IPS: ip });
  return [
    { label: CLIENT_NODE, id: `sidecar~${block}.1~${LOAD_CLIENT}-watch.${NAMESPACE}~${NAMESPACE}.svc.cluster.local`, metadata: meta(`${block}.1`), listeners: BOOKINFO.map((s) => `${s.name}.${NAMESPACE}.svc.cluster.local:${ctx.port}`) },
    ...instances.map((i) => {
      const ip = i.address.split(':')[0]!;
      return { label: i.name, id: `sidecar~${ip}~${i.name}.${NAMESPACE}~${NAMESPACE}.svc.cluster.local`, metadata: meta(ip), listeners: [`xds.istio.io/grpc/lds/inbound/${i.address}`] };
    }),
  ];
}

/** Sets a kubelet-less Pod's status through the status subresource (merge patch). */
async function patchPodStatus(cp: IstioControlPlane, name: string, status: Record<string, unknown>): Promise<void> {
  const cluster = cp.api.kubeconfig.getCurrentCluster()!;
  const user = cp.api.kubeconfig.getCurrentUser()!;
  const r = await request(`${cluster.server}/api/v1/namespaces/${NAMESPACE}/pods/${name}/status`, {
    method: 'PATCH', body: JSON.stringify({ status }),
    headers: { 'content-type': 'application/merge-patch+json', authorization: `Bearer ${user.token}` },
    dispatcher: new Agent({ connect: { rejectUnauthorized: false } }),
  });
  const text = await r.body.text();
  if (r.statusCode >= 300) throw new InfraError(`setting the status of Pod ${name}: ${r.statusCode} ${text.slice(0, 200)}`);
}
