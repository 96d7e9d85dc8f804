import { spawn } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type KubernetesObject, type KubernetesObjectApi } from '@kubernetes/client-node';
import { tool } from '../../src/kube/tools.js';

type Obj = KubernetesObject & { spec?: Record<string, unknown> };

/**
 * A STAND-IN for Linkerd's policy controller, for the kube tier's tests only (the real one is a
 * Rust program that cannot be built here). meshcheck-policy's `linkerd-stand-in` serves the real
 * gRPC API (InboundServerPolicies.GetPort, Linkerd's published definitions) from a file; this loop
 * writes that file from the cluster every 200 ms, for the pods of meshcheck's namespaces: a port a
 * Server selects (by matchLabels and port name) is served from it, with the AuthorizationPolicies
 * that target it whose MeshTLSAuthentication is there (identities as
 * SA.NS.serviceaccount.identity.linkerd.cluster.local) and its accessPolicy as a default
 * authorization; any other port from the default policy all-unauthenticated. Policies named in
 * `leaveOut` are never served, as the controller leaves out a policy it cannot resolve. It tests
 * meshcheck's wait on what the controller serves; it shows nothing about Linkerd itself.
 */
export async function linkerdStandIn(kc: KubeConfig, client: KubernetesObjectApi, dir: string, portFile: string, leaveOut: string[] = []): Promise<{ stop: () => Promise<void>; served: Set<string> }> {
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
  let running = true;
  const loop = (async () => {
    while (running) {
      const servers = await list('policy.linkerd.io/v1beta3', 'Server');
      const policies = await list('policy.linkerd.io/v1alpha1', 'AuthorizationPolicy');
      const mtas = await list('policy.linkerd.io/v1alpha1', 'MeshTLSAuthentication');
      const pods = (await core.listPodForAllNamespaces().catch(() => ({ items: [] }))).items.filter((p) => p.metadata!.namespace!.startsWith('meshcheck-'));
      const answers: Record<string, unknown> = {};
      for (const pod of pods) {
        const ns = pod.metadata!.namespace!;
        const ports = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
        for (const port of ports) {
          const server = servers.find((s) => s.metadata!.namespace === ns && (s.spec!.port === port.containerPort || s.spec!.port === port.name)
            && Object.entries((s.spec!.podSelector as { matchLabels?: Record<string, string> }).matchLabels ?? {}).every(([k, v]) => pod.metadata!.labels?.[k] === v));
          const key = `${ns}:${pod.metadata!.name}:${port.containerPort}`;
          if (!server) {
            answers[key] = { labels: { group: '', kind: 'default', name: 'all-unauthenticated' }, authorizations: [{ labels: { group: '', kind: 'default', name: 'all-unauthenticated' }, metadata: { default: 'all-unauthenticated' }, authentication: { unauthenticated: {} } }] };
            continue;
          }
          const name = server.metadata!.name!;
          const authorizations = policies.filter((p) => p.metadata!.namespace === ns && (p.spec!.targetRef as { kind: string; name: string }).name === name && !leaveOut.includes(p.metadata!.name!)).flatMap((p) => {
            const ref = (p.spec!.requiredAuthenticationRefs as { kind: string; name: string }[]).find((r) => r.kind === 'MeshTLSAuthentication');
            const mta = ref && mtas.find((m) => m.metadata!.namespace === ns && m.metadata!.name === ref.name);
            if (ref && !mta) return [];
            const ids = ((mta?.spec?.identityRefs as { name: string }[] | undefined) ?? []).map((r) => ({ name: `${r.name}.${ns}.serviceaccount.identity.linkerd.cluster.local` }));
            const resource = { group: 'policy.linkerd.io', kind: 'authorizationpolicy', name: p.metadata!.name };
            return [{ labels: { group: resource.group, kind: resource.kind, name: resource.name }, metadata: { resource }, authentication: mta ? { meshTLS: { identities: { identities: ids } } } : { unauthenticated: {} } }];
          });
          const access = server.spec!.accessPolicy as string | undefined;
          if (access && access !== 'deny') authorizations.push({ labels: { group: '', kind: 'default', name: access }, metadata: { default: access } as never, authentication: { unauthenticated: {} } });
          answers[key] = { labels: { group: 'policy.linkerd.io', kind: 'server', name }, authorizations };
          served.add(`Server ${ns}/${name}`);
        }
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
