import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { LEDGER_CONFIGMAP, startClusterLedger } from './cluster-ledger.js';
import { RUN_ID_LABEL } from './objects.js';

const exists = () => Object.assign(new Error('HTTP 409'), { code: 409, body: JSON.stringify({ kind: 'Status', reason: 'AlreadyExists', code: 409 }) });

/** An API whose ConfigMap is already there (as after a create whose reply was lost), with the given labels. */
function apiWith(labels: Record<string, string>) {
  const patches: KubernetesObject[] = [];
  const client = {
    create: async () => {
      throw exists();
    },
    read: async (o: KubernetesObject) => ({ ...o, metadata: { ...o.metadata, labels } }),
    patch: async (o: KubernetesObject) => {
      patches.push(o);
      return o;
    },
  } as unknown as KubernetesObjectApi;
  return { client, patches };
}

describe('the in-cluster ledger', () => {
  test("a create whose reply was lost (the ConfigMap is there with this run's label) goes on", async () => {
    const { client, patches } = apiWith({ [RUN_ID_LABEL]: 'r1' });
    const add = await startClusterLedger(client, 'meshcheck-r1', 'r1');
    await add({ seq: 1, op: 'done', ref: 0 });
    expect(patches.map((p) => [p.metadata?.name, Object.keys((p as { data: object }).data)])).toEqual([[LEDGER_CONFIGMAP, ['e000001']]]);
  });

  test("a ConfigMap of that name that is not this run's is not written over", async () => {
    const { client, patches } = apiWith({ [RUN_ID_LABEL]: 'another' });
    await expect(startClusterLedger(client, 'meshcheck-r1', 'r1')).rejects.toThrow(/ConfigMap meshcheck-ledger in namespace meshcheck-r1 already exists and is not run r1's ledger/);
    expect(patches).toEqual([]);
  });
});
