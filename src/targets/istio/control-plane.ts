import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { request } from 'undici';
import type { KubernetesObject } from '@kubernetes/client-node';
import { InfraError } from '../../errors.js';
import { tool } from '../../util/tools.js';
import { installCrds, readCrds, startApiServer, type ApiServer } from '../../kube/apiserver.js';
import { eventually } from '../../util/eventually.js';
import { freePort } from '../../util/net.js';
import { PACKAGE_ROOT } from '../../util/package-root.js';
import { processAlive as alive, type ProcessGroup } from '../../process/process-group.js';
import { ISTIOD_BUILDS, ISTIO_TIER_MINOR } from './istiod-builds.js';

/** istiod's ports, all on 127.0.0.1. */
export interface IstiodPorts {
  /** Plaintext xDS (what proxyless clients connect to). */
  grpc: number;
  /** TLS xDS and the CA. */
  secureGrpc: number;
  monitoring: number;
  https: number;
  /** Debug and /ready. */
  http: number;
}

/**
 * Istio's real control plane on this machine: etcd and kube-apiserver (the project's own build), the
 * Istio CRDs, and istiod (pilot-discovery built from the Go module proxy) watching that apiserver. It
 * listens on 127.0.0.1 only, on free ports; everything runs in the target's process group.
 */
export class IstioControlPlane {
  istiodPid?: number;
  /** What `pilot-discovery version -s` reports, e.g. "1.31-dev+eed52ebb66ad". */
  readonly version: string;
  /** "MAJOR.MINOR" of that version. */
  readonly minor: string;

  /** The pilot-discovery this control plane runs (the tools cache's name of it). */
  private readonly binary: string;

  private constructor(readonly api: ApiServer, private readonly group: ProcessGroup, private readonly dir: string, readonly ports: IstiodPorts, minor: string) {
    this.binary = ISTIOD_BUILDS[minor]!.tool;
    this.version = istiodVersion(this.binary);
    this.minor = /^(\d+\.\d+)/.exec(this.version)?.[1] ?? this.version;
  }

  static async start(group: ProcessGroup, dir: string, log: (m: string) => void, minor = ISTIO_TIER_MINOR): Promise<IstioControlPlane> {
    tool(ISTIOD_BUILDS[minor]!.tool);
    const api = await startApiServer(log, { group, dir: join(dir, 'apiserver') });
    return IstioControlPlane.startOn(api, dir, log, minor);
  }

  /** istiod against an API server that is up (the kube tier's test cluster): Istio's CRDs and istio-system first. */
  static async startOn(api: ApiServer, dir: string, log: (m: string) => void, minor = ISTIO_TIER_MINOR): Promise<IstioControlPlane> {
    const group = api.group;
    const crds = readCrds(join(PACKAGE_ROOT, 'clusters', 'crds', 'istio'));
    await installCrds(api, crds, log);
    await api.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } } as KubernetesObject).catch((err: { code?: number }) => {
      if (err.code !== 409) throw err;
    });
    const ports: IstiodPorts = { grpc: await freePort(), secureGrpc: await freePort(), monitoring: await freePort(), https: await freePort(), http: await freePort() };
    const cp = new IstioControlPlane(api, group, dir, ports, minor);
    await cp.startIstiod(log);
    return cp;
  }

  /** Starts istiod (again, after stopIstiod) and waits until /ready answers. */
  async startIstiod(log: (m: string) => void = () => undefined): Promise<void> {
    const home = join(this.dir, 'istiod');
    mkdirSync(home, { recursive: true });
    const mesh = join(home, 'mesh.yaml');
    writeFileSync(mesh, [
      'trustDomain: cluster.local', 'rootNamespace: istio-system', 'enableAutoMtls: true',
      'defaultConfig:', `  discoveryAddress: 127.0.0.1:${this.ports.secureGrpc}`, '',
    ].join('\n'));
    writeFileSync(join(home, 'networks.yaml'), 'networks: {}\n');
    const p = this.ports;
    log(`starting istiod ${this.version} (xDS on 127.0.0.1:${p.grpc})`);
    // istiod resolves ./etc/cacerts and ./var/lib/istio/inject from its working directory: its own folder.
    const r = await this.group.spawn('istiod', 'env', [
      '-C', home,
      'POD_NAMESPACE=istio-system', 'POD_NAME=istiod-local', 'CLUSTER_ID=Kubernetes', 'PILOT_CERT_PROVIDER=istiod',
      'ISTIOD_CUSTOM_HOST=localhost,127.0.0.1', 'INJECT_ENABLED=false', 'PILOT_ENABLE_ANALYSIS=false',
      tool(this.binary), 'discovery', `--kubeconfig=${this.api.kubeconfigFile}`, `--meshConfig=${mesh}`, `--networksConfig=${join(home, 'networks.yaml')}`,
      `--grpcAddr=127.0.0.1:${p.grpc}`, `--secureGRPCAddr=127.0.0.1:${p.secureGrpc}`, `--monitoringAddr=127.0.0.1:${p.monitoring}`,
      `--httpsAddr=127.0.0.1:${p.https}`, `--httpAddr=127.0.0.1:${p.http}`, '--ctrlz_address=127.0.0.1', '--ctrlz_port=0',
      '--log_output_level=default:warn',
    ], false);
    this.istiodPid = r.pid;
    await eventually(async () => {
      const res = await request(`http://127.0.0.1:${p.http}/ready`, { signal: AbortSignal.timeout(1000) });
      await res.body.text();
      return res.statusCode === 200;
    }, { timeoutMs: 60_000, intervalMs: 100, describe: `istiod ready on 127.0.0.1:${p.http} (log: ${join(this.dir, 'istiod.log')})`, abort: () => this.group.exitOf(r.pid) });
  }

  /** Stops istiod only (the data plane keeps the config it has). */
  async stopIstiod(): Promise<void> {
    const pid = this.istiodPid;
    if (!pid) return;
    this.istiodPid = undefined;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    await eventually(() => !alive(pid), { timeoutMs: 10_000, intervalMs: 25, describe: `istiod (pid ${pid}) to exit` }).catch(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch { /* gone */ }
    });
  }

  get running(): boolean {
    return this.istiodPid !== undefined;
  }

  /** istiod's root certificate, from the ConfigMap it writes into every namespace. */
  async rootCert(namespace: string): Promise<string> {
    return eventually(async () => {
      const cm = await this.api.client.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert', namespace } }) as { data?: Record<string, string> };
      return cm.data?.['root-cert.pem'];
    }, { timeoutMs: 20_000, intervalMs: 100, describe: `istiod's istio-ca-root-cert ConfigMap in namespace ${namespace}` });
  }
}

/** The version a cached pilot-discovery reports (the 1.31 pin by default). */
export function istiodVersion(binary = ISTIOD_BUILDS[ISTIO_TIER_MINOR]!.tool): string {
  try {
    const out = execFileSync(tool(binary), ['version', '-s'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /client version:\s*(\S+)/.exec(out)?.[1] ?? out.trim();
  } catch (err) {
    if (err instanceof InfraError) throw err;
    throw new InfraError(`${binary} does not run: ${(err as Error).message}; rebuild it with bash scripts/build-istio.sh`);
  }
}
