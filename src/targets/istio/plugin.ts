import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { meshFor } from '../../meshes/registry.js';
import { tool } from '../../util/tools.js';
import type { TargetPlugin } from '../plugin.js';
import { ISTIO_TIER_MINOR, istiodBuild } from './istiod-builds.js';

/** The istiod minor a --mesh value asks the tier for: its own version, or the tier's default. */
const minorOf = (mesh: string) => (mesh.includes('@') ? meshFor(mesh).version : ISTIO_TIER_MINOR);

/** Real istiod with Istio's proxyless gRPC data plane on this machine, no cluster (--mesh istio). */
export const istioTierPlugin: TargetPlugin = {
  target: 'local',
  title: 'Istio tier',
  runsWhat: 'real Istio (--mesh istio)',
  runs: (mesh) => mesh.split('@')[0] === 'istio',
  options: () => [],
  check({ mesh, engine }) {
    meshFor(mesh);
    const build = istiodBuild(minorOf(mesh), mesh);
    if (engine === 'k6') throw new UsageError('--load-engine k6 with --mesh istio on the local target: k6 speaks neither xDS nor Istio mTLS, so the Istio tier sends load with its proxyless gRPC client; leave --load-engine out');
    tool(build.tool);
    tool('meshcheck-proxyless');
  },
  async start(s) {
    const { IstioTarget } = await import('./istio-target.js');
    return IstioTarget.start(s.ledger, s.log, join(s.out, 'logs'), minorOf(s.mesh));
  },
};
