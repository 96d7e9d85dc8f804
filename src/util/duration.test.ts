import { formatMs, parseDuration } from './duration.js';

describe('durations', () => {
  it.each([['150ms', 150], ['2s', 2000], ['1.5s', 1500], ['1m', 60000]])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it('rejects a bare number, naming the expected form', () => {
    expect(() => parseDuration('150')).toThrow(/expected a number with ms, s, m or h/);
  });
  it('formats back', () => {
    expect(formatMs(1500)).toBe('1500ms');
    expect(formatMs(2000)).toBe('2s');
    expect(formatMs(60000)).toBe('1m');
  });
});
