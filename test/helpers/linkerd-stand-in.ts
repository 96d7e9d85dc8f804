import { spawn } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type KubernetesObject, type KubernetesObjectApi } from '@kubernetes/client-node';
import { tool } from '../../src/util/tools.js';

type Obj = KubernetesObject & { spec?: Record<string, unknown> };

/**
 * A STAND-IN for Linkerd's policy controller (and, for a ServiceProfile, its destination
 * controller: each one served as its profile), for the kube tier's tests only (the real one is a
 * Rust program that cannot be built here). meshcheck-policy's `linkerd-stand-in` serves the real
 * gRPC API (InboundServerPolicies.GetPort, Linkerd's published definitions) from a file; this loop
 * writes that file from the cluster every 200 ms, for the pods of meshcheck's namespaces: a port a
 * Server selects (by matchLabels and port name) is served from it, with the AuthorizationPolicies
 * that target it whose MeshTLSAuthentication is there (identities as
 * SA.NS.serviceaccount.identity.linkerd.cluster.local) and its accessPolicy as a default
 * authorization; any other port from the default policy the pod's namespace carried
 * (config.linkerd.io/default-inbound-policy) when the stand-in first saw the pod, as a pod reads
 * it when it starts, else `clusterDefault` (the install's proxy.defaultInboundPolicy). Policies named in
 * `leaveOut` are never served, as the controller leaves out a policy it cannot resolve. It tests
 * meshcheck's wait on what the controller serves; it shows nothing about Linkerd itself.
 */
export async function linkerdStandIn(kc: KubeConfig, client: KubernetesObjectApi, dir: string, portFile: string, leaveOut: string[] = [], clusterDefault = 'all-unauthenticated'): Promise<{ stop: () => Promise<void>; served: Set<string> }> {
  const file = join(dir, `linkerd-stand-in-${process.pid}.json`);
  writeFileSync(file, '{}');
  const child = spawn(tool('meshcheck-policy'), ['linkerd-stand-in', JSON.stringify({ file })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const addr = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\{.*\})/.exec(out);
      if (m) resolve((JSON.parse(m[1]!) as { addr: string }).addr);
    });
    child.once('exit', (code) => reject(new Error(`linkerd stand-in exited ${code}`)));
  });
  writeFileSync(portFile, addr.split(':').pop()!);
  const core = kc.makeApiClient(CoreV1Api);
  const list = async (apiVersion: string, kind: string) => ((await client.list(apiVersion, kind).catch(() => ({ items: [] }))).items as Obj[]).filter((o) => o.metadata!.namespace!.startsWith('meshcheck-'));
  /** "Server ns/name": every answer it served from that Server, for the test to see. */
  const served = new Set<string>();
  /** Pod uid -> the namespace's default policy when the pod was first seen (its start). */
  const startedWith = new Map<string, string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const servers = await list('policy.linkerd.io/v1beta3', 'Server');
      const policies = await list('policy.linkerd.io/v1alpha1', 'AuthorizationPolicy');
      const mtas = await list('policy.linkerd.io/v1alpha1', 'MeshTLSAuthentication');
      const profiles = await list('linkerd.io/v1alpha2', 'ServiceProfile');
      const pods = (await core.listPodForAllNamespaces().catch(() => ({ items: [] }))).items.filter((p) => p.metadata!.namespace!.startsWith('meshcheck-'));
      // Read after the pods: a pod created since the last round was created before this read, so it
      // is never given a namespace default older than the one it started with (on a busy machine a
      // round takes long enough for a restart to fall between the two reads).
      const namespaces = (await core.listNamespace().catch(() => ({ items: [] }))).items;
      const answers: Record<string, unknown> = {};
      for (const pod of pods) {
        const ns = pod.metadata!.namespace!;
        if (!startedWith.has(pod.metadata!.uid!)) startedWith.set(pod.metadata!.uid!, namespaces.find((n) => n.metadata!.name === ns)?.metadata?.annotations?.['config.linkerd.io/default-inbound-policy'] ?? clusterDefault);
        const fallback = startedWith.get(pod.metadata!.uid!)!;
        const ports = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
        for (const port of ports) {
          const server = servers.find((s) => s.metadata!.namespace === ns && (s.spec!.port === port.containerPort || s.spec!.port === port.name)
            && Object.entries((s.spec!.podSelector as { matchLabels?: Record<string, string> }).matchLabels ?? {}).every(([k, v]) => pod.metadata!.labels?.[k] === v));
          const key = `${ns}:${pod.metadata!.name}:${port.containerPort}`;
          if (!server) {
            answers[key] = { labels: { group: '', kind: 'default', name: fallback }, authorizations: [{ labels: { group: '', kind: 'default', name: fallback }, metadata: { default: fallback }, authentication: { unauthenticated: {} } }] };
            continue;
          }
          const name = server.metadata!.name!;
          const authorizations = policies
            .filter(
              (p) =>
                p.metadata!.namespace === ns &&
                (p.spec!.targetRef as { kind: string; name: string }).name === name &&
                !leaveOut.includes(p.metadata!.name!),
            )
            .flatMap((p) => {
              const ref = (p.spec!.requiredAuthenticationRefs as { kind: string; name: string }[]).find((r) => r.kind === 'MeshTLSAuthentication');
              const mta = ref && mtas.find((m) => m.metadata!.namespace === ns && m.metadata!.name === ref.name);
              if (ref && !mta) return [];
              const ids = ((mta?.spec?.identityRefs as { name: string }[] | undefined) ?? []).map((r) => ({
                name: `${r.name}.${ns}.serviceaccount.identity.linkerd.cluster.local`,
              }));
              const resource = { group: 'policy.linkerd.io', kind: 'authorizationpolicy', name: p.metadata!.name };
              return [
                {
                  labels: { group: resource.group, kind: resource.kind, name: resource.name },
                  metadata: { resource },
                  authentication: mta ? { meshTLS: { identities: { identities: ids } } } : { unauthenticated: {} },
                },
              ];
            });
          const access = server.spec!.accessPolicy as string | undefined;
          if (access && access !== 'deny') authorizations.push({ labels: { group: '', kind: 'default', name: access }, metadata: { default: access } as never, authentication: { unauthenticated: {} } });
          answers[key] = { labels: { group: 'policy.linkerd.io', kind: 'server', name }, authorizations };
          served.add(`Server ${ns}/${name}`);
        }
      }
      // The destination controller: each ServiceProfile as its profile (routes named in metricsLabels).
      for (const sp of profiles) {
        const routes = ((sp.spec!.routes as { name: string; isRetryable?: boolean; timeout?: string }[] | undefined) ?? []).map((r) => ({ metricsLabels: { route: r.name }, isRetryable: Boolean(r.isRetryable), ...(r.timeout ? { timeout: `${parseFloat(r.timeout) / (r.timeout.endsWith('ms') ? 1000 : 1)}s` } : {}) }));
        const budget = sp.spec!.retryBudget as { retryRatio: number; minRetriesPerSecond: number; ttl: string } | undefined;
        answers[`profile:${sp.metadata!.name}`] = { fullyQualifiedName: sp.metadata!.name, routes, ...(budget ? { retryBudget: { retryRatio: budget.retryRatio, minRetriesPerSecond: budget.minRetriesPerSecond, ttl: budget.ttl } } : {}) };
        served.add(`ServiceProfile ${sp.metadata!.namespace}/${sp.metadata!.name}`);
      }
      try {
        writeFileSync(`${file}.tmp`, JSON.stringify(answers));
        // Renamed into place, so the server never reads half a file.
        renameSync(`${file}.tmp`, file);
      } catch {
        // The cluster's folder is gone: the test is over.
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    served,
    stop: async () => {
      running = false;
      await loop;
      child.kill();
      writeFileSync(portFile, '0');
    },
  };
}
