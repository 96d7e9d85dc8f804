import { istiodReads, proxiesBehind, storeMissing, type StoredConfig } from './istiod.js';

const vs = (generation: number, uid = 'u1'): StoredConfig => ({ kind: 'VirtualService', apiVersion: 'networking.istio.io/v1', metadata: { name: 'reviews', namespace: 'shop', uid, generation } });

describe("istiod's view of applied config", () => {
  it('reads Istio kinds and the Gateway API, not core objects', () => {
    expect(istiodReads({ apiVersion: 'networking.istio.io/v1' })).toBe(true);
    expect(istiodReads({ apiVersion: 'security.istio.io/v1' })).toBe(true);
    expect(istiodReads({ apiVersion: 'gateway.networking.k8s.io/v1' })).toBe(true);
    expect(istiodReads({ apiVersion: 'v1' })).toBe(false);
    expect(istiodReads({ apiVersion: 'apps/v1' })).toBe(false);
  });

  it('holds an applied object only at its uid and at least its generation', () => {
    const want = [{ kind: 'VirtualService', name: 'reviews', namespace: 'shop', uid: 'u1', generation: 2 }];
    expect(storeMissing([vs(2)], want)).toEqual([]);
    expect(storeMissing([vs(3)], want)).toEqual([]);
    expect(storeMissing([vs(1)], want)).toEqual(['VirtualService shop/reviews held at generation 1, applied 2']);
    // Deleted and created again under the same name: a new uid, not yet seen.
    expect(storeMissing([vs(5, 'old')], want)).toEqual(['VirtualService shop/reviews held at generation 5, applied 2']);
    expect(storeMissing([], want)).toEqual(['VirtualService shop/reviews not yet held']);
  });

  it('waits for a removed object to leave the store', () => {
    const gone = [{ kind: 'VirtualService', name: 'reviews', namespace: 'shop', absent: true as const }];
    expect(storeMissing([vs(1)], gone)).toEqual(['VirtualService shop/reviews still held']);
    expect(storeMissing([{ ...vs(1), metadata: { ...vs(1).metadata, namespace: 'other' } }], gone)).toEqual([]);
  });

  it("counts a namespace's proxies with a push not acked yet", () => {
    const synced = { proxy: 'reviews-v1-abc.shop', cluster_sent: 'n1', cluster_acked: 'n1', listener_sent: 'n2', listener_acked: 'n2', route_sent: 'n3', route_acked: 'n3', endpoint_sent: 'n4', endpoint_acked: 'n4' };
    const behind = { ...synced, proxy: 'ratings-v1-def.shop', route_sent: 'n5' };
    const elsewhere = { ...behind, proxy: 'web-1.other' };
    expect(proxiesBehind([synced, behind, elsewhere], 'shop')).toEqual(['ratings-v1-def.shop']);
    expect(proxiesBehind([synced, elsewhere], 'shop')).toEqual([]);
  });
});
