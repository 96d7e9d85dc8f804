/**
 * The layout's rules (docs/adr/0010), checked in `npm test` (npm run lint):
 * - no import cycles;
 * - a mesh's folder (src/meshes/<mesh>/) is imported only from src/meshes/ (the registry hands meshes out);
 * - a target's folder (src/targets/<target>/) only from itself and the target registry;
 * - steps/ (the cucumber glue) only imports the session, the step catalogue and the leaf types they speak in.
 * Tests and benchmarks may reach into a folder they test (test/, bench/, and tests beside the code).
 */
const TESTS = '(^test/|^bench/|\\.test\\.ts$)';
const meshFolder = '^src/meshes/(?!render/)[^/]+/';
const targetRule = (t) => ({
  name: `only-${t}-target-imports-its-folder`,
  comment: `src/targets/${t}/ is the ${t} target's own: only it and the target registry import it`,
  severity: 'error',
  from: { pathNot: [`^src/targets/${t}/`, '^src/targets/registry\\.ts$', TESTS] },
  to: { path: `^src/targets/${t}/` },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'an import cycle: split the shared part out', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'mesh-folders-through-the-registry',
      comment: 'a mesh folder is imported only from src/meshes/ (outside it, ask src/meshes/registry.ts)',
      severity: 'error',
      from: { pathNot: ['^src/meshes/', TESTS] },
      to: { path: meshFolder },
    },
    targetRule('local'),
    targetRule('istio'),
    targetRule('kube'),
    {
      name: 'steps-are-glue',
      comment: 'steps/ calls the session and the step catalogue only (and speaks in their leaf types)',
      severity: 'error',
      from: { path: '^steps/' },
      to: { pathNot: ['^steps/', '^src/session/', '^src/gherkin/', '^src/(errors|evidence)\\.ts$', '^node_modules/'] },
    },
    { name: 'no-unresolvable', comment: 'an import that resolves to nothing', severity: 'error', from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^dist/|^node_modules/)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'], exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
