/** Exit codes of `recreplay` (documented in docs/cli.md). */
export const EXIT = {
  OK: 0,
  /** `run --break`: the replay finished without the expression ever holding. */
  NOT_HIT: 1,
  USAGE: 2,
  /** Bad input: slice, manifest, event line, ranker or artifact. */
  INPUT: 3,
  /** The slice's files do not match its manifest. */
  MODIFIED: 4,
  INTERNAL: 70,
  CANCELLED: 130,
} as const;
