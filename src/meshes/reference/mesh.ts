import type { Intent } from '../../intents/types.js';
import { ISTIO_REQUESTS } from '../istio/facts.js';
import type { ReferenceMesh, Support } from '../types.js';
import { compileConfig } from './compile.js';

/**
 * The reference mesh: meshcheck's own sidecars (src/dataplane) on this machine, with Envoy's and
 * Istio's documented semantics (docs/adr/0003). It expresses every intent natively; its render is the
 * config each sidecar is pushed, and its sidecars report Istio's standard request metric. It is never
 * presented as Istio.
 */
export const reference: ReferenceMesh = {
  name: 'reference',
  title: 'Reference (meshcheck sidecars)',
  support(_intent: Intent): Support {
    return { level: 'native', via: 'reference sidecar' };
  },
  supportAll(intents) {
    return intents.map((i) => this.support(i));
  },
  compile: compileConfig,
  requests: ISTIO_REQUESTS,
  // The figures its overhead is set beside in the comparative report, for scale: no vendor documents it.
  figuresFor: 'istio',
};
