import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { NODE_IMAGES_CONFIGMAP } from '../../cluster/settings.js';
import type { KubeTargetSettings } from './options.js';

/**
 * On meshcheck's own node (`meshcheck cluster up`), which pulls from no registry, the images it built
 * and imported, as the defaults of --app-image --k6-image and --proxyless-image; what the user named stays. Elsewhere
 * (no such ConfigMap), the settings as they are.
 */
export async function withNodeImages(kc: KubeConfig, settings: KubeTargetSettings, log: (m: string) => void): Promise<KubeTargetSettings> {
  let data: Record<string, string> | undefined;
  try {
    data = (await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap(NODE_IMAGES_CONFIGMAP)).data;
  } catch {
    return settings;
  }
  if (!data?.app || !data.k6) return settings;
  const images = { appImage: settings.appImage ?? data.app, k6Image: settings.k6Image ?? data.k6, proxylessImage: settings.proxylessImage ?? data.proxyless };
  log(
    `kube context ${settings.context}: meshcheck's own node (${NODE_IMAGES_CONFIGMAP.namespace}/${NODE_IMAGES_CONFIGMAP.name}): echo workload ${images.appImage}, k6 ${images.k6Image}, proxyless gRPC ${images.proxylessImage}`,
  );
  return { ...settings, ...images };
}
