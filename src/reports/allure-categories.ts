import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Allure categories for meshcheck's outcomes: NOT_SUPPORTED results are skipped ("Not supported by
 * mesh"), INCONCLUSIVE ones are failed with that word in the message, BROKEN ones are broken.
 */
export const ALLURE_CATEGORIES = [
  { name: 'Not supported by mesh', matchedStatuses: ['skipped'] },
  { name: 'Inconclusive', matchedStatuses: ['failed'], messageRegex: '.*INCONCLUSIVE.*' },
  { name: 'Failed verdicts', matchedStatuses: ['failed'], messageRegex: '.*FAILED.*' },
  { name: 'Infrastructure', matchedStatuses: ['broken'] },
];

export function writeAllureCategories(resultsDir: string): void {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'categories.json'), `${JSON.stringify(ALLURE_CATEGORIES, null, 2)}\n`);
}
