import { InfraError } from '../../errors.js';
import type { K8sObject } from '../../kube/objects.js';
import { keyOf } from '../../kube/status.js';
import { StatusPolicyWatch, type ReadBack, type ReadBackChange } from '../status-watch.js';
import type { ClusterAccess, PolicyWatch } from '../types.js';
import { SIDECAR_CONTAINER } from './facts.js';
import { osmPushes, resourceVersions, SidecarVersions, type Versions } from './sidecar-pushes.js';

const same = (a: K8sObject) => (b: K8sObject) => a.kind === b.kind && a.metadata.name === b.metadata.name && a.metadata.namespace === b.metadata.namespace;

/**
 * OSM writes no status on its SMI objects, MeshConfig or Retry: a change is in effect once every
 * Envoy sidecar of the namespace accepted OSM's push of it (sidecar-pushes.ts).
 */
class AcceptedBySidecars implements ReadBack {
  constructor(private readonly c: ClusterAccess) {}

  covers(o: K8sObject): boolean {
    return osmPushes(o);
  }

  async prepare(before: readonly K8sObject[], after: readonly K8sObject[]): Promise<ReadBackChange | undefined> {
    // The objects whose change OSM pushes, on the way there and back.
    const pushed = [...before, ...after.filter((o) => !before.some(same(o)))].filter(osmPushes);
    if (!pushed.length) return undefined;
    const sidecars = new SidecarVersions(this.c.kc, this.c.namespace, SIDECAR_CONTAINER);
    const baseline = async (): Promise<{ versions: Versions; rv: string[] }> => {
      try {
        const versions = await sidecars.read();
        if (!versions.size) throw new InfraError(`no running pod of ${this.c.namespace} has OSM's ${SIDECAR_CONTAINER} sidecar, whose accepted config says when OSM's objects are in effect: is OSM's injector running, and does the namespace carry openservicemesh.io/monitored-by?`);
        return { versions, rv: await resourceVersions(this.c.client, pushed) };
      } finally {
        sidecars.close();
      }
    };
    const change = async (): Promise<ReadBackChange> => {
      const base = await baseline();
      return {
        until: async ({ appliedAt }) => {
          try {
            // A change the API server saw as none (an apply of what was there) makes OSM push nothing.
            const moved = (await resourceVersions(this.c.client, pushed)).some((v, i) => v !== base.rv[i]);
            return moved ? await sidecars.until(base.versions, appliedAt.getTime(), this.c.timeoutMs) : [{ object: pushed.map(keyOf).join(', '), how: 'unchanged by this step, so OSM pushes nothing' }];
          } finally {
            sidecars.close();
          }
        },
        back: change,
        by: () => "osm's sidecars accepted its push",
        evidenceName: () => "in effect: what osm's Envoy sidecars accepted (config_dump versions)",
      };
    };
    return change();
  }
}

/** OSM's watch: what its Envoy sidecars accepted, for every object of its own. */
export function osmWatch(c: ClusterAccess): PolicyWatch {
  return new StatusPolicyWatch(c, { mesh: 'osm', readBack: new AcceptedBySidecars(c) });
}
