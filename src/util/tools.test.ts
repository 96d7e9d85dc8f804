import { buildScriptOf } from './tools.js';

describe('the tools cache', () => {
  test('each tool is built by the script whose "# tools:" line names it', () => {
    expect(buildScriptOf('k6')).toBe('scripts/build-k6.sh');
    expect(buildScriptOf('pilot-discovery')).toBe('scripts/build-istio.sh');
    expect(buildScriptOf('meshcheck-policy')).toBe('scripts/build-kube-tools.sh');
    expect(buildScriptOf('no-such-tool')).toBe('scripts/setup.sh');
  });
});
