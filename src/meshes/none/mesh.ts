import type { Intent } from '../../intents/types.js';
import type { Mesh, Support } from '../types.js';
import { asList, rendered } from '../render/policy.js';
import { renderWorkload } from '../render/workload.js';

/** No mesh: the baseline for overhead. Nothing enforces policy, so every intent is unsupported. */
export const none: Mesh = {
  name: 'none',
  title: 'No mesh (baseline)',
  defaultVersion: '0',
  versionRange: { min: '0', max: '0' },
  shape: 'subsets',
  support(intent: Intent): Support {
    return { level: 'unsupported', reason: `no mesh: there is no sidecar to apply ${intent.kind}; "none" is the baseline for overhead measurements` };
  },
  supportAll(intents) {
    return intents.map((i) => this.support(i));
  },
  render(input) {
    const all = asList(input);
    return rendered(all, this.supportAll(all), []);
  },
  workload(ctx) {
    return renderWorkload(ctx, { shape: 'subsets', namespace: {}, pod: () => ({}), skipInbound: () => ({}) });
  },
  optOut: {},
  // Objects of the none mesh are only Kubernetes kinds (it renders no policy).
  inEffect: async (c) => new (await import('../status-watch.js')).StatusPolicyWatch(c, { mesh: 'none' }),
  skipInbound: () => ({}),
};
