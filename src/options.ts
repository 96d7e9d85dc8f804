/**
 * A command-line option declared once, where it is read (a target's settings, a mesh's cluster
 * wait): the CLI builds its flags from these, and the value reaches the code that declared it.
 */
export interface OptionSpec {
  /** The settings key, camelCase (istiodUrl). */
  name: string;
  /** The flag as commander takes it: "--istiod-url <url>". */
  flag: string;
  description: string;
  /** Why a value is not acceptable (the message names the flag), or undefined when it is. */
  check?(value: string): string | undefined;
}

/** The flag's name alone: "--istiod-url <url>" -> "--istiod-url". */
export function flagName(o: OptionSpec): string {
  return o.flag.split(/[ ,]/)[0]!;
}

/** The values of a list of declared options, by name: each a string as given, or absent. */
export type OptionValues<T extends readonly OptionSpec[]> = { [K in T[number]['name']]?: string };

/** An option's check for values the CLI cannot type: runs `parse`, and its error message is the check's. */
export function checkedBy(parse: (value: string) => unknown): (value: string) => string | undefined {
  return (value) => {
    try {
      parse(value);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };
}
