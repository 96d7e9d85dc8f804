import { UsageError, at } from '../errors.js';
import { profile } from '../load/profile.js';
import type { StepDef } from './step-def.js';

/** The workload: which versions run, and how an instance misbehaves (the app itself, not mesh policy). */
export const WORKLOAD_STEPS: readonly StepDef[] = [
  {
    keyword: 'Given', expression: 'the {service} service runs versions {string}',
    run: async (s, [service, list], c) => {
      const versions = (list as string).split(',').map((v) => v.trim()).filter(Boolean);
      if (versions.length === 0) throw new UsageError(`${at(c.ref)}: no versions listed; expected e.g. "v1, v2, v3"`);
      await s.runVersions(service as string, versions);
    },
  },
  { keyword: 'Given', expression: 'one instance of {service} fails every request with status {int}', run: (s, [service, status]) => s.failOneInstance(service as string, status as number) },
  { keyword: 'Given', expression: '{service} takes {duration} to respond', run: (s, [service, ms]) => s.slowService(service as string, ms as number) },
];

/** Load through the meshed load client's sidecar unless a caller is named; the request count is a budget. */
export const LOAD_STEPS: readonly StepDef[] = [
  {
    keyword: 'When',
    expression: '{int} requests are sent to {service} at {int} rps',
    budget: ([n]) => n as number,
    run: async (s, [n, service, rps], c) => ({
      evidence: await s.sendLoad(profile({ service: service as string, requests: n as number, rps: rps as number }), c.upcoming()),
    }),
  },
  {
    keyword: 'When',
    expression: '{service} sends {int} requests to {service} at {int} rps',
    budget: ([, n]) => n as number,
    run: async (s, [caller, n, service, rps], c) => ({
      evidence: await s.sendLoad(
        profile({ service: service as string, caller: caller as string, requests: n as number, rps: rps as number }),
        c.upcoming(),
      ),
    }),
  },
  {
    keyword: 'When',
    expression: '{int} requests with header {string} = {string} are sent to {service} at {int} rps',
    budget: ([n]) => n as number,
    run: async (s, [n, header, value, service, rps], c) => ({
      evidence: await s.sendLoad(
        profile({
          service: service as string,
          requests: n as number,
          rps: rps as number,
          headers: { [(header as string).toLowerCase()]: value as string },
        }),
        c.upcoming(),
      ),
    }),
  },
  {
    keyword: 'When',
    expression: '{int} concurrent requests are sent to {service}',
    budget: ([n]) => n as number,
    run: async (s, [n, service], c) => ({
      evidence: await s.sendLoad(profile({ service: service as string, requests: n as number, maxInFlight: n as number }), c.upcoming()),
    }),
  },
  {
    keyword: 'When',
    expression: 'a plaintext client outside the mesh calls {service}',
    run: async (s, [service]) => ({ evidence: await s.plaintextProbe(service as string) }),
  },
  {
    keyword: 'When',
    expression: '{int} rps are sent to {service} for {duration} with and without the mesh',
    run: async (s, [rps, service, ms]) => ({ evidence: await s.overheadRun(service as string, rps as number, ms as number) }),
  },
  {
    // The shape vendors publish their overhead under (Istio: 1 KB payloads over a fixed number of client connections).
    keyword: 'When',
    expression: '{int} rps are sent to {service} for {duration} with and without the mesh, as {int}-byte requests over {int} connections',
    run: async (s, [rps, service, ms, bytes, connections]) => {
      if ((connections as number) < 1) throw new UsageError(`${connections as number} connections: at least 1`);
      if ((bytes as number) < 0) throw new UsageError(`${bytes as number}-byte requests: the size cannot be negative`);
      return { evidence: await s.overheadRun(service as string, rps as number, ms as number, { payloadBytes: bytes as number, connections: connections as number }) };
    },
  },
];

/** The mesh control plane away: the data plane must keep the last config it was given. */
export const CONTROL_PLANE_STEPS: readonly StepDef[] = [
  { keyword: 'Given', expression: 'the mesh control plane is stopped', run: (s) => s.stopControlPlane() },
  {
    keyword: 'When',
    expression: '{int} requests are sent to {service} at {int} rps while the mesh control plane restarts',
    budget: ([n]) => n as number,
    run: async (s, [n, service, rps], c) => ({
      evidence: await s.sendLoadDuringRestart(profile({ service: service as string, requests: n as number, rps: rps as number }), c.upcoming()),
    }),
  },
];
