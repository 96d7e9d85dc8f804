import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { STEPS, stepOf } from './catalogue.js';

/** The README's step catalogue is the contract: each example there is a step here, and each step here has an example there. */
describe('the README step catalogue', () => {
  const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Step catalogue');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const examples = [...section.matchAll(/`(?:Given|When|Then) ([^`]+)`/g)].map((m) => m[1]!);

  it('has examples', () => {
    expect(start).toBeGreaterThanOrEqual(0);
    expect(examples.length).toBeGreaterThanOrEqual(STEPS.length);
  });

  it('matches a step for every example', () => {
    expect(examples.filter((e) => !stepOf(e))).toEqual([]);
  });

  it('shows every step', () => {
    const shown = new Set(examples.map((e) => stepOf(e)?.def));
    expect(STEPS.filter((d) => !shown.has(d)).map((d) => d.expression)).toEqual([]);
  });
});
