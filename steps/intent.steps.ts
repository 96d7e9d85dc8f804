import type { DataTable } from '@cucumber/cucumber';
import { Given } from './support/dsl.js';
import type { MeshWorld } from './support/world.js';
import { IntentError } from '../src/errors.js';
import { DEFAULT_OUTLIER } from '../src/intents/defaults.js';

Given('{service} aborts {percent} of requests with status {int}', async function (this: MeshWorld, service: string, percent: number, httpStatus: number) {
  await this.applyIntent({ kind: 'FaultAbort', service, percent, httpStatus });
});

Given('{service} delays {percent} of requests by {duration}', async function (this: MeshWorld, service: string, percent: number, delayMs: number) {
  await this.applyIntent({ kind: 'FaultDelay', service, percent, delayMs });
});

Given('traffic to {service} is split:', async function (this: MeshWorld, service: string, table: DataTable) {
  const rows = table.hashes();
  if (rows.length === 0 || !('version' in rows[0]!) || !('weight' in rows[0]!)) throw new IntentError(this.ref, 'TrafficSplit: table has no version/weight columns', 'a table with header | version | weight |');
  const weights = rows.map((r) => ({ version: r.version!, weight: Number(r.weight) }));
  await this.applyIntent({ kind: 'TrafficSplit', service, weights });
});

Given('requests to {service} with header {string} = {string} go to version {string}', async function (this: MeshWorld, service: string, header: string, value: string, version: string) {
  await this.applyIntent({ kind: 'HeaderRoute', service, header, value, version });
});

Given('mTLS is {word} for {service}', async function (this: MeshWorld, mode: string, service: string) {
  await this.applyIntent({ kind: 'MtlsMode', service, mode: mode as 'STRICT' });
});

Given('mTLS is {word} for the namespace', async function (this: MeshWorld, mode: string) {
  await this.applyIntent({ kind: 'MtlsMode', mode: mode as 'STRICT' });
});

Given('only {service} may call {service}', async function (this: MeshWorld, caller: string, service: string) {
  await this.applyIntent({ kind: 'Authorization', service, allowFrom: [caller] });
});

Given(/^"([^"]*)" allows at most (\d+) connections? and (\d+) pending requests?$/, async function (this: MeshWorld, service: string, maxConnections: string, pending: string) {
  await this.applyIntent({ kind: 'ConnectionPool', service, maxConnections: Number(maxConnections), maxPendingRequests: Number(pending) });
});

Given('{service} ejects a host after {int} consecutive 5xx for {duration}', async function (this: MeshWorld, service: string, n: number, ms: number) {
  await this.applyIntent({ kind: 'OutlierDetection', service, consecutive5xx: n, baseEjectionMs: ms, ...DEFAULT_OUTLIER });
});

Given('calls to {service} time out after {duration}', async function (this: MeshWorld, service: string, timeoutMs: number) {
  await this.applyIntent({ kind: 'Timeout', service, timeoutMs });
});

Given(/^calls to "([^"]*)" are retried up to (-?\d+) times? on ([\w,-]+)$/, async function (this: MeshWorld, service: string, attempts: string, on: string) {
  await this.applyIntent({ kind: 'Retry', service, attempts: Number(attempts), retryOn: on.split(',') });
});
