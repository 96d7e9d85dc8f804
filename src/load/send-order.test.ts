import { SendOrder } from './send-order.js';
import type { Sample } from './profile.js';

const s = (status: number): Sample => ({ status, latencyUs: 1, overloaded: false, flags: '-' });

describe('SendOrder: responses in send order, up to the first outstanding request', () => {
  it('holds back responses that completed before an earlier request', () => {
    const o = new SendOrder();
    const [a, b, c] = [o.arrive(), o.arrive(), o.arrive()];
    o.complete(c, s(203));
    o.complete(b, s(202));
    expect(o.prefix).toEqual([]);
    o.complete(a, s(201));
    expect(o.prefix.map((x) => x.status)).toEqual([201, 202, 203]);
  });

  it('skips dropped arrivals without waiting for them', () => {
    const o = new SendOrder();
    const [a, b, c] = [o.arrive(), o.arrive(), o.arrive()];
    o.complete(a, s(201));
    o.drop(b);
    o.complete(c, s(203));
    expect(o.prefix.map((x) => x.status)).toEqual([201, 203]);
    expect(o.arrived).toBe(3);
  });

  it('refuses an arrival resolved twice', () => {
    const o = new SendOrder();
    const a = o.arrive();
    o.complete(a, s(200));
    expect(() => o.complete(a, s(200))).toThrow(/resolved twice/);
  });
});
