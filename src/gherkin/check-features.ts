import type { CheckFeature } from '../meshes/types.js';

/** Then steps that need a capability beyond intents, by how they start (the step catalogue's wording). */
const CHECK_STEPS: readonly { start: string; feature: CheckFeature }[] = [
  { start: 'the mesh reports ', feature: 'mesh-metrics' },
  { start: 'each sidecar uses ', feature: 'sidecar-usage' },
];

/** The capability a step's text needs, if any. */
export function checkFeatureOf(text: string): CheckFeature | undefined {
  return CHECK_STEPS.find((c) => text.startsWith(c.start))?.feature;
}
