import { CONTROL_PLANE_STEPS } from '../src/gherkin/action-steps.js';
import { register } from './support/register.js';

register(CONTROL_PLANE_STEPS);
