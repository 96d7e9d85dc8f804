import { mkdtempSync, readFileSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { sha256, undoHostChange, withContext } from './host.js';

const ENTRY = { server: 'https://10.250.0.1:6443', ca: '/s/ca.crt', cert: '/s/admin.crt', key: '/s/admin.key' };
const USERS = `# my clusters
apiVersion: v1
kind: Config
clusters: [{name: prod, cluster: {server: "https://prod.example:6443"}}]
users: [{name: me, user: {token: abc}}]
contexts: [{name: prod, context: {cluster: prod, user: me}}]
current-context: prod
`;

/** What cluster up does with a kubeconfig: back it up, record the hash of what it writes, write. */
function addTo(file: string) {
  const dir = mkdtempSync(join(tmpdir(), 'meshcheck-kc-'));
  const text = withContext(file, 'meshcheck-node', ENTRY);
  const backup = existsSync(file) ? join(dir, 'before') : undefined;
  if (backup) copyFileSync(file, backup);
  writeFileSync(file, text);
  return { kind: 'kubeconfig' as const, file, name: 'meshcheck-node', written: sha256(text), ...(backup ? { backup } : {}) };
}

test('the context is added beside the user\'s; undone, the file is back byte for byte (comments included)', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'meshcheck-kc-')), 'config');
  writeFileSync(file, USERS);
  const change = addTo(file);
  const doc = parse(readFileSync(file, 'utf8'));
  expect(doc.contexts.map((c: { name: string }) => c.name)).toEqual(['prod', 'meshcheck-node']);
  expect(doc['current-context']).toBe('prod');
  expect(await undoHostChange(change)).toEqual([`put ${file} back as it was`]);
  expect(readFileSync(file, 'utf8')).toBe(USERS);
});

test('when the user changed the file meanwhile, only the node\'s entries are taken out', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'meshcheck-kc-')), 'config');
  writeFileSync(file, USERS);
  const change = addTo(file);
  writeFileSync(file, readFileSync(file, 'utf8').replace('current-context: prod', 'current-context: meshcheck-node'));
  expect(await undoHostChange(change)).toEqual([`removed context meshcheck-node from ${file}`]);
  const doc = parse(readFileSync(file, 'utf8'));
  expect([doc.clusters, doc.users, doc.contexts].map((l: { name: string }[]) => l.map((x) => x.name))).toEqual([['prod'], ['me'], ['prod']]);
  expect(doc['current-context']).toBe('');
});

test('a kubeconfig the node created is removed', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'meshcheck-kc-')), 'config');
  const change = addTo(file);
  expect(parse(readFileSync(file, 'utf8'))['current-context']).toBe('meshcheck-node');
  expect(await undoHostChange(change)).toEqual([`removed ${file} (meshcheck cluster up made it)`]);
  expect(existsSync(file)).toBe(false);
});
