import { smpMeshType } from '../meshes/registry.js';
import type { ComparativeReport } from './comparative.js';

/**
 * Service Mesh Performance (SMP) export: per measured row, a PerformanceTestConfig, a
 * PerformanceTestResult and a ServiceMeshConfig in the proto3 JSON mapping of the SMP spec.
 */
export function renderSmp(r: ComparativeReport): unknown {
  return {
    smpVersion: 'v0.0.1',
    generator: `meshcheck ${r.meshcheckVersion}`,
    tests: r.rows.map((x, i) => {
      const id = `${x.runId}-${i}`;
      const run = r.runs.find((y) => y.runId === x.runId);
      const cpuMCores = x.sidecars ? Math.round(x.sidecars.reduce((a, s) => a + s.vcpuPer1000Rps.estimate, 0) * x.conditions.rps) : 0;
      return {
        performanceTestConfig: {
          smpVersion: 'v0.0.1', id, name: x.scenario, labels: { mesh: x.mesh, service: x.service },
          clients: [{ internal: true, loadGenerator: x.engine === 'k6' ? 'k6' : 'meshcheck-embedded', protocol: 'http', connections: x.conditions.connections, rps: String(x.conditions.rps) }],
          duration: `${(x.conditions.rounds * x.conditions.requestsPerRound) / x.conditions.rps}s`,
        },
        performanceTestResult: {
          smpVersion: 'v0.0.1', id, labels: { mesh: x.mesh, scenario: x.scenario },
          startTime: run?.startedAt,
          latenciesMs: { p50: x.latencyMs.p50, p90: x.latencyMs.p90, p99: x.latencyMs.p99 },
          actualQPS: x.throughputRps, testId: id, meshConfigId: `${id}-mesh`,
        },
        serviceMeshConfig: {
          smpVersion: 'v0.0.1', id: `${id}-mesh`, labels: { mesh: x.mesh },
          ...(x.sidecars ? { sidecar: { count: x.sidecars.length, cpuMCores, memMb: Math.round(x.sidecars.reduce((a, s) => a + s.memoryMb, 0)), rps: x.conditions.rps } } : {}),
          mtlsEnabled: x.mesh !== 'none' && x.conditions.mtls,
          ...(smpMeshType(x.mesh) ? { meshType: { type: smpMeshType(x.mesh) } } : {}),
        },
      };
    }),
  };
}
