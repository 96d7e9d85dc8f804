/**
 * Why a helm is too old for install, from what `helm version --short` printed; undefined when it will do.
 * install reads a release with `helm get metadata` (3.13) and upgrades with --reset-then-reuse-values (3.14).
 */
export function helmTooOld(versionShort: string): string | undefined {
  const m = /^v(\d+)\.(\d+)\./.exec(versionShort.trim());
  if (!m) return `helm version --short printed "${versionShort.trim()}", not a version`;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major > 3 || (major === 3 && minor >= 14)) return undefined;
  return `helm ${versionShort.trim()} is too old: install needs 3.14 or later (helm get metadata, upgrade --reset-then-reuse-values)`;
}
