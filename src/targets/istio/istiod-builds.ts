import { UsageError } from '../../errors.js';

/**
 * The istiod builds scripts/build-istio.sh makes, by Istio minor: the tools-cache name of each
 * pilot-discovery and the module version it was built from. 1.31 is the pin the tier runs by default;
 * 1.30 is the release-1.30 line an upgrade starts from.
 */
export const ISTIOD_BUILDS: Readonly<Record<string, { tool: string; module: string }>> = {
  '1.31': { tool: 'pilot-discovery', module: 'istio.io/istio@v0.0.0-20260827124520-eed52ebb66ad' },
  '1.30': { tool: 'istio-1.30/pilot-discovery', module: 'istio.io/istio@v0.0.0-20260826214018-9739e10eb9d7' },
};

/** The minor the Istio tier runs when --mesh istio names none. */
export const ISTIO_TIER_MINOR = '1.31';

/** The build of one minor, or a usage error naming the ones there are. */
export function istiodBuild(minor: string, mesh: string): { tool: string; module: string } {
  const b = ISTIOD_BUILDS[minor];
  if (!b) throw new UsageError(`--mesh ${mesh}: the local Istio tier runs the istiod builds of scripts/build-istio.sh (${Object.keys(ISTIOD_BUILDS).map((m) => `istio@${m}`).join(', ')}); use one of those, or --mesh istio for ${ISTIO_TIER_MINOR}`);
  return b;
}
