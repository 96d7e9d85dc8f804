import { stringify } from 'yaml';
import type { K8sObject } from '../kube/objects.js';

/** Objects as one multi-document YAML stream. */
export function toYaml(objects: readonly K8sObject[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
}
