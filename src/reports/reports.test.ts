import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFigures, METRICS, FIGURES_FILE } from './figures.js';
import { buildComparative, figureVerdict } from './comparative.js';
import { charts, renderHtml } from './comparative-html.js';
import { renderMarkdown } from './comparative-markdown.js';
import { renderSmp } from './smp.js';
import { hdr, latencies, record } from '../../test/helpers/records.js';
import type { OverheadSummary } from '../overhead/overhead.js';
import { UsageError } from '../errors.js';

const overhead: OverheadSummary = {
  scenario: 'Added latency at 500 rps', service: 'reviews', mesh: 'reference', baseline: 'none', engine: 'embedded',
  conditions: { rps: 500, payloadBytes: 0, connections: 512, rounds: 5, requestsPerRound: 500, warmupRequests: 2500, protocol: 'HTTP/1.1', mtls: true },
  confidence: 0.95, samples: { baseline: 2500, mesh: 2500 }, achievedRps: { baseline: 499.8, mesh: 499.7 }, errors: { baseline: 0, mesh: 0 },
  latencyMs: { baseline: { p50: 0.12, p90: 0.3, p99: 1.4 }, mesh: { p50: 0.61, p90: 0.9, p99: 3.1 } },
  addedMs: { p50: { estimate: 0.49, lo: 0.48, hi: 0.5 }, p90: { estimate: 0.6, lo: 0.53, hi: 0.67 }, p99: { estimate: 1.7, lo: -0.5, hi: 2.6 } },
  sidecars: [{ instance: 'loadclient-v1-0', vcpuPer1000Rps: { estimate: 0.26, lo: 0.23, hi: 0.29, rounds: [0.23, 0.26, 0.28, 0.27, 0.24] }, memoryMb: 110.4 }],
  histograms: { baseline: hdr(latencies(1, 500)), mesh: hdr(latencies(2, 500, 1.5)) },
};

describe('documented figures', () => {
  it('loads every figure of the catalogue with a known metric and unit', () => {
    const figures = loadFigures();
    expect(figures.length).toBeGreaterThan(30);
    for (const f of figures) expect(f.unit).toBe(METRICS[f.metric]);
    expect(new Set(figures.map((f) => f.mesh))).toEqual(new Set(['general', 'istio', 'linkerd', 'consul', 'osm']));
    expect(figures.find((f) => f.id === 'istio-1.24-sidecar-cpu')).toMatchObject({ value: 0.2, version: '1.24', conditions: { rps: 1000, payloadBytes: 1024, mtls: true } });
    expect(FIGURES_FILE).toMatch(/reports\/documented-figures\.yaml$/);
  });

  it('names the file and line of a bad entry', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'figures-')), 'bad.yaml');
    writeFileSync(file, '- id: a\n  mesh: istio\n  version: "1"\n  metric: added_latency_p50\n  value: 1\n  unit: ms\n  conditions: { text: x }\n  source: s\n- id: b\n  mesh: kuma\n  metric: added_latency_p50\n');
    expect(() => loadFigures(file)).toThrow(UsageError);
    expect(() => loadFigures(file)).toThrow(`${file}:9: figure b: mesh must be one of`);
  });
});

describe('comparative report', () => {
  const report = buildComparative([record(1, 1, [overhead])], loadFigures(), new Date('2026-11-22T00:00:00Z'));

  it('has a "none" row and a "reference" row from each overhead measurement', () => {
    expect(report.rows.map((r) => r.mesh)).toEqual(['none', 'reference']);
    expect(report.rows[1]!.addedMs!.p50!.estimate).toBe(0.49);
  });

  it('sets each measured figure beside the documented ones with a verdict and the differing conditions', () => {
    const mem = report.comparisons.find((c) => c.figure.id === 'general-mem-a')!;
    expect(mem).toMatchObject({ metric: 'memory_per_pod', verdict: 'exceeds', measured: { estimate: 110.4 } });
    const p50 = report.comparisons.find((c) => c.figure.id === 'general-p50')!;
    expect(p50.verdict).toBe('within');
    expect(report.comparisons.find((c) => c.figure.id === 'general-before-after-p99')!.conditionsDiffer).toEqual(['rate 500 rps vs 10000 rps']);
    // The reference sidecar is nobody's product: only the general literature is compared with it.
    expect(new Set(report.comparisons.map((c) => c.figure.mesh))).toEqual(new Set(['general']));
  });

  it("an Envoy sidecar measured under Istio's conditions on meshcheck's node: the conditions that still differ are named, the node's own among them", () => {
    const envoy: OverheadSummary = {
      ...overhead, mesh: 'istio', engine: 'k6',
      conditions: { ...overhead.conditions, rps: 1000, payloadBytes: 1024, connections: 4, proxyWorkers: 2, notes: ["upstream Envoy 1.40.0, not Istio's build (no Istio stats filter, no metadata exchange)", "pods on one node's bridge"] },
    };
    const r = buildComparative([record(1, 1, [envoy])], loadFigures(), new Date('2026-11-22T00:00:00Z'));
    const cpu = r.comparisons.find((c) => c.figure.id === 'istio-1.24-sidecar-cpu')!;
    // Istio measured with fortio; meshcheck's engines read other latencies for the same traffic.
    expect(cpu.conditionsDiffer).toEqual(['load generator k6 vs fortio', "upstream Envoy 1.40.0, not Istio's build (no Istio stats filter, no metadata exchange)", "pods on one node's bridge"]);
    const one = buildComparative([record(1, 1, [{ ...envoy, engine: 'fortio', conditions: { ...envoy.conditions, proxyWorkers: 1, notes: undefined } }])], loadFigures());
    expect(one.comparisons.find((c) => c.figure.id === 'istio-1.24-sidecar-cpu')!.conditionsDiffer).toEqual(['proxy workers 1 vs 2']);
  });

  it('decides within / exceeds / undecided from the interval', () => {
    expect(figureVerdict({ estimate: 0.4, lo: 0.3, hi: 0.45 }, 0.5)).toBe('within');
    expect(figureVerdict({ estimate: 0.6, lo: 0.55, hi: 0.7 }, 0.5)).toBe('exceeds');
    expect(figureVerdict({ estimate: 0.48, lo: 0.4, hi: 0.56 }, 0.5)).toBe('undecided');
    expect(figureVerdict({ estimate: 120, lo: null, hi: null }, 100)).toBe('exceeds');
  });

  it('renders Markdown, self-contained HTML with charts, and an SMP export', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('| reference | Added latency at 500 rps | 500 |');
    expect(md).toContain('**exceeds**');
    const html = renderHtml(report);
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(charts(report).map((c) => c.id)).toEqual(['chart-latency', 'chart-added-1', 'chart-cpu-2', 'chart-memory-3', 'chart-distribution']);
    const smp = renderSmp(report) as {
      tests: {
        performanceTestResult: { latenciesMs: { p99: number }; actualQPS: number };
        serviceMeshConfig: { mtlsEnabled: boolean; sidecar?: { cpuMCores: number } };
      }[];
    };
    expect(smp.tests).toHaveLength(2);
    expect(smp.tests[1]!.performanceTestResult).toMatchObject({ latenciesMs: { p99: 3.1 }, actualQPS: 499.7 });
    expect(smp.tests[1]!.serviceMeshConfig).toMatchObject({ mtlsEnabled: true, sidecar: { cpuMCores: 130 } });
    expect(smp.tests[0]!.serviceMeshConfig.mtlsEnabled).toBe(false);
  });

  it('says so when the runs hold no overhead measurement', () => {
    const empty = buildComparative([record(2)], loadFigures());
    expect(empty.rows).toEqual([]);
    expect(empty.notes.join(' ')).toContain('no overhead measurement');
  });
});

describe('a measurement on a data plane without sidecars', () => {
  test('is not set beside the vendors\' sidecar figures, and the report says why and how it was measured', () => {
    const proxyless: OverheadSummary = { ...overhead, mesh: 'istio (proxyless gRPC)', dataPlane: 'proxyless gRPC', sidecars: [], conditions: { ...overhead.conditions, protocol: 'gRPC (HTTP/2)', path: 'mTLS in the gRPC client and server, no sidecar' } };
    const r = buildComparative([record(1, 1, [proxyless])], loadFigures());
    expect(r.comparisons).toEqual([]);
    expect(r.notes.join(' ')).toMatch(/measured on proxyless gRPC .*none is set beside it/);
    expect(renderMarkdown(r)).toMatch(/Conditions: gRPC \(HTTP\/2\), .* mTLS in the gRPC client and server, no sidecar/);
  });
});


describe('Allure categories (reports/allure-categories.json)', () => {
  test("a verdict meshcheck's own load could not support has its category, matched by the marker in its message, before Inconclusive", async () => {
    const { readFileSync } = await import('node:fs');
    const { ALLURE_CATEGORIES_FILE } = await import('./allure.js');
    const { INFRASTRUCTURE_MARKER } = await import('../verdicts/infrastructure.js');
    const categories = JSON.parse(readFileSync(ALLURE_CATEGORIES_FILE, 'utf8')) as { name: string; messageRegex?: string }[];
    const infra = categories.findIndex((c) => c.messageRegex?.includes(INFRASTRUCTURE_MARKER));
    expect(categories[infra]!.name).toBe(`Infrastructure: ${INFRASTRUCTURE_MARKER}`);
    expect(new RegExp(categories[infra]!.messageRegex!.replace('(?s)', ''), 's').test(`INCONCLUSIVE: a claim\n  observed: x\n  ${INFRASTRUCTURE_MARKER} (busy)`)).toBe(true);
    expect(infra).toBeLessThan(categories.findIndex((c) => c.name === 'Inconclusive'));
  });
});
