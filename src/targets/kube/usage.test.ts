import { samplesOf, sidecarUsage } from './usage.js';

const CADVISOR = `# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="istio-proxy",cpu="total",id="/kubepods/pod1/c1",image="docker.io/istio/proxyv2:1.30.3",name="c1",namespace="meshcheck-r1",pod="reviews-v1-abc"} 12.5 1733380000000
container_cpu_usage_seconds_total{container="",cpu="total",id="/kubepods/pod1",namespace="meshcheck-r1",pod="reviews-v1-abc"} 30.25 1733380000000
container_memory_working_set_bytes{container="istio-proxy",id="/kubepods/pod1/c1",namespace="meshcheck-r1",pod="reviews-v1-abc"} 5.24288e+07
container_memory_working_set_bytes{container="app",id="/x",namespace="meshcheck-r1",pod="weird\\"pod"} 1
container_fs_reads_total{container="istio-proxy",namespace="meshcheck-r1",pod="reviews-v1-abc"} 3
`;

test("cAdvisor's lines: the named metrics only, labels read (escaped quotes too), values as numbers, collection times kept where given", () => {
  const s = samplesOf(CADVISOR, ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes']);
  expect(s).toHaveLength(4);
  expect(s[0]).toEqual({ name: 'container_cpu_usage_seconds_total', labels: expect.objectContaining({ container: 'istio-proxy', pod: 'reviews-v1-abc', namespace: 'meshcheck-r1' }), value: 12.5, at: 1733380000000 });
  expect(s[1]!.labels.container).toBe('');
  expect(s[2]!.value).toBe(52428800);
  expect(s[2]!.at).toBeUndefined();
  expect(s[3]!.labels.pod).toBe('weird"pod');
});

test("each sidecar's cumulative CPU and working set, by pod, from each node's cAdvisor; a sidecar cAdvisor does not list is named", async () => {
  const pods = [{ name: 'reviews-v1-abc', node: 'n1', service: 'reviews' }];
  const read = async (node: string) => (node === 'n1' ? CADVISOR : '');
  expect(await sidecarUsage(read, 'meshcheck-r1', 'istio-proxy', pods)).toEqual([{ instance: 'reviews-v1-abc', service: 'reviews', pid: 0, cpuSeconds: 12.5, rssBytes: 52428800, collectedAt: 1733380000000 }]);
  await expect(sidecarUsage(read, 'meshcheck-r1', 'linkerd-proxy', pods)).rejects.toThrow('sidecar CPU and memory: cAdvisor on node n1 has no container_cpu_usage_seconds_total for container linkerd-proxy of pod meshcheck-r1/reviews-v1-abc');
  await expect(sidecarUsage(read, 'meshcheck-r1', 'istio-proxy', [{ ...pods[0]!, node: 'n2' }])).rejects.toThrow(/on node n2 has no container_cpu_usage_seconds_total/);
});
