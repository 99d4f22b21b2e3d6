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
  /** Cancelled by Ctrl-C (SIGINT). */
  CANCELLED: 130,
  /** Cancelled by SIGTERM (a CI timeout, `docker stop`). */
  TERMINATED: 143,
  /** Cancelled by SIGHUP (the terminal closed). */
  HANGUP: 129,
} as const;
