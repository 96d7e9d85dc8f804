/** Pinned public images of what meshcheck deploys on a cluster (none of them built by meshcheck). */
export const IMAGES = {
  /** A stock Node.js image: it runs meshcheck's echo workload (src/workload/echo.mjs) from a ConfigMap. */
  app: 'docker.io/library/node:22.12.0-alpine',
  /** Envoy, for the error and delay backends that emulate faults on meshes without fault injection. */
  envoy: 'docker.io/envoyproxy/envoy:v1.35.3',
} as const;

/**
 * An image as the cluster should pull it: from the mirror when one is named (`--image-mirror
 * registry.example.com/mirror` turns docker.io/grafana/k6:2.2.0 into
 * registry.example.com/mirror/grafana/k6:2.2.0: the registry host is replaced, the path kept).
 */
export function imageRef(ref: string, mirror?: string): string {
  if (!mirror) return ref;
  const slash = ref.indexOf('/');
  return `${mirror.replace(/\/+$/, '')}/${slash < 0 ? ref : ref.slice(slash + 1)}`;
}

