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
