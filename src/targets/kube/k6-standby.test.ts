import { appContext } from '../../meshes/registry.js';
import { k6StandbyObjects } from './k6-standby.js';
import { LOAD_LABEL } from './k6-job.js';

test('the standby k6 pod is meshed as the caller, idle, with the script mounted; a mirror is honoured', () => {
  const ctx = { ...appContext('ns', '1.31', 'run-1'), imageMirror: 'registry.example.com/mirror' };
  const pod = { labels: { app: 'loadclient' }, annotations: { 'proxy.istio.io/config': '{}' }, serviceAccountName: 'loadclient' };
  const [cm, p] = k6StandbyObjects({ ctx, name: 'k6-standby-1', pod });
  expect(cm).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'k6-standby-1-script', namespace: 'ns' }, data: { 'requests.js': expect.stringContaining('meshcheck_latency') } });
  expect(p).toMatchObject({
    kind: 'Pod',
    metadata: { name: 'k6-standby-1', labels: { app: 'loadclient', [LOAD_LABEL]: 'k6-standby-1' }, annotations: { 'proxy.istio.io/config': '{}' } },
    spec: { serviceAccountName: 'loadclient', restartPolicy: 'Never', containers: [{ name: 'k6', image: 'registry.example.com/mirror/grafana/k6:2.2.0', command: ['sh', '-c', 'exec sleep 86400'] }] },
  });
});
