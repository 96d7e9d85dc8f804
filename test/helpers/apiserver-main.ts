/**
 * `npm run apiserver`: a real kube-apiserver + etcd on loopback with the meshes' CRDs installed, for
 * trying `meshcheck run --target kube` or kubectl against real schemas. With `--cluster`, also
 * kube-controller-manager, kube-scheduler and kwok's simulated nodes (Deployments roll out, no
 * container runs); with `--istiod` as well, a real istiod watching it. Ctrl-C stops everything and
 * removes its state. The binaries come from scripts/build-kube-tools.sh and scripts/build-istio.sh
 * (npm run apiserver runs setup's builds first).
 */
import { join } from 'node:path';
import { installCrds, readCrds, startApiServer } from '../../src/kube/apiserver.js';
import { startTestCluster } from './cluster.js';
import { describeError } from '../../src/errors.js';
import { PACKAGE_ROOT } from '../../src/cli/paths.js';

const args = process.argv.slice(2);
for (const a of args) {
  if (!['--cluster', '--istiod', '--help'].includes(a)) {
    process.stderr.write(`apiserver: unknown option ${a} (options: --cluster, --istiod)\n`);
    process.exit(2);
  }
}
if (args.includes('--help')) {
  process.stdout.write('npm run apiserver [-- --cluster [--istiod]]\n  --cluster  also kube-controller-manager, kube-scheduler and kwok (2 simulated nodes)\n  --istiod   also a real istiod 1.31 watching it (implies --cluster)\n');
  process.exit(0);
}
const withIstiod = args.includes('--istiod');
const log = (m: string) => process.stderr.write(`apiserver: ${m}\n`);
let api: Awaited<ReturnType<typeof startApiServer>> | undefined;
try {
  api = withIstiod || args.includes('--cluster') ? await startTestCluster(log) : await startApiServer(log);
  const stop = () => void api!.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await installCrds(api, readCrds(join(PACKAGE_ROOT, 'clusters', 'crds')), log);
  process.stdout.write(`kubeconfig: ${api.kubeconfigFile}\ncontext: meshcheck-test\nserver: ${api.url}\n`);
  if (withIstiod) {
    const { IstioControlPlane } = await import('../../src/targets/istio/control-plane.js');
    const cp = await IstioControlPlane.startOn(api, api.dir, log);
    const url = `http://127.0.0.1:${cp.ports.monitoring}`;
    process.stdout.write(`istiod: ${cp.version}, debug port ${url}\n`);
    process.stdout.write(`try: node bin/meshcheck.js run --target kube --context meshcheck-test --kubeconfig ${api.kubeconfigFile} --mesh istio --istiod-url ${url}\n`);
  } else {
    process.stdout.write(`try: node bin/meshcheck.js plan --mesh istio --format yaml | kubectl --kubeconfig ${api.kubeconfigFile} apply --server-side --dry-run=server -f -\n`);
  }
  log('running; Ctrl-C stops it');
} catch (err) {
  log(describeError(err));
  // What did come up goes too (a failure after the servers started, e.g. installing the CRDs).
  await api?.stop().catch(() => undefined);
  process.exit(3);
}
