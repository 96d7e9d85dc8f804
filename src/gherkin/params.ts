import { ParameterType, ParameterTypeRegistry } from '@cucumber/cucumber-expressions';
import { parseDuration } from '../util/duration.js';

/** meshcheck's custom parameter types: registered with cucumber by the steps, and here for matching outside it. */
export const PARAMETER_TYPES = [
  { name: 'percent', regexp: /\d+(?:\.\d+)?%/, transformer: (s: string) => Number(s.slice(0, -1)) },
  { name: 'duration', regexp: /\d+(?:\.\d+)?(?:ms|s|m|h)/, transformer: (s: string) => parseDuration(s) },
  { name: 'service', regexp: /"[^"]*"/, transformer: (s: string) => s.slice(1, -1) },
];

/** The same types in a registry of their own, for matching step text without cucumber (look-ahead, plan). */
export const parameterRegistry = new ParameterTypeRegistry();
for (const t of PARAMETER_TYPES) parameterRegistry.defineParameterType(new ParameterType<unknown>(t.name, t.regexp, null, t.transformer as (s: string) => unknown, false, false));
