import { UsageError } from '../../errors.js';
import { checkedBy, type OptionSpec, type OptionValues } from '../../options.js';
import { allowedNamespaces } from './guard.js';

/** `--prometheus-service NAMESPACE/NAME:PORT`, parsed. */
export function parsePrometheusService(flag: string): { namespace: string; name: string; port: number } {
  const m = /^([a-z0-9-]+)\/([a-z0-9-]+):(\d+)$/.exec(flag);
  if (!m) throw new UsageError(`--prometheus-service ${flag}: expected NAMESPACE/NAME:PORT, for example monitoring/prometheus-server:80`);
  return { namespace: m[1]!, name: m[2]!, port: Number(m[3]) };
}

/** The kube target's own options; a mesh adds those only it reads (Mesh.clusterOptions). */
export const KUBE_OPTIONS = [
  { name: 'context', flag: '--context <ctx>', description: 'kube context, required with --target kube (never taken implicitly)' },
  { name: 'kubeconfig', flag: '--kubeconfig <file>', description: 'kubeconfig file (default $KUBECONFIG, then ~/.kube/config)' },
  {
    name: 'allowChangesIn', flag: '--allow-changes-in <namespaces>', check: checkedBy(allowedNamespaces),
    description: 'kube: namespaces besides the run\'s own where meshcheck may change objects, comma-separated (where a mesh keeps its global config); never otherwise, kube-system included',
  },
  {
    name: 'dataPlane', flag: '--data-plane <name>',
    description: "kube: the mesh's data plane, where it has more than one: istio: sidecar (default; Envoy as installed) or proxyless (Istio's grpc-agent injection beside meshcheck's proxyless gRPC workload; the default on meshcheck's own node, which has no Envoy)",
  },
  { name: 'proxylessImage', flag: '--proxyless-image <image>', description: "kube: the image of meshcheck's proxyless gRPC programs for --data-plane proxyless (no public image exists; on meshcheck's own node, its local image)" },
  { name: 'appImage', flag: '--app-image <image>', description: 'kube: the image whose `node` runs the echo workload (default docker.io/library/node:22.12.0-alpine; on meshcheck\'s own node, its local image)' },
  { name: 'envoyImage', flag: '--envoy-image <image>', description: 'kube: the Envoy image of the backends that emulate fault injection on meshes without it (default docker.io/envoyproxy/envoy:v1.35.3; on meshcheck\'s own node, its upstream Envoy image)' },
  { name: 'k6Image', flag: '--k6-image <image>', description: 'kube: the k6 image for load in the cluster (default docker.io/grafana/k6:2.2.0, or a mirror of it; on meshcheck\'s own node, its local image)' },
  {
    name: 'imageMirror', flag: '--image-mirror <registry>',
    description: 'kube: pull every image meshcheck deploys (the node image of the echo workload, k6, Envoy) from this registry, e.g. registry.example.com/mirror (the registry host is replaced, the path kept)',
    check: (v: string) => (/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]+)?$/i.test(v) ? undefined : `--image-mirror ${v}: expected a registry host with an optional path, e.g. registry.example.com/mirror`),
  },
  {
    name: 'prometheusUrl', flag: '--prometheus-url <url>', description: 'kube: the cluster\'s Prometheus for the mesh-metrics steps, e.g. http://127.0.0.1:9090 after kubectl port-forward',
    check: (v: string) => (/^https?:\/\/[^/]+/.test(v) ? undefined : `--prometheus-url ${v}: not an http(s) URL, e.g. http://127.0.0.1:9090`),
  },
  { name: 'prometheusService', flag: '--prometheus-service <svc>', check: checkedBy(parsePrometheusService), description: 'kube: the cluster\'s Prometheus as NAMESPACE/NAME:PORT of its Service; meshcheck port-forwards to a ready pod behind it' },
] as const satisfies readonly OptionSpec[];

/** The kube target's settings: its options as given, the context it must have, and the installed mesh (name, @version). */
export type KubeTargetSettings = OptionValues<typeof KUBE_OPTIONS> & {
  context: string;
  mesh: string;
  /** The values of the options the mesh declared (Mesh.clusterOptions). */
  meshOptions: Readonly<Record<string, string | undefined>>;
  /** Why the cluster has no mesh metrics to query, where that is known (meshcheck's own node without a Prometheus option). */
  noMeshMetrics?: string;
  /** Conditions of this cluster's overhead figures no published figure names (meshcheck's own node). */
  measurementNotes?: string[];
};
