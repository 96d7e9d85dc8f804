/**
 * The real node's figures (needs root; `npm run bench` runs it when it may): `cluster up` to a Ready
 * Node, pods from create to Ready (20 at once), the kube target's bundled suite on --mesh none, Istio
 * installed and the bundled suite on its proxyless data plane and on its Envoy sidecars (with the
 * overhead scenario's figures), and `cluster down`. Each through the real CLI, with a kubeconfig and state folder of its own.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { PACKAGE_ROOT } from '../src/cli/paths.js';
import { NODE } from '../src/cluster/settings.js';
import { eventually } from '../src/util/eventually.js';

type Row = (what: string, value: string, bar: string, ok: boolean | undefined) => void;
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * p) - 1)]!;

/** "9 PASSED, 6 NOT_SUPPORTED": the outcomes of a run's record. */
function tally(out: string): string {
  const rec = JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as { scenarios: { outcome: string }[] };
  const outcomes = rec.scenarios.reduce<Record<string, number>>((a, s) => ({ ...a, [s.outcome]: (a[s.outcome] ?? 0) + 1 }), {});
  return Object.entries(outcomes).map(([k, v]) => `${v} ${k}`).join(', ');
}

/** The overhead scenario's verdicts in a run's record, as observed (added latency, sidecar CPU and memory). */
function overheadFigures(out: string): string {
  const rec = JSON.parse(readFileSync(join(out, 'run-record.json'), 'utf8')) as { scenarios: { name: string; verdicts: { claim: string; observed: string; outcome: string }[] }[] };
  const s = rec.scenarios.find((x) => /^Added latency/.test(x.name));
  return s ? s.verdicts.map((v) => `${v.claim}: ${v.outcome}, ${v.observed.replace(/\|/g, '/')}`).join('; ') : 'no overhead scenario in the run';
}

export async function nodeBench(row: Row): Promise<void> {
  const state = mkdtempSync(join(os.tmpdir(), 'meshcheck-bench-node-'));
  const kubeconfig = join(state, 'kubeconfig');
  const cli = (...args: string[]) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'meshcheck.js'), ...args], { env: { ...process.env, MESHCHECK_STATE_DIR: state }, encoding: 'utf8' });
    return { code: r.status, out: `${r.stdout}${r.stderr}`, s: (performance.now() - t0) / 1000 };
  };
  const up = cli('cluster', 'up', '--kubeconfig', kubeconfig);
  row('real node: cluster up -> Node Ready (control plane, containerd, image import, kubelet, kube-proxy, CoreDNS)', `${up.s.toFixed(1)} s (exit ${up.code})`, '<= 30 s once the tools are built', up.code === 0 && up.s <= 30);
  if (up.code !== 0) {
    process.stderr.write(up.out);
    return;
  }
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    kc.setCurrentContext(NODE.name);
    const client = KubernetesObjectApi.makeApiClient(kc);
    const core = kc.makeApiClient(CoreV1Api);
    const app = /images: (\S+) \(echo workload\)/.exec(up.out)![1]!;
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    const created = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const name = `p${i}`;
      created.set(name, Date.now());
      await client.create({
        apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'bench' },
        spec: { containers: [{ name: 'web', image: app, imagePullPolicy: 'Never', command: ['node', '-e', "require('http').createServer((q, s) => s.end('ok')).listen(8080)"], readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 } }] },
      } as KubernetesObject);
    }
    const readyAt = new Map<string, number>();
    await eventually(async () => {
      for (const p of (await core.listNamespacedPod({ namespace: 'bench' })).items) {
        const c = p.status?.conditions?.find((x) => x.type === 'Ready' && x.status === 'True');
        if (c && !readyAt.has(p.metadata!.name!)) readyAt.set(p.metadata!.name!, new Date(c.lastTransitionTime!).getTime());
      }
      return readyAt.size === 20;
    }, { timeoutMs: 180_000, intervalMs: 250, describe: '20 pods Ready' });
    // The Ready condition's time has a resolution of one second.
    const lat = [...readyAt].map(([n, t]) => Math.max(0, t - created.get(n)!) / 1000);
    row('real node: 20 pods created at once -> Ready (readiness probe every 1 s)', `p50 ${q(lat, 0.5).toFixed(1)} s, p99 ${q(lat, 0.99).toFixed(1)} s, max ${Math.max(...lat).toFixed(1)} s (Ready times are whole seconds)`, 'informational', undefined);
    await client.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });

    const out = join(state, 'run');
    const run = cli('run', '--target', 'kube', '--context', NODE.name, '--kubeconfig', kubeconfig, '--mesh', 'none', '--out', out, '--no-progress');
    row('real node: run --target kube --mesh none (bundled suite: workload, overhead loads as k6 Jobs)', `${run.s.toFixed(1)} s (${tally(out)}; exit ${run.code})`, 'informational; exit 0', undefined);

    // Real istiod as a pod (the node's image and charts), and the bundled suite on Istio's proxyless data plane.
    const install = cli('install', '--mesh', 'istio', '--context', NODE.name, '--kubeconfig', kubeconfig, '--with', 'none');
    row('real node: install --mesh istio (istio-base and istiod from the node\'s charts and images, istiod Ready)', `${install.s.toFixed(1)} s (exit ${install.code})`, 'informational', undefined);
    if (install.code !== 0) process.stderr.write(install.out);
    const istio = join(state, 'run-istio');
    const runIstio = cli('run', '--target', 'kube', '--context', NODE.name, '--kubeconfig', kubeconfig, '--mesh', 'istio@1.31', '--data-plane', 'proxyless', '--allow-changes-in', 'istio-system', '--out', istio, '--no-progress');
    row('real node: run --target kube --mesh istio --data-plane proxyless (bundled suite: grpc-agent pods, loads as meshed Jobs, istiod stopped and restarted)', `${runIstio.s.toFixed(1)} s (${tally(istio)}; exit ${runIstio.code})`, 'informational; exit 0', undefined);
    // The same install on Istio's Envoy sidecars (upstream Envoy under pilot-agent, Istio's iptables capture).
    const envoy = join(state, 'run-envoy');
    const runEnvoy = cli('run', '--target', 'kube', '--context', NODE.name, '--kubeconfig', kubeconfig, '--mesh', 'istio@1.31', '--data-plane', 'sidecar', '--allow-changes-in', 'istio-system', '--out', envoy, '--no-progress');
    row('real node: run --target kube --mesh istio --data-plane sidecar (bundled suite: upstream Envoy 1.40 sidecars, loads as meshed k6 Jobs, istiod stopped and restarted)', `${runEnvoy.s.toFixed(1)} s (${tally(envoy)}; exit ${runEnvoy.code})`, 'informational; exit 0', undefined);
    row('real node: Envoy sidecar overhead at 500 rps (bundled overhead scenario)', overheadFigures(envoy), 'informational', undefined);
  } finally {
    const down = cli('cluster', 'down');
    row('real node: cluster down (everything undone)', `${down.s.toFixed(1)} s (exit ${down.code})`, 'informational', undefined);
    // The benchmark's own folder (its kubeconfig, ledgers and run), once the node recorded in it is down.
    if (down.code === 0) rmSync(state, { recursive: true, force: true });
  }
}

/** `node dist/bench/node-bench.js`: the node's figures alone, printed and appended to bench/RESULTS.md like npm run bench's. */
if (process.argv[1]?.endsWith('node-bench.js')) {
  const rows: string[] = [];
  await nodeBench((what, value, bar, ok) => rows.push(`| ${what} | ${value} | ${bar} | ${ok === undefined ? '-' : ok ? 'met' : 'NOT met'} |`));
  const section = [
    `## ${new Date().toISOString().slice(0, 10)} — the real node alone; ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, ${os.platform()} ${os.release()}`,
    '', '| benchmark | result | bar | |', '|---|---|---|---|', ...rows, '',
  ].join('\n');
  process.stdout.write(`${section}\n`);
  appendFileSync(join(PACKAGE_ROOT, 'bench', 'RESULTS.md'), `\n${section}`);
}
