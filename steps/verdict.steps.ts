import { OBSERVED_STEPS, SAMPLE_STEPS } from '../src/gherkin/verdict-steps.js';
import { register } from './support/register.js';

register([...SAMPLE_STEPS, ...OBSERVED_STEPS]);
