import { CoreV1Api, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { InfraError, UsageError } from '../../errors.js';
import { Prometheus } from '../../metrics/prometheus.js';
import { apiErrorMessage } from '../../kube/client.js';
import { forwardPort, type Forwarded } from '../../kube/port-forward.js';
import { parsePrometheusService } from './options.js';

/**
 * The cluster's own Prometheus: at a URL the user gives, or behind a Service, reached by a
 * port-forward to a ready pod of that Service at the port the Service sends to (as `kubectl
 * port-forward svc/...` does). Only the run's namespace counts when waiting for scrapes.
 */
export async function clusterPrometheus(kc: KubeConfig, runNamespace: string, o: { url?: string; service?: string }): Promise<{ prometheus: Prometheus; forwarded?: Forwarded }> {
  if (o.url) return { prometheus: await Prometheus.connect(o.url, runNamespace) };
  if (!o.service) {
    throw new InfraError('the mesh\'s metrics on the kube target come from the cluster\'s own Prometheus: give --prometheus-url URL (for example after `kubectl port-forward -n monitoring svc/prometheus-server 9090:80`) or --prometheus-service NAMESPACE/NAME:PORT');
  }
  const s = parsePrometheusService(o.service);
  const where = `Service ${s.namespace}/${s.name}`;
  let pod: string | undefined;
  let port: number | undefined;
  try {
    const svc = await kc.makeApiClient(CoreV1Api).readNamespacedService({ name: s.name, namespace: s.namespace });
    const sp = svc.spec?.ports?.find((p) => p.port === s.port);
    if (!sp) throw new UsageError(`--prometheus-service ${o.service}: ${where} has no port ${s.port} (it has ${svc.spec?.ports?.map((p) => p.port).join(', ') || 'none'})`);
    const slices = await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: s.namespace, labelSelector: `kubernetes.io/service-name=${s.name}` });
    for (const slice of slices.items) {
      const ep = slice.endpoints.find((e) => e.conditions?.ready !== false && e.targetRef?.kind === 'Pod');
      const p = slice.ports?.find((x) => (sp.name ? x.name === sp.name : true));
      if (ep && p?.port) {
        pod = ep.targetRef!.name;
        port = p.port;
        break;
      }
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new InfraError(`--prometheus-service ${o.service}: reading ${where}: ${apiErrorMessage(err)}`);
  }
  if (!pod || !port) throw new InfraError(`--prometheus-service ${o.service}: no ready pod behind ${where}`);
  const forwarded = await forwardPort(kc, s.namespace, pod, port);
  try {
    return { prometheus: await Prometheus.connect(forwarded.url, runNamespace, `port-forward to pod ${s.namespace}/${pod}:${port} (${where})`), forwarded };
  } catch (err) {
    forwarded.close();
    throw err;
  }
}
