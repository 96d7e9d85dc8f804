import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runHonestSuite } from './helpers/honest.js';

/*
 * These run on shared machines: a scenario may end INCONCLUSIVE when the machine or meshcheck's own
 * load generator could not carry its load, with the figures (never FAILED for that). What must hold
 * everywhere is honestSuite(); on a quiet machine every scenario passes and the run exits 0.
 */
describe('the whole local suite (the main job)', () => {
  it('runs every feature: nothing FAILED, each non-pass with its machine reason; Allure results, JUnit XML and the run record', async () => {
    const { problems, stderr, code, expectedCode, record, out } = await runHonestSuite();
    expect({ problems, stderr }).toEqual({ problems: [], stderr: '' });
    expect(code).toBe(expectedCode);
    expect(record.schema).toBe('meshcheck.run/v1');
    const capabilities = new Set(record.scenarios.map((s) => s.capability));
    expect([...capabilities].sort()).toEqual(['authorization', 'circuit-breaking', 'control-plane', 'fault-injection', 'mtls', 'overhead', 'retries-timeouts', 'traffic-shifting']);
    for (const s of record.scenarios) {
      expect(s.verdicts.length).toBeGreaterThan(0);
      for (const v of s.verdicts) expect(v.samples).toBeGreaterThan(0);
      // Every load says whether it was healthy, with the machine's figures.
      for (const l of s.loads) expect(l.health?.machine.measured).toBe(true);
    }
    expect(record.histograms.length).toBeGreaterThan(0);
    // Each load's length, for the gate's stall allowance.
    for (const h of record.histograms) expect(h.durationMs).toBeGreaterThan(0);
    expect(record.convergenceMs.length).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'junit.xml'), 'utf8')).toMatch(/<testsuite [^>]*tests="\d+"/);
    const results = readdirSync(join(out, 'allure-results')).filter((f) => f.endsWith('-result.json'));
    expect(results.length).toBe(record.scenarios.length);
    const one = JSON.parse(readFileSync(join(out, 'allure-results', results[0]!), 'utf8')) as { labels: { name: string; value: string }[]; parameters: { name: string }[] };
    expect(one.labels).toEqual(expect.arrayContaining([{ name: 'parentSuite', value: 'reference' }]));
    expect(one.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['mesh', 'target', 'engine']));
    // Evidence on every result: the verdict, and where the scenario sent load, its summary.
    type Step = { attachments?: { name: string }[]; steps?: Step[] };
    const names = (st: Step): string[] => (st.steps ?? []).flatMap((x) => [...(x.attachments ?? []).map((a) => a.name), ...names(x)]);
    const all = results.map((f) => names(JSON.parse(readFileSync(join(out, 'allure-results', f), 'utf8')) as Step));
    for (const n of all) expect(n.some((x) => x.startsWith('verdict: '))).toBe(true);
    expect(all.flat()).toEqual(expect.arrayContaining(['load summary', 'intent FaultAbort', 'intent TrafficSplit', 'plaintext probe']));
  }, 240_000);

  it('runs with the real k6 binary as the load engine (--load-engine k6), with overhead figures', async () => {
    const { problems, stderr, code, expectedCode, record } = await runHonestSuite(['--load-engine', 'k6']);
    expect({ problems, stderr }).toEqual({ problems: [], stderr: '' });
    expect(code).toBe(expectedCode);
    expect(record.engine).toBe('k6');
    expect(record.overhead).toHaveLength(2);
    for (const o of record.overhead) {
      expect(o).toMatchObject({ engine: 'k6' });
      expect(o.samples.mesh).toBeGreaterThan(0);
    }
    // The second at Istio's published conditions, named in the record for the comparative report.
    expect(record.overhead[1]!.conditions).toMatchObject({ rps: 1000, payloadBytes: 1024, connections: 4, proxyWorkers: 1 });
  }, 300_000);
});
