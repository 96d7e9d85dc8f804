/**
 * The cluster's DNS: CoreDNS as a pod (from an image built here) behind the Service address the kubelet
 * gives pods as their nameserver. It answers for the cluster's own names (Services, pods, reverse
 * lookups of their addresses) and has no `forward`: any other name fails inside the cluster, so nothing
 * in a pod resolves, and sends to, an outside address.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { NODE } from './settings.js';

const NS = 'kube-system';
const labels = { 'k8s-app': 'kube-dns' };

const COREFILE = `.:53 {
    errors
    health :8080
    ready :8181
    kubernetes ${NODE.clusterDomain} in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
}
`;

/** ServiceAccount, RBAC (read Services, EndpointSlices, Namespaces, Pods), Corefile, Deployment and the kube-dns Service. */
export function dnsObjects(image: string): KubernetesObject[] {
  const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}), labels: { ...labels, 'app.kubernetes.io/managed-by': 'meshcheck' } });
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('coredns', NS) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta('meshcheck-node:coredns'),
      rules: [
        { apiGroups: [''], resources: ['services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    } as KubernetesObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: meta('meshcheck-node:coredns'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'meshcheck-node:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: NS }],
    } as KubernetesObject,
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('coredns', NS), data: { Corefile: COREFILE } } as KubernetesObject,
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('coredns', NS),
      spec: {
        replicas: 1, selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'coredns', dnsPolicy: 'Default', priorityClassName: 'system-cluster-critical',
            containers: [{
              name: 'coredns', image, imagePullPolicy: 'Never', args: ['-conf', '/etc/coredns/Corefile'],
              ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }],
              readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 1 },
              livenessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 10 },
              resources: { limits: { memory: '128Mi' }, requests: { cpu: '50m', memory: '32Mi' } },
              volumeMounts: [{ name: 'config', mountPath: '/etc/coredns' }],
            }],
            volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
          },
        },
      },
    } as KubernetesObject,
    {
      apiVersion: 'v1', kind: 'Service', metadata: meta('kube-dns', NS),
      spec: {
        selector: labels, clusterIP: NODE.dnsServiceIp,
        ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }],
      },
    } as KubernetesObject,
  ];
}
