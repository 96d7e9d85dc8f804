import type { Live, Since } from '../../kube/status.js';
import type { K8sObject } from '../../kube/objects.js';
import { consulSignal } from './in-effect.js';

const obj = (apiVersion: string, kind: string): K8sObject => ({ apiVersion, kind, metadata: { name: 'reviews', namespace: 'meshcheck-r1' } });
const applied: Since = { appliedAt: new Date('2026-12-02T10:00:00.400Z'), changed: true };
const read = (o: K8sObject, live: Live, since = applied) => consulSignal(o)!(live, since);

describe('Consul: the Synced condition consul-k8s writes', () => {
  const splitter = obj('consul.hashicorp.com/v1alpha1', 'ServiceSplitter');
  const synced = (lastSyncedTime: string, status = 'True', extra = {}) => ({ metadata: { generation: 2 }, status: { conditions: [{ type: 'Synced', status, ...extra }], lastSyncedTime } });

  test('in effect when Synced True was written after this change (lastSyncedTime has whole seconds)', () => {
    expect(read(splitter, synced('2026-12-02T10:00:00Z'))).toMatchObject({ inEffect: true, how: 'Synced True (lastSyncedTime 2026-12-02T10:00:00Z)' });
  });

  test('a Synced True from before this change is not yet this change', () => {
    expect(read(splitter, synced('2026-12-02T09:59:59Z'))).toEqual({ inEffect: false, why: 'last synced 2026-12-02T09:59:59Z, before this change' });
  });

  test('an apply that changed nothing is in effect on the earlier sync', () => {
    expect(read(splitter, synced('2026-12-02T09:00:00Z'), { ...applied, changed: false }).inEffect).toBe(true);
  });

  test("a failed sync is pending with consul-k8s's own reason; no condition yet names the controller", () => {
    expect(read(splitter, synced('', 'False', { reason: 'ConsulAgentError', message: 'writing config entry to consul: protocol must be http' }))).toEqual({ inEffect: false, why: 'Synced False: ConsulAgentError: writing config entry to consul: protocol must be http' });
    expect(read(splitter, { metadata: { generation: 1 } })).toEqual({ inEffect: false, why: "no Synced condition yet (is consul-k8s's controller running?)" });
  });
});
