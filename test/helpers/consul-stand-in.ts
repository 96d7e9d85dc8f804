import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';

/**
 * A STAND-IN for consul-k8s's config-entry controller, for the kube tier's tests only. No Consul
 * server runs here, so nothing would ever sync an entry. It writes on every consul.hashicorp.com
 * object meshcheck applied the status consul-k8s writes after a sync (Synced True and
 * lastSyncedTime, each time the object's generation moves), or, for the kinds named in `fail`,
 * Synced False with the reason consul-k8s gives when Consul refuses the write. It tests meshcheck's
 * wait on that status; it is not Consul and shows nothing about Consul itself.
 */
export function consulStandIn(
  kc: KubeConfig,
  kinds: { plural: string; version: string }[],
  fail: Record<string, string> = {},
): { stop: () => Promise<void>; synced: string[]; lastGeneration: Map<string, number> } {
  const api = kc.makeApiClient(CustomObjectsApi);
  const written = new Map<string, number>();
  const synced: string[] = [];
  /** "Kind name" -> the last generation it wrote a status for. */
  const lastGeneration = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const { plural, version } of kinds) {
        const list = await api
          .listClusterCustomObject({ group: 'consul.hashicorp.com', version, plural, labelSelector: 'app.kubernetes.io/managed-by=meshcheck' })
          .catch(() => ({ items: [] }));
        for (const o of (list as { items: (KubernetesObject & { status?: unknown })[] }).items) {
          const m = o.metadata!;
          if (written.get(m.uid!) === m.generation) continue;
          const reason = fail[o.kind!];
          const status = reason
            ? {
                conditions: [
                  {
                    type: 'Synced',
                    status: 'False',
                    reason: 'ConsulAgentError',
                    message: reason,
                    lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
                  },
                ],
              }
            : {
                conditions: [{ type: 'Synced', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
                lastSyncedTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
              };
          // A conflict (the object changed meanwhile) is taken up on the next round.
          const ok = await api
            .replaceNamespacedCustomObjectStatus({
              group: 'consul.hashicorp.com',
              version,
              namespace: m.namespace!,
              plural,
              name: m.name!,
              body: { ...o, status },
            })
            .then(
              () => true,
              () => false,
            );
          if (ok) {
            written.set(m.uid!, m.generation!);
            synced.push(`${o.kind} ${m.name} ${reason ? 'False' : 'True'}`);
            lastGeneration.set(`${o.kind} ${m.name}`, m.generation!);
          }
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    synced,
    lastGeneration,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
