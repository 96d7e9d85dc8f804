/** "1.22.3" -> [1, 22]; compares MAJOR.MINOR only. */
export function atLeast(version: string, min: string): boolean {
  const parse = (v: string) => v.replace(/^v/, '').split(/[.+-]/).slice(0, 2).map((p) => Number(p) || 0);
  const [a1 = 0, a2 = 0] = parse(version);
  const [b1 = 0, b2 = 0] = parse(min);
  return a1 !== b1 ? a1 > b1 : a2 >= b2;
}

