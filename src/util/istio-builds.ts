/**
 * The Istio builds scripts/build-istio.sh makes, by minor: the tools-cache names of istiod
 * (pilot-discovery) and its node agent (pilot-agent), and the module version both were built from.
 * The Istio tier runs them as processes; meshcheck's node runs them as images (one pair per minor).
 * The default minor is the one `--mesh istio` runs there without @; the other is the line an upgrade
 * starts from.
 */
export const ISTIOD_BUILDS: Readonly<Record<string, { tool: string; agent: string; module: string }>> = {
  '1.31': { tool: 'pilot-discovery', agent: 'pilot-agent', module: 'istio.io/istio@v0.0.0-20260827124520-eed52ebb66ad' },
  '1.30': { tool: 'istio-1.30/pilot-discovery', agent: 'istio-1.30/pilot-agent', module: 'istio.io/istio@v0.0.0-20260826214018-9739e10eb9d7' },
};

/** The minor run where none is named (the Istio tier's and meshcheck's node's `--mesh istio`). */
export const ISTIO_DEFAULT_MINOR = '1.31';
