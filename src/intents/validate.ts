import { IntentError, type SourceRef } from '../errors.js';
import { serviceSpec, knownServices, LOAD_CLIENT } from '../app/topology.js';
import type { Intent } from './types.js';

/** What the validator needs to know about the application under test. */
export interface AppShape {
  services: () => string[];
  versionsOf: (service: string) => string[] | undefined;
}

export const bookinfoShape: AppShape = {
  services: knownServices,
  versionsOf: (s) => serviceSpec(s)?.versions,
};

type Check = (cond: boolean, what: string, expected: string) => void;

/**
 * Rejects intents whose values cannot mean anything, naming the feature file and line.
 * Returns the intent unchanged so callers can write `validateIntent(build(...), ref)`.
 */
export function validateIntent<T extends Intent>(intent: T, ref?: SourceRef, app: AppShape = bookinfoShape): T {
  const check: Check = (cond, what, expected) => {
    if (!cond) throw new IntentError(ref, `${intent.kind}: ${what}`, expected);
  };
  const service = (name: string | undefined, role = 'service') => {
    if (name === undefined) return;
    check(app.versionsOf(name) !== undefined, `unknown ${role} "${name}"`, `one of ${app.services().map((s) => `"${s}"`).join(', ')}`);
  };
  const version = (svc: string, v: string) =>
    check((app.versionsOf(svc) ?? []).includes(v), `unknown version "${v}" of "${svc}"`, `one of ${(app.versionsOf(svc) ?? []).join(', ')}`);
  const percent = (p: number, name: string) =>
    check(Number.isFinite(p) && p >= 0 && p <= 100, `${name} ${p}% is out of range`, 'a percentage from 0% to 100%');
  const positiveMs = (ms: number, name: string, allowZero = false) =>
    check(Number.isFinite(ms) && (allowZero ? ms >= 0 : ms > 0), `${name} ${ms}ms is not a positive duration`, 'a duration above zero such as 150ms, 2s or 1m');
  const count = (n: number, name: string, min = 1) =>
    check(Number.isInteger(n) && n >= min, `${name} ${n} is not a whole number >= ${min}`, `an integer of at least ${min}`);

  if ('service' in intent) service(intent.service);
  switch (intent.kind) {
    case 'FaultDelay':
      percent(intent.percent, 'delay share');
      positiveMs(intent.delayMs, 'delay');
      break;
    case 'FaultAbort':
      percent(intent.percent, 'abort share');
      check(Number.isInteger(intent.httpStatus) && intent.httpStatus >= 200 && intent.httpStatus <= 599, `status ${intent.httpStatus} is not an HTTP status`, 'an HTTP status from 200 to 599');
      break;
    case 'TrafficSplit': {
      check(intent.weights.length > 0, 'no versions given', 'a table with columns version and weight');
      const seen = new Set<string>();
      for (const w of intent.weights) {
        version(intent.service, w.version);
        check(!seen.has(w.version), `version "${w.version}" is listed twice`, 'each version once');
        seen.add(w.version);
        check(Number.isInteger(w.weight) && w.weight >= 0 && w.weight <= 100, `weight ${w.weight} of ${w.version} is out of range`, 'an integer weight from 0 to 100');
      }
      const sum = intent.weights.reduce((a, w) => a + w.weight, 0);
      check(sum === 100, `weights sum to ${sum}`, 'weights that sum to 100');
      break;
    }
    case 'HeaderRoute':
      check(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(intent.header), `"${intent.header}" is not a valid header name`, 'an HTTP header name such as end-user');
      version(intent.service, intent.version);
      break;
    case 'MtlsMode':
      check(intent.mode === 'STRICT' || intent.mode === 'PERMISSIVE', `mode "${intent.mode}"`, 'STRICT or PERMISSIVE');
      break;
    case 'ConnectionPool':
      count(intent.maxConnections, 'max connections');
      count(intent.maxPendingRequests, 'max pending requests', 0);
      if (intent.maxRequests !== undefined) count(intent.maxRequests, 'max requests');
      break;
    case 'OutlierDetection':
      count(intent.consecutive5xx, 'consecutive 5xx');
      positiveMs(intent.intervalMs, 'interval');
      positiveMs(intent.baseEjectionMs, 'ejection time');
      if (intent.maxEjectionPercent !== undefined) percent(intent.maxEjectionPercent, 'max ejection');
      break;
    case 'Retry':
      count(intent.attempts, 'retry attempts', 0);
      if (intent.perTryTimeoutMs !== undefined) positiveMs(intent.perTryTimeoutMs, 'per-try timeout');
      for (const c of intent.retryOn) check(RETRY_ON.has(c) || /^[1-5]\d\d$/.test(c), `retry condition "${c}"`, `one of ${[...RETRY_ON].join(', ')} or a status code`);
      break;
    case 'Timeout':
      positiveMs(intent.timeoutMs, 'timeout');
      break;
    case 'Authorization':
      check(intent.allowFrom.length > 0, 'no caller allowed', 'at least one caller service');
      for (const c of intent.allowFrom) if (c !== LOAD_CLIENT) service(c, 'caller');
      break;
  }
  return intent;
}

/** Envoy retry-on conditions the reference sidecar implements. */
export const RETRY_ON = new Set(['5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-4xx', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes']);
