import { describeHealth, type LoadHealth } from '../load/health.js';

/**
 * The live progress line on stderr while load runs: scenario, sent, rate, errors, and the looks its
 * claims have had ("look 3/10"); then the load's health if it was not healthy.
 */
export class ProgressLine {
  private last = '';
  constructor(private readonly enabled: boolean, private readonly label: string, private readonly looks?: () => string) {}

  update(p: { sent: number; completed: number; errors: number; rps: number }): void {
    if (!this.enabled) return;
    const line = `  ${this.label} | sent ${p.sent} | ${p.rps.toFixed(0)} rps | errors ${p.errors}${this.looks ? ` | ${this.looks()}` : ''}`;
    this.last = line;
    process.stderr.write(process.stderr.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
  }

  done(health?: LoadHealth): void {
    if (this.enabled && this.last && process.stderr.isTTY) process.stderr.write('\n');
    if (this.enabled && health && !health.healthy) process.stderr.write(`  ${this.label} | load not healthy: ${health.reasons.join('; ')} (${describeHealth(health)})\n`);
  }
}
