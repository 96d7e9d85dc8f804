import { defineParameterType } from '@cucumber/cucumber';
import { PARAMETER_TYPES } from '../../src/gherkin/params.js';

// meshcheck's parameter types ({percent}, {duration}, {service}), defined once in the catalogue's params.
for (const t of PARAMETER_TYPES) defineParameterType({ ...t, useForSnippets: false });
