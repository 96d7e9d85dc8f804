import { UsageError } from '../../errors.js';
import { ISTIOD_BUILDS, ISTIO_DEFAULT_MINOR } from '../../util/istio-builds.js';

export { ISTIOD_BUILDS };

/** The minor the Istio tier runs when --mesh istio names none. */
export const ISTIO_TIER_MINOR = ISTIO_DEFAULT_MINOR;

/** The build of one minor, or a usage error naming the ones there are. */
export function istiodBuild(minor: string, mesh: string): { tool: string; module: string } {
  const b = ISTIOD_BUILDS[minor];
  if (!b) throw new UsageError(`--mesh ${mesh}: the local Istio tier runs the istiod builds of scripts/build-istio.sh (${Object.keys(ISTIOD_BUILDS).map((m) => `istio@${m}`).join(', ')}); use one of those, or --mesh istio for ${ISTIO_TIER_MINOR}`);
  return b;
}
