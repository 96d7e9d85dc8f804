import { AppsV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { startTestCluster, type TestCluster } from './helpers/cluster.js';
import { eventually } from '../src/util/eventually.js';

/*
 * The kube tier's own cluster: a real control plane (kube-apiserver, etcd, kube-controller-manager,
 * kube-scheduler) with kwok's simulated nodes, on loopback. Real controllers roll a Deployment out.
 */
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster();
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

test('a Deployment rolls out on the simulated nodes: scheduled, Ready, Available', async () => {
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rollout' } } as KubernetesObject;
  await cluster.client.create(ns);
  await cluster.client.create({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'rollout' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53' }] } } },
  } as KubernetesObject);
  const apps = cluster.kubeconfig.makeApiClient(AppsV1Api);
  const d = await eventually(async () => {
    const got = await apps.readNamespacedDeployment({ name: 'web', namespace: 'rollout' });
    return got.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') && (got.status.readyReplicas ?? 0) === 3 ? got : undefined;
  }, { timeoutMs: 60_000, intervalMs: 250, describe: 'the Deployment Available with 3 ready replicas' });
  expect(d.status?.readyReplicas).toBe(3);
  const pods = await cluster.client.list('v1', 'Pod', 'rollout') as { items: { spec?: { nodeName?: string } }[] };
  expect(pods.items).toHaveLength(3);
  for (const p of pods.items) expect(cluster.nodes).toContain(p.spec?.nodeName);
}, 90_000);
