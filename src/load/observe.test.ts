import { observeLoad } from './observe.js';
import { mergeK6 } from './k6.js';
import { profile } from './profile.js';
import type { LoadResult } from './result.js';

/** A load during which meshcheck's own event loop is blocked for 60 ms at a time. */
async function blockedLoop(result: LoadResult): Promise<LoadResult> {
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 15));
    const until = performance.now() + 60;
    while (performance.now() < until) { /* busy */ }
  }
  return result;
}

const empty = () => mergeK6(profile({ service: 'reviews', requests: 10, rps: 10 }), [], 0, 1000);

test('meshcheck\'s event-loop delay counts against a load it generated, not one generated in the cluster (D6)', async () => {
  const here = await observeLoad([], () => blockedLoop(empty()));
  expect(here.health?.reasons.join('; ')).toMatch(/engine event-loop delay p99/);
  const inCluster = await observeLoad([], () => blockedLoop({ ...empty(), inCluster: true }));
  expect(inCluster.health?.eventLoopDelayMs).toBeNull();
  expect(inCluster.health?.reasons.join('; ') ?? '').not.toMatch(/event-loop/);
});
