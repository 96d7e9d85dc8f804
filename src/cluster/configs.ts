/**
 * The real node's certificates and configuration files, written into its state folder. Every component
 * talks to the API server on the node's address with a certificate of its own; the kubelet serves on the
 * node's address only; nothing listens beyond loopback and the node's own veth.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LocalCa, type CertSubject } from '../dataplane/pki.js';
import { NODE } from './settings.js';

/** Paths of what `writeNodeFiles` writes. */
export function nodeFiles(dir: string) {
  const pki = join(dir, 'pki');
  return {
    pki,
    ca: join(pki, 'ca.crt'),
    cert: (name: string) => join(pki, `${name}.crt`),
    key: (name: string) => join(pki, `${name}.key`),
    saKey: join(pki, 'sa.key'),
    saPub: join(pki, 'sa.pub'),
    kubeconfig: (name: string) => join(dir, `${name}.kubeconfig`),
    containerd: join(dir, 'etc', 'containerd.toml'),
    registryHosts: join(dir, 'etc', 'registry-hosts'),
    cniConf: join(dir, 'etc', 'cni'),
    kubelet: join(dir, 'etc', 'kubelet.yaml'),
    kubeProxy: join(dir, 'etc', 'kube-proxy.yaml'),
    logs: join(dir, 'logs'),
    var: join(dir, 'var'),
    run: join(dir, 'run'),
  };
}

export const API_URL = `https://${NODE.ip}:${NODE.apiPort}`;

/** Who each component is to the API server (RBAC reads the CN as the user, O as the group). */
const CLIENTS: Record<string, CertSubject> = {
  admin: { cn: 'meshcheck-node-admin', o: 'system:masters', clientOnly: true },
  'apiserver-kubelet-client': { cn: 'kube-apiserver-kubelet-client', o: 'system:masters', clientOnly: true },
  'controller-manager': { cn: 'system:kube-controller-manager', clientOnly: true },
  scheduler: { cn: 'system:kube-scheduler', clientOnly: true },
  'kube-proxy': { cn: 'system:kube-proxy', clientOnly: true },
  kubelet: { cn: `system:node:${NODE.name}`, o: 'system:nodes', clientOnly: true },
};

/** Certificates (valid 30 days), the service-account key pair and one kubeconfig per client. */
export async function writePki(dir: string): Promise<void> {
  const f = nodeFiles(dir);
  mkdirSync(f.pki, { recursive: true, mode: 0o700 });
  const ca = await LocalCa.create('meshcheck node', 30);
  writeFileSync(f.ca, ca.pem);
  const write = (name: string, pem: { cert: string; key: string }) => {
    writeFileSync(f.cert(name), pem.cert);
    writeFileSync(f.key(name), pem.key, { mode: 0o600 });
  };
  const svc = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${NODE.clusterDomain}`];
  write('apiserver', await ca.issueFor({ cn: 'kube-apiserver', dns: ['localhost', ...svc], ips: ['127.0.0.1', NODE.apiServiceIp, NODE.ip] }));
  write('kubelet-serving', await ca.issueFor({ cn: NODE.name, dns: [NODE.name], ips: [NODE.ip] }));
  for (const [name, subject] of Object.entries(CLIENTS)) {
    write(name, await ca.issueFor(subject));
    writeFileSync(f.kubeconfig(name), kubeconfig(f.ca, f.cert(name), f.key(name)), { mode: 0o600 });
  }
  const sa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeFileSync(f.saKey, sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(f.saPub, sa.publicKey.export({ type: 'spki', format: 'pem' }));
}

function kubeconfig(ca: string, cert: string, key: string): string {
  return stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: NODE.name, cluster: { server: API_URL, 'certificate-authority': ca } }],
    users: [{ name: NODE.name, user: { 'client-certificate': cert, 'client-key': key } }],
    contexts: [{ name: NODE.name, context: { cluster: NODE.name, user: NODE.name } }],
    'current-context': NODE.name,
  });
}

/** containerd, registry hosts, CNI, kubelet and kube-proxy configuration. */
export function writeConfigs(dir: string, o: { sandboxImage: string; kubeProxyHealthPort: number; kubeProxyMetricsPort: number }): void {
  const f = nodeFiles(dir);
  for (const d of [join(dir, 'etc'), f.cniConf, join(f.registryHosts, '_default'), f.logs, f.var, f.run]) mkdirSync(d, { recursive: true });
  writeFileSync(f.containerd, containerdToml(dir, o.sandboxImage));
  // No registry is reachable, and none may be tried: every registry host resolves to a loopback port
  // that refuses at once, so a missing image fails its pull in milliseconds (and names the image).
  writeFileSync(join(f.registryHosts, '_default', 'hosts.toml'), 'server = "https://127.0.0.1:1"\n');
  writeFileSync(join(f.cniConf, '10-meshcheck-node.conflist'), JSON.stringify({
    cniVersion: '1.0.0', name: 'meshcheck-node',
    plugins: [{
      type: 'bridge', bridge: NODE.bridge, isGateway: true, ipMasq: false, hairpinMode: true,
      ipam: { type: 'host-local', dataDir: join(f.var, 'cni-ipam'), ranges: [[{ subnet: NODE.podRange, gateway: NODE.podGateway }]], routes: [{ dst: '0.0.0.0/0' }] },
    }],
  }, null, 2));
  writeFileSync(f.kubelet, stringify(kubeletConfig(f)));
  writeFileSync(f.kubeProxy, stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'iptables', hostnameOverride: NODE.name,
    clientConnection: { kubeconfig: f.kubeconfig('kube-proxy') },
    bindAddress: NODE.ip, healthzBindAddress: `127.0.0.1:${o.kubeProxyHealthPort}`, metricsBindAddress: `127.0.0.1:${o.kubeProxyMetricsPort}`,
    clusterCIDR: NODE.podRange,
    // NodePorts only on the node's own address (never on the machine's uplink), none on loopback
    // (that would set route_localnet); conntrack values of 0 leave the host's conntrack sysctls alone.
    nodePortAddresses: [`${NODE.ip}/32`], iptables: { localhostNodePorts: false },
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  }));
}

function containerdToml(dir: string, sandboxImage: string): string {
  const f = nodeFiles(dir);
  return `# containerd 2.x for meshcheck's real node (written by meshcheck cluster up)
version = 3
root = "${join(f.var, 'containerd')}"
state = "${join(f.run, 'containerd')}"
disabled_plugins = ["io.containerd.nri.v1.nri"]

[grpc]
  address = "${NODE.containerdSocket}"

[ttrpc]
  address = ""

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = "overlayfs"
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = "${sandboxImage}"
    [plugins.'io.containerd.cri.v1.images'.registry]
      config_path = "${f.registryHosts}"

  [plugins.'io.containerd.cri.v1.runtime']
    enable_selinux = false
    netns_mounts_under_state_dir = true
    # Root here has no CAP_SYS_RESOURCE: runc cannot lower oom_score_adj below containerd's own, and every
    # sandbox failed with "can't get final child's PID from pipe". Clamp instead of failing.
    restrict_oom_score_adj = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = "runc"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = "/usr/sbin/runc"
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ["/usr/lib/cni"]
      conf_dir = "${f.cniConf}"
      max_conf_num = 1
`;
}

function kubeletConfig(f: ReturnType<typeof nodeFiles>) {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration',
    // This machine mounts cgroup v1; the kubelet refuses it since 1.35 unless told otherwise, and there is no systemd.
    failCgroupV1: false, cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: `unix://${NODE.containerdSocket}`,
    address: NODE.ip, port: NODE.kubeletPort, readOnlyPort: 0, healthzPort: 0,
    tlsCertFile: f.cert('kubelet-serving'), tlsPrivateKeyFile: f.key('kubelet-serving'),
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: f.ca } },
    authorization: { mode: 'Webhook' },
    // Pods get the cluster DNS (which forwards nothing) and none of the machine's nameservers: nothing in
    // them resolves, and sends to, an outside name.
    resolvConf: '', clusterDomain: NODE.clusterDomain, clusterDNS: [NODE.dnsServiceIp],
    podLogsDir: join(f.var, 'log', 'pods'),
    failSwapOn: false, maxPods: 60, serializeImagePulls: false, podPidsLimit: 1024,
    // The node's images are imported, not pulled: image garbage collection must never remove them, and a
    // busy CI disk must not taint the node.
    imageGCHighThresholdPercent: 100, imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
  };
}
