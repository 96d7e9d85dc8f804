import { cpus } from 'node:os';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { NODE_IMAGES_CONFIGMAP } from '../../cluster/settings.js';
import { dataPlanesOf, meshFor } from '../../meshes/registry.js';
import type { KubeTargetSettings } from './options.js';

/**
 * On meshcheck's own node (`meshcheck cluster up`: its ConfigMap of images), the defaults that make
 * the bundled suite run there as it is typed; what the user named stays. Elsewhere the settings as
 * they are.
 * - The images it built and imported (it pulls from no registry), for --app-image, --k6-image,
 *   --proxyless-image and --envoy-image.
 * - The mesh's first data plane the node can run: a node whose images carry no Envoy (its ConfigMap
 *   names none) runs Istio proxyless unless --data-plane says otherwise.
 * - Changes allowed in the mesh's control-plane namespace (the control-plane scenarios scale it): the
 *   node and its mesh are meshcheck's own, and every change is in the ledger and undone.
 */
export async function withNodeDefaults(kc: KubeConfig, settings: KubeTargetSettings, log: (m: string) => void): Promise<KubeTargetSettings> {
  let data: Record<string, string> | undefined;
  try {
    data = (await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap(NODE_IMAGES_CONFIGMAP)).data;
  } catch {
    return settings;
  }
  if (!data?.app || !data.k6) return settings;
  const say = (m: string) => log(`kube context ${settings.context}: meshcheck's own node: ${m}`);
  const images = { appImage: settings.appImage ?? data.app, k6Image: settings.k6Image ?? data.k6, proxylessImage: settings.proxylessImage ?? data.proxyless, envoyImage: settings.envoyImage ?? data['upstream-envoy'] };
  say(`images from ${NODE_IMAGES_CONFIGMAP.namespace}/${NODE_IMAGES_CONFIGMAP.name}: echo workload ${images.appImage}, k6 ${images.k6Image}, proxyless gRPC ${images.proxylessImage}, Envoy ${images.envoyImage}`);
  const { mesh } = meshFor(settings.mesh);
  const planes = dataPlanesOf(mesh).filter((d) => d.targets.kube);
  const runnable = planes.find((d) => !d.needsEnvoy || data.envoy);
  let dataPlane = settings.dataPlane;
  if (!dataPlane && runnable && runnable !== planes[0]) {
    dataPlane = runnable.name;
    say(`--data-plane ${dataPlane} (the node has no Envoy for "${planes[0]!.name}"; --data-plane ${planes[0]!.name} tries it anyway)`);
  }
  let allowChangesIn = settings.allowChangesIn;
  if (allowChangesIn === undefined && mesh.controlPlane) {
    allowChangesIn = mesh.controlPlane.namespace;
    say(`changes allowed in ${allowChangesIn}, where ${mesh.title}'s control plane runs (the control-plane scenarios scale it; each change is in the ledger and undone); --allow-changes-in names others`);
  }
  // No Prometheus runs there (its chart cannot be had), and its sidecars are upstream Envoy, for which
  // install turns off the meshes' own request metrics (Istio's stats filter, OSM's Wasm stats): the metric
  // steps are not supported, saying why, unless a Prometheus is named.
  const ownStats: Record<string, string> = {
    istio: "Istio's standard metrics are off there (upstream Envoy lacks Istio's stats filter)",
    osm: "OSM's Wasm stats are off there (OSM's module has no build of their Wasm code)",
  };
  const noMeshMetrics = settings.prometheusUrl || settings.prometheusService ? undefined
    : `meshcheck's own node has no Prometheus (its chart cannot be had without a chart repository)${ownStats[mesh.name] ? `, and ${ownStats[mesh.name]}` : ''}; --prometheus-url names a Prometheus that scrapes the mesh`;
  // What sets an overhead figure measured here apart from a vendor's, for the comparative report.
  const measurementNotes = [
    ...(data.envoy ? [`upstream Envoy ${data.envoy}, not Istio's build (no Istio stats filter, no metadata exchange)`] : []),
    `one ${cpus().length}-core machine runs the node, its pods, the load and meshcheck`,
    "pods on one node's bridge",
  ];
  const chosen = { ...(dataPlane ? { dataPlane } : {}), ...(allowChangesIn ? { allowChangesIn } : {}), ...(noMeshMetrics ? { noMeshMetrics } : {}) };
  return { ...settings, ...images, ...chosen, measurementNotes };
}
