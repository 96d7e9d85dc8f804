import { defineParameterType } from '@cucumber/cucumber';
import { PARAMETER_TYPES, parameterRegistry } from '../../src/gherkin/params.js';

for (const t of PARAMETER_TYPES) defineParameterType({ ...t, useForSnippets: false });

/** The same types for matching step text outside cucumber (sequential look-ahead). */
export const lookaheadRegistry = parameterRegistry;
