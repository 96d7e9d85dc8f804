import type { Intent } from '../intents/types.js';
import type { Support } from '../meshes/types.js';
import { describeIntent } from '../intents/describe.js';

/** Why a scenario cannot run: each intent whose support (in order) is unsupported, and the reason; empty when it can. */
export function unsupportedOf(intents: readonly Intent[], supports: readonly Support[]): { intent: Intent; support: Support; text: string }[] {
  return intents.map((intent, n) => ({ intent, support: supports[n]! }))
    .filter((x) => x.support.level === 'unsupported')
    .map((x) => ({ ...x, text: `${describeIntent(x.intent)}: ${(x.support as { reason: string }).reason}` }));
}
