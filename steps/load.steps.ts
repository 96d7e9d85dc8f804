import { LOAD_STEPS } from '../src/gherkin/action-steps.js';
import { register } from './support/register.js';

register(LOAD_STEPS);
