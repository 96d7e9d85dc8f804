import { UsageError } from '../../errors.js';
import { MESHES, MESH_NAMES, REFERENCE, dataPlaneFor, meshFor } from '../../meshes/registry.js';
import type { OptionSpec } from '../../options.js';
import type { TargetPlugin } from '../plugin.js';
import { KUBE_OPTIONS, type KubeTargetSettings } from './options.js';

/** The options the meshes add to the kube target, each once. */
function meshOptions(): OptionSpec[] {
  const out: OptionSpec[] = [];
  for (const m of MESHES) for (const o of m.clusterOptions ?? []) if (!out.some((x) => x.name === o.name)) out.push(o);
  return out;
}

/** A user's cluster with a mesh installed (--target kube --context CTX). */
export const kubePlugin: TargetPlugin = {
  target: 'kube',
  title: 'kube target',
  runsWhat: `${MESH_NAMES.join(', ')} (@version), as installed on a cluster`,
  runs: (mesh) => mesh.split('@')[0] !== REFERENCE.name,
  refuse: (mesh) => `--mesh ${mesh} runs on the local target only; on kube name the installed mesh: --mesh ${MESH_NAMES.join('|')}`,
  options: () => [...KUBE_OPTIONS, ...meshOptions()],
  async check({ options: o, mesh, engine }) {
    const plane = dataPlaneFor(meshFor(mesh).mesh, 'kube', o.dataPlane);
    if (plane.name === 'proxyless' && engine === 'k6')
      throw new UsageError('--load-engine k6 with --data-plane proxyless: k6 speaks neither xDS nor Istio mTLS, so load on this data plane comes from meshcheck\'s proxyless gRPC client; leave --load-engine out');
    if (!o.context) throw new UsageError('--target kube needs --context CTX: meshcheck never uses the current kube context implicitly');
    // The Kubernetes client is loaded only for the kube target (a second and a half of start-up).
    const { kubeClient, kubeconfigPath } = await import('../../kube/client.js');
    kubeClient({ context: o.context, kubeconfig: o.kubeconfig });
    o.kubeconfig = kubeconfigPath(o.kubeconfig);
    if (o.prometheusUrl && o.prometheusService) throw new UsageError('--prometheus-url and --prometheus-service name the same thing; give one');
  },
  async start(s) {
    const { KubeTarget } = await import('./kube-target.js');
    const own = new Set<string>(KUBE_OPTIONS.map((o) => o.name));
    const settings = {
      ...Object.fromEntries(Object.entries(s.options).filter(([k]) => own.has(k))),
      context: s.options.context!, mesh: s.mesh, meshOptions: Object.fromEntries(Object.entries(s.options).filter(([k]) => !own.has(k))),
    } as KubeTargetSettings;
    return KubeTarget.connect(settings, s.ledger, s.runId, s.log);
  },
};
