import { WORKLOAD_STEPS } from '../src/gherkin/action-steps.js';
import { register } from './support/register.js';

register(WORKLOAD_STEPS);
