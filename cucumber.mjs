// cucumber-js profiles: run the features with cucumber itself, after a build (npm run build), e.g.
//   npx cucumber-js -p local features/traffic-shifting.feature
//   npx cucumber-js -p istio features/mtls.feature
//   MESHCHECK_CONTEXT=kind-mesh MESHCHECK_MESH=linkerd npx cucumber-js -p kube
// The run's settings reach the scenarios as worldParameters.meshcheck (src/session/settings.ts);
// `meshcheck run` passes the same value. The run record goes to runs/<run id>/.
// No paths: cucumber's own default is features/, and paths on the command line replace it.
const base = {
  import: ['dist/steps/**/*.js'],
  format: ['progress'],
  strict: true,
};

const settings = (target, mesh, options = {}) => ({ ...base, worldParameters: { meshcheck: { target, mesh, options } } });

export default settings('local', 'reference');
export const local = settings('local', 'reference');
export const istio = settings('local', 'istio');
export const kube = settings('kube', process.env.MESHCHECK_MESH ?? 'istio', { context: process.env.MESHCHECK_CONTEXT, kubeconfig: process.env.MESHCHECK_KUBECONFIG });
