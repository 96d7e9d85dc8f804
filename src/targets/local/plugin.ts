import { REFERENCE } from '../../meshes/registry.js';
import type { TargetPlugin } from '../plugin.js';

/** The reference mesh on this machine: meshcheck's own sidecars on loopback (the default). */
export const localPlugin: TargetPlugin = {
  target: 'local',
  title: 'local target',
  runsWhat: 'the reference mesh',
  runs: (mesh) => mesh === REFERENCE.name,
  refuse: (mesh, runsWhat) => `--mesh ${mesh}: the local target runs ${runsWhat.join(' and ')} only; run ${mesh} with --target kube --context CTX, or see what it would apply with: meshcheck plan --mesh ${mesh}`,
  options: () => [],
  check: () => undefined,
  async start(s) {
    const { LocalTarget } = await import('./local-target.js');
    return LocalTarget.start(s.ledger, s.log, { warmPrometheus: s.warmPrometheus });
  },
};
