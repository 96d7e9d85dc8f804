import { IntentError, type SourceRef } from '../errors.js';
import { DEFAULT_OUTLIER } from '../intents/defaults.js';
import type { Intent } from '../intents/types.js';
import type { StepDef } from './step-def.js';

/** A step that states a mesh policy: its expression and how its arguments become an intent. */
interface IntentStep {
  expression: string | RegExp;
  /** Whether the step takes a data table (after its expression's arguments). */
  table?: boolean;
  build(args: unknown[], ref: SourceRef | undefined, table?: Record<string, string>[]): Intent;
}

/** The intent vocabulary: each step states one mesh policy. */
const INTENTS: readonly IntentStep[] = [
  { expression: '{service} aborts {percent} of requests with status {int}', build: ([service, percent, httpStatus]) => ({ kind: 'FaultAbort', service: service as string, percent: percent as number, httpStatus: httpStatus as number }) },
  { expression: '{service} delays {percent} of requests by {duration}', build: ([service, percent, delayMs]) => ({ kind: 'FaultDelay', service: service as string, percent: percent as number, delayMs: delayMs as number }) },
  {
    expression: 'traffic to {service} is split:', table: true,
    build: ([service], ref, rows = []) => {
      if (rows.length === 0 || !('version' in rows[0]!) || !('weight' in rows[0]!)) throw new IntentError(ref, 'TrafficSplit: table has no version/weight columns', 'a table with header | version | weight |');
      return { kind: 'TrafficSplit', service: service as string, weights: rows.map((r) => ({ version: r.version!, weight: Number(r.weight) })) };
    },
  },
  { expression: 'requests to {service} with header {string} = {string} go to version {string}', build: ([service, header, value, version]) => ({ kind: 'HeaderRoute', service: service as string, header: header as string, value: value as string, version: version as string }) },
  { expression: 'mTLS is {word} for {service}', build: ([mode, service]) => ({ kind: 'MtlsMode', service: service as string, mode: mode as 'STRICT' }) },
  { expression: 'mTLS is {word} for the namespace', build: ([mode]) => ({ kind: 'MtlsMode', mode: mode as 'STRICT' }) },
  { expression: 'only {service} may call {service}', build: ([caller, service]) => ({ kind: 'Authorization', service: service as string, allowFrom: [caller as string] }) },
  { expression: /^"([^"]*)" allows at most (\d+) connections? and (\d+) pending requests?$/, build: ([service, c, p]) => ({ kind: 'ConnectionPool', service: service as string, maxConnections: Number(c), maxPendingRequests: Number(p) }) },
  { expression: '{service} ejects a host after {int} consecutive 5xx for {duration}', build: ([service, n, ms]) => ({ kind: 'OutlierDetection', service: service as string, consecutive5xx: n as number, baseEjectionMs: ms as number, ...DEFAULT_OUTLIER }) },
  { expression: 'calls to {service} time out after {duration}', build: ([service, timeoutMs]) => ({ kind: 'Timeout', service: service as string, timeoutMs: timeoutMs as number }) },
  { expression: /^calls to "([^"]*)" are retried up to (-?\d+) times? on ([\w,-]+)$/, build: ([service, attempts, on]) => ({ kind: 'Retry', service: service as string, attempts: Number(attempts), retryOn: (on as string).split(',') }) },
];

/** Intent steps as the catalogue holds them: each applies its intent, on top of those in effect. */
export const INTENT_STEPS: readonly StepDef[] = INTENTS.map((i) => ({
  keyword: 'Given', expression: i.expression, ...(i.table ? { table: true } : {}), intent: i.build,
  run: async (s, args, c) => ({ evidence: await s.applyIntent(i.build(args, c.ref, c.table), c.ref) }),
}));
