/**
 * The real node's fixed settings, declared once: addresses, names and where its state lives. The node is
 * one per machine (its containerd socket and the kubelet's host paths are fixed), so these are constants
 * rather than options; only the context name is the user's choice.
 */
import { join } from 'node:path';
import { ledgerRoot } from '../ledger/ledger.js';

export const NODE = {
  /** The Node's name and the default kubeconfig context. */
  name: 'meshcheck-node',
  /** The node's address, on a veth pair of the project's own (the kubelet refuses a loopback node IP, and this kernel has no dummy driver). */
  ip: '10.250.0.1',
  nodeRange: '10.250.0.0/24',
  /** Pods' addresses, on the project's bridge. */
  podRange: '10.244.0.0/24',
  podGateway: '10.244.0.1',
  serviceRange: '10.96.0.0/24',
  /** The first Service address: the `kubernetes` Service, the API server from pods. */
  apiServiceIp: '10.96.0.1',
  /** The cluster DNS Service's address, the nameserver the kubelet gives pods. */
  dnsServiceIp: '10.96.0.10',
  bridge: 'mcnode0',
  veth: ['mcnode-ip0', 'mcnode-ip1'] as const,
  /** nftables table (inet) that keeps pod, Service and node traffic on the machine. */
  guardTable: 'meshcheck_node_guard',
  /** The API server listens on the node's address only (pods reach it there through the `kubernetes` Service). */
  apiPort: 6443,
  kubeletPort: 10250,
  /** containerd's socket must stay here: the kubelet's built-in cAdvisor looks for it at this path. */
  containerdSocket: '/run/containerd/containerd.sock',
  clusterDomain: 'cluster.local',
  /** Images the node runs are named under this prefix, which no registry serves. */
  imagePrefix: 'meshcheck.local',
} as const;

/**
 * Where the node says which images it has (a ConfigMap readable by anyone): the kube target takes its
 * echo workload and k6 images from there when it runs on the node and none are named.
 */
export const NODE_IMAGES_CONFIGMAP = { namespace: 'kube-public', name: 'meshcheck-node-images' } as const;

/** Where the node keeps its state (certificates, configs, etcd, containerd's root, logs). */
export function nodeStateDir(): string {
  return join(ledgerRoot(), '..', 'node');
}

/** The node's ledger run id: one node per machine. */
export const NODE_RUN_ID = 'cluster-node';

/**
 * Paths outside the state folder the components write to (hard-coded in them): removed at `down` when
 * they did not exist before `up`.
 */
export const HOST_PATHS = ['/var/lib/kubelet', '/var/log/containers', '/var/log/pods', '/var/lib/cni', '/run/containerd', '/etc/cni', '/opt/cni'] as const;

/** Top-level cgroups the kubelet (kubepods) and containerd (k8s.io, for ctr's containers) create in each hierarchy. */
export const NODE_CGROUPS = ['kubepods', 'k8s.io'] as const;

/**
 * sysctls the node's components change: the kubelet (overcommit, panic on oops and after a panic, the
 * root key quotas) and the bridge plugin (forwarding). Their values before `up` are put back at `down`;
 * left behind, kernel.panic_on_oops=1 turns a kernel oops into a reboot.
 */
export const NODE_SYSCTLS = [
  'net.ipv4.ip_forward', 'vm.overcommit_memory', 'vm.panic_on_oom', 'kernel.panic', 'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys', 'kernel.keys.root_maxbytes', 'net.bridge.bridge-nf-call-iptables',
] as const;
