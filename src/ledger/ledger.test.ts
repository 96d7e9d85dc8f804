/** The ledger once sealed by an interrupt. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InterruptedError } from '../errors.js';
import { Ledger } from './ledger.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'meshcheck-ledger-test-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a sealed ledger records undos only; every other change is refused as interrupted', () => {
  const l = new Ledger('sealed', dir);
  const seq = l.record({ op: 'directory', path: join(dir, 'x'), what: 'before the signal' });
  l.seal('interrupted (SIGINT)');
  expect(() => l.record({ op: 'directory', path: join(dir, 'y'), what: 'after it' })).toThrow(InterruptedError);
  expect(() => l.record({ op: 'directory', path: join(dir, 'y'), what: 'after it' })).toThrow('interrupted (SIGINT): directory not made');
  l.record({ op: 'done', ref: seq });
  expect(Ledger.read(l.file).map((e) => e.op)).toEqual(['directory', 'done']);
});
