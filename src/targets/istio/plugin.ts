import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { meshFor } from '../../meshes/registry.js';
import { tool } from '../../util/tools.js';
import type { TargetPlugin } from '../plugin.js';

/** The minor version of the istiod the Istio tier runs (scripts/build-istio.sh). */
export const ISTIO_TIER_MINOR = '1.31';

/** Real istiod with Istio's proxyless gRPC data plane on this machine, no cluster (--mesh istio). */
export const istioTierPlugin: TargetPlugin = {
  target: 'local',
  title: 'Istio tier',
  runsWhat: 'real Istio (--mesh istio)',
  runs: (mesh) => mesh.split('@')[0] === 'istio',
  options: () => [],
  check({ mesh, engine }) {
    const { version } = meshFor(mesh);
    if (mesh.includes('@') && version !== ISTIO_TIER_MINOR) throw new UsageError(`--mesh ${mesh}: the local Istio tier runs the istiod that scripts/build-istio.sh builds (${ISTIO_TIER_MINOR}); use --mesh istio`);
    if (engine === 'k6') throw new UsageError('--load-engine k6 with --mesh istio on the local target: k6 speaks neither xDS nor Istio mTLS, so the Istio tier sends load with its proxyless gRPC client; leave --load-engine out');
    tool('pilot-discovery');
    tool('meshcheck-proxyless');
  },
  async start(s) {
    const { IstioTarget } = await import('./istio-target.js');
    return IstioTarget.start(s.ledger, s.log, join(s.out, 'logs'));
  },
};
