import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MATRIX_END, MATRIX_START, conformanceMatrix, conformanceReport, matrixInReadme } from './conformance.js';
import { meshFor, appContext } from '../meshes/registry.js';
import { readScenarios } from '../plan/features.js';
import { planMesh } from '../plan/plan.js';

test('the conformance matrix in docs/meshes.md is the one support() gives (update: meshcheck conformance --matrix)', () => {
  const readme = readFileSync(join(process.cwd(), 'docs', 'meshes.md'), 'utf8');
  const current = matrixInReadme(readme);
  expect(current).toBeDefined();
  expect(current).toBe(conformanceMatrix().trim());
  expect(readme.indexOf(MATRIX_START)).toBeLessThan(readme.indexOf(MATRIX_END));
});

describe('conformance report', () => {
  const { mesh: adapter, version } = meshFor('osm');
  const plan = planMesh(adapter, appContext('meshcheck', version), readScenarios([join(process.cwd(), 'features')]));

  test('from a plan: unsupported scenarios are NOT_SUPPORTED (skipped) with reasons, the rest not run', () => {
    const r = conformanceReport(adapter, plan, undefined, new Date(0)) as {
      kind: string;
      mode: string;
      profiles: {
        name: string;
        result: string;
        statistics: Record<string, number>;
        unsupportedFeatures: string[];
        notes?: { kind: string; why: string }[];
        tests: { outcome: string }[];
      }[];
    };
    expect(r.kind).toBe('ConformanceReport');
    expect(r.mode).toBe('plan');
    const shifting = r.profiles.find((p) => p.name === 'traffic-shifting')!;
    expect(shifting.statistics).toMatchObject({ Skipped: 1, NotRun: 1, Passed: 0 });
    expect(shifting.unsupportedFeatures).toEqual(['HeaderRoute']);
    expect(shifting.notes?.[0]?.why).toMatch(/no header matches/);
    expect(shifting.result).toBe('partial');
  });

  test('with run outcomes: a failed scenario makes its profile a failure; all passed is success', () => {
    const outcomes = new Map(plan.scenarios.map((s) => [`${s.scenario.file}|${s.scenario.name}`, 'PASSED' as const]));
    const first = plan.scenarios.find((s) => s.scenario.capability === 'authorization')!;
    outcomes.set(`${first.scenario.file}|${first.scenario.name}`, 'FAILED' as never);
    const r = conformanceReport(adapter, plan, outcomes) as { mode: string; profiles: { name: string; result: string }[] };
    expect(r.mode).toBe('run');
    expect(r.profiles.find((p) => p.name === 'authorization')!.result).toBe('failure');
    expect(r.profiles.find((p) => p.name === 'fault-injection')!.result).toBe('success');
    expect(r.profiles.find((p) => p.name === 'traffic-shifting')!.result).toBe('partial');
  });
});
