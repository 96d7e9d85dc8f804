import { INTENT_STEPS } from '../src/gherkin/intent-steps.js';
import { register } from './support/register.js';

register(INTENT_STEPS);
