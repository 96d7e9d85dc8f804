import type { DataPlaneChoice } from '../types.js';
import { istio } from './mesh.js';
import { istioProxyless } from './proxyless.js';

/** Istio's data planes, and what each target runs for it. */
export const ISTIO_DATA_PLANES: readonly DataPlaneChoice[] = [
  {
    name: 'sidecar',
    mesh: istio,
    targets: { kube: "the Envoy sidecars istiod's injector puts in each pod (istio-proxy), as installed on the cluster" },
    needsEnvoy: true,
  },
  {
    name: 'proxyless',
    mesh: istioProxyless,
    targets: {
      local: 'the Istio tier: real istiod on its own kube-apiserver, meshcheck-proxyless workloads on loopback addresses, no cluster',
      kube: "istiod's grpc-agent injection (pilot-agent beside meshcheck-proxyless, no Envoy); load from meshcheck-proxyless as a meshed Job",
    },
  },
];
