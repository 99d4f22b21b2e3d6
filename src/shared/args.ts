/**
 * Command-line checks shared by the `recreplay` CLI and the standalone debug adapter, which both
 * parse with node:util's parseArgs (tokens on) and say the same mistakes the same way.
 */

/** The first option given more than once (parseArgs keeps the last value without a word), without dashes. */
export function repeatedOption(tokens: readonly { kind: string; name?: string }[] | undefined): string | undefined {
  const seen = new Set<string>();
  for (const t of tokens ?? []) {
    if (t.kind !== 'option' || t.name === undefined) continue;
    if (seen.has(t.name)) return t.name;
    seen.add(t.name);
  }
  return undefined;
}

/** The option an "Unknown option" error of parseArgs names, as written (with its dashes), or undefined. */
export function unknownOption(message: string): string | undefined {
  return /^Unknown option '([^']+)'/.exec(message)?.[1];
}

/**
 * Node's parseArgs texts for a value missing, a value given to a switch, a value that starts with
 * "-", and a word where none is taken, said plainly ("Option '--seed <value>' argument missing"
 * read as Node's, and the "-" one ran to three lines). `ranges` gives the range of each number
 * option, said when its value is missing or negative. Undefined for any other text.
 */
export function plainParseError(message: string, command: string, ranges: Readonly<Record<string, string>> = {}): string | undefined {
  const option = /^Option '(?:-\w, )?(--[\w-]+)[^']*'/.exec(message)?.[1];
  const range = option !== undefined ? ranges[option] : undefined;
  if (option !== undefined && / argument missing$/.test(message)) return `${option} needs a value${range ? `: a whole number from ${range}` : ''}`;
  if (option !== undefined && / does not take an argument$/.test(message)) return `${option} takes no value: write it alone, without "="`;
  if (option !== undefined && / argument is ambiguous/.test(message)) {
    // A number option takes no negative value: the "=" form would only be refused next.
    return range
      ? `${option} needs a whole number from ${range}, got what looks like an option or a negative number`
      : `${option} needs a value, and what follows it starts with "-": write a value that starts with "-" as ${option}=VALUE`;
  }
  const word = /^Unexpected argument '(.*)'\. This command does not take positional arguments/s.exec(message)?.[1];
  if (word !== undefined) return `${command} takes no folder or other word, got "${word}"`;
  return undefined;
}
