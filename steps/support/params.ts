import { defineParameterType } from '@cucumber/cucumber';
import { ParameterType, ParameterTypeRegistry } from '@cucumber/cucumber-expressions';
import { parseDuration } from '../../src/util/duration.js';

/** Custom parameter types, defined once: registered with cucumber and with the look-ahead registry. */
const TYPES = [
  { name: 'percent', regexp: /\d+(?:\.\d+)?%/, transformer: (s: string) => Number(s.slice(0, -1)) },
  { name: 'duration', regexp: /\d+(?:\.\d+)?(?:ms|s|m|h)/, transformer: (s: string) => parseDuration(s) },
  { name: 'service', regexp: /"[^"]*"/, transformer: (s: string) => s.slice(1, -1) },
];

for (const t of TYPES) defineParameterType({ ...t, useForSnippets: false });

/** The same types for matching step text outside cucumber (sequential look-ahead). */
export const lookaheadRegistry = new ParameterTypeRegistry();
for (const t of TYPES) lookaheadRegistry.defineParameterType(new ParameterType<unknown>(t.name, t.regexp, null, t.transformer as (s: string) => unknown, false, false));
