/**
 * `npm run apiserver`: a real kube-apiserver + etcd on loopback with the meshes' CRDs installed, for
 * trying `meshcheck run --target kube` or kubectl against real schemas. Ctrl-C stops it and removes
 * its state. Build the binaries first: bash scripts/build-kube-tools.sh (npm run apiserver does).
 */
import { join } from 'node:path';
import { installCrds, readCrds, startTestApiServer } from './test-apiserver.js';
import { describeError } from '../errors.js';
import { PACKAGE_ROOT } from '../cli/paths.js';

const log = (m: string) => process.stderr.write(`apiserver: ${m}\n`);
try {
  const api = await startTestApiServer(log);
  const stop = () => void api.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await installCrds(api, readCrds(join(PACKAGE_ROOT, 'clusters', 'crds')), log);
  process.stdout.write(`kubeconfig: ${api.kubeconfigFile}\ncontext: meshcheck-test\nserver: ${api.url}\n`);
  process.stdout.write(`try: node bin/meshcheck.js plan --mesh istio --format yaml | kubectl --kubeconfig ${api.kubeconfigFile} apply --server-side --dry-run=server -f -\n`);
  log('running; Ctrl-C stops it');
} catch (err) {
  log(describeError(err));
  process.exit(3);
}
