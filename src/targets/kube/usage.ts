import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { InfraError } from '../../errors.js';
import type { SidecarStats } from '../ports.js';
import { apiErrorMessage } from '../../kube/client.js';

/** One cAdvisor sample: the metric's labels, value, and when it was collected (ms since the epoch), where given. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  at?: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}\s+(\S+)(?:\s+(\d+))?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of the named metrics in Prometheus text output (the exposition format's labelled lines). */
export function samplesOf(text: string, names: readonly string[]): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!names.some((n) => line.startsWith(`${n}{`))) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of m[2]!.matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]), ...(m[4] ? { at: Number(m[4]) } : {}) });
  }
  return out;
}

/** Reads a node's cAdvisor metrics (Prometheus text). */
export type CadvisorReader = (node: string) => Promise<string>;

/** cAdvisor on a node through the API server's node proxy (the nodes/proxy permission), as a kubelet serves it. */
export function throughNodeProxy(kc: KubeConfig): CadvisorReader {
  const core = kc.makeApiClient(CoreV1Api);
  return async (node) => {
    try {
      return await core.connectGetNodeProxyWithPath({ name: node, path: 'metrics/cadvisor' });
    } catch (err) {
      throw new InfraError(`sidecar CPU and memory: reading cAdvisor on node ${node} (nodes/proxy, metrics/cadvisor): ${apiErrorMessage(err)}`);
    }
  };
}

/**
 * Each sidecar's CPU-seconds so far and working-set memory, from cAdvisor on the nodes that run the
 * pods: cumulative CPU, so the usage of a load is the difference of two reads, as on the local target.
 */
export async function sidecarUsage(
  read: CadvisorReader,
  namespace: string,
  container: string,
  pods: readonly { name: string; node: string; service: string }[],
): Promise<SidecarStats[]> {
  const out: SidecarStats[] = [];
  for (const node of [...new Set(pods.map((p) => p.node))]) {
    const samples = samplesOf(await read(node), ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes']).filter(
      (s) => s.labels.namespace === namespace && s.labels.container === container,
    );
    for (const p of pods.filter((x) => x.node === node)) {
      const cpu = samples.find((s) => s.name === 'container_cpu_usage_seconds_total' && s.labels.pod === p.name);
      const mem = samples.find((s) => s.name === 'container_memory_working_set_bytes' && s.labels.pod === p.name);
      if (!cpu || !mem)
        throw new InfraError(
          `sidecar CPU and memory: cAdvisor on node ${node} has no ${!cpu ? 'container_cpu_usage_seconds_total' : 'container_memory_working_set_bytes'} for container ${container} of pod ${namespace}/${p.name}`,
        );
      out.push({ instance: p.name, service: p.service, pid: 0, cpuSeconds: cpu.value, rssBytes: mem.value, ...(cpu.at ? { collectedAt: cpu.at } : {}) });
    }
  }
  return out;
}
