/**
 * A Kubernetes control plane with simulated nodes, on loopback: the test API server (etcd and
 * kube-apiserver), kube-controller-manager, kube-scheduler and kwok, all built from the Go module
 * proxy (scripts/build-kube-tools.sh). Deployments roll out and Jobs complete on kwok's nodes; no
 * container runs, so there is no data plane: what needs one cannot be checked here.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { eventually } from '../../src/util/eventually.js';
import { freePort } from '../../src/util/net.js';
import { startApiServer, type ApiServer } from '../../src/kube/apiserver.js';
import { tool, toolsBin } from '../../src/util/tools.js';

export interface TestCluster extends ApiServer {
  /** Names of the simulated nodes. */
  nodes: string[];
  /**
   * The file kwok serves as the log of every container named `k6` (what `kubectl logs` and the API
   * server's pods/log return for it), in the CRI log format a container runtime writes: a test puts a
   * real k6 output here before a Job's pods finish.
   */
  k6LogFile: string;
  /**
   * kwok forwards port 9081 of every pod (the echo workload's direct port; `kubectl port-forward`
   * and the API server's pods/portforward) to this port on loopback, where a test may run a real
   * echo workload: the instance controls go through the API server and kwok to it.
   */
  echoDirectPort: number;
  /**
   * kwok forwards port 15014 of every pod (istiod's debug port) to the loopback port written in this
   * file, read when each connection opens: a test that runs istiod here writes its debug port there,
   * and a port-forward to a pod named like istiod's reaches the real one.
   */
  istiodDebugPortFile: string;
  /**
   * The same for ports 8090 and 8086 (Linkerd's policy and destination controllers on its
   * destination pod): a test that runs a stand-in for them here writes its port there.
   */
  linkerdPolicyPortFile: string;
  /** The same for port 15000 (an Envoy sidecar's admin): a test that runs a stand-in Envoy admin writes its port there. */
  envoyAdminPortFile: string;
}

/** kwok's stages: nodes become Ready (and keep a lease), pods become Ready, complete, and go when deleted. */
const STAGES = ['node/fast/node-initialize.yaml', 'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml', 'pod/fast/pod-ready.yaml', 'pod/fast/pod-complete.yaml', 'pod/fast/pod-delete.yaml'];

export async function startTestCluster(log: (m: string) => void = () => undefined, nodeCount = 2): Promise<TestCluster> {
  const api = await startApiServer(log);
  try {
    const kc = `--kubeconfig=${api.kubeconfigFile}`;
    log('starting kube-controller-manager, kube-scheduler and kwok');
    await api.spawn('kube-controller-manager', tool('kube-controller-manager'), [kc, `--service-account-private-key-file=${join(api.dir, 'sa.key')}`, '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${await freePort()}`, '--use-service-account-credentials=false',
      // kwok heartbeats for the simulated nodes; on a busy 2-core machine it can fall behind, and a node
      // marked NotReady would stop pods from being scheduled: not what these tests are about.
      '--node-monitor-grace-period=10m']);
    await api.spawn('kube-scheduler', tool('kube-scheduler'), [kc, '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${await freePort()}`]);
    const stages = join(toolsBin(), '..', 'share', 'kwok-stage');
    // kwok's server stands in for the nodes' kubelets: the nodes' address and kubelet port point at it,
    // so the API server's pods/log (and exec, port-forward) reach it; the ClusterLogs config says which
    // file is which container's log.
    const kubeletPort = await freePort();
    const k6LogFile = join(api.dir, 'k6.log');
    writeFileSync(k6LogFile, '');
    const logConfig = join(api.dir, 'kwok-logs.yaml');
    writeFileSync(logConfig, `apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterLogs\nmetadata:\n  name: k6\nspec:\n  logs:\n  - containers: [k6]\n    logsFile: ${JSON.stringify(k6LogFile)}\n`);
    const echoDirectPort = await freePort();
    const forwardConfig = join(api.dir, 'kwok-forward.yaml');
    const istiodDebugPortFile = join(api.dir, 'istiod-debug-port');
    writeFileSync(istiodDebugPortFile, '0');
    const linkerdPolicyPortFile = join(api.dir, 'linkerd-policy-port');
    writeFileSync(linkerdPolicyPortFile, '0');
    const envoyAdminPortFile = join(api.dir, 'envoy-admin-port');
    writeFileSync(envoyAdminPortFile, '0');
    // A connection to the port the file names, carried over the forward's stdin and stdout.
    const pipe = 'const s=require("net").connect(+require("fs").readFileSync(process.argv[1],"utf8"),"127.0.0.1");process.stdin.pipe(s);s.pipe(process.stdout);s.on("error",()=>process.exit(1))';
    writeFileSync(forwardConfig, `apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterPortForward\nmetadata:\n  name: echo-direct\nspec:\n  forwards:\n  - ports: [9081]\n    target: {port: ${echoDirectPort}, address: 127.0.0.1}\n  - ports: [15014]\n    command: ${JSON.stringify([process.execPath, '-e', pipe, istiodDebugPortFile])}\n  - ports: [8090, 8086]\n    command: ${JSON.stringify([process.execPath, '-e', pipe, linkerdPolicyPortFile])}\n  - ports: [15000]\n    command: ${JSON.stringify([process.execPath, '-e', pipe, envoyAdminPortFile])}\n`);
    await api.spawn('kwok', tool('kwok'), [kc, '--manage-all-nodes=false', '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake', `--server-address=127.0.0.1:${kubeletPort}`, '--node-ip=127.0.0.1', `--node-port=${kubeletPort}`, '-c', [...STAGES.map((s) => join(stages, s)), logConfig, forwardConfig].join(',')]);
    const nodes = Array.from({ length: nodeCount }, (_, i) => `kwok-node-${i}`);
    for (const name of nodes) await api.client.create(fakeNode(name));
    await eventually(async () => {
      for (const name of nodes) {
        const n = await api.client.read({ apiVersion: 'v1', kind: 'Node', metadata: { name } }) as { status?: { conditions?: { type: string; status: string }[] } };
        if (!n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return false;
      }
      return true;
    }, { timeoutMs: 60_000, intervalMs: 200, describe: `kwok's ${nodeCount} simulated nodes Ready` });
    log(`cluster ready: ${nodeCount} simulated nodes`);
    return { ...api, nodes, k6LogFile, echoDirectPort, istiodDebugPortFile, linkerdPolicyPortFile, envoyAdminPortFile };
  } catch (err) {
    await api.stop();
    throw err;
  }
}

/** A node kwok manages (its annotation), with room for the workloads meshcheck deploys. */
function fakeNode(name: string): KubernetesObject {
  const resources = { cpu: '32', memory: '256Gi', pods: '110' };
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
    },
    // Both kinds of address from the start: kwok's node-initialize stage, run again when the node
    // controller marks a node Unknown (after an API server restart), writes an empty address list
    // when only one of them is there. The API server reaches the "kubelet" (kwok) at the InternalIP.
    status: { allocatable: resources, capacity: resources, nodeInfo: { architecture: 'amd64', operatingSystem: 'linux' }, addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: name }] },
  } as KubernetesObject;
}
