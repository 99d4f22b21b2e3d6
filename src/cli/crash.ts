import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOOL_VERSION } from '../core/version';
import { shout } from './format';

/**
 * A bug in recreplay (not the user's input): one short line on stderr saying so, and where the
 * details are — a crash report in the temp folder with the stack, the version and the command,
 * to attach to a report. A stack of the bundle's line numbers is no use to the user reading a CI
 * log, and twenty lines of it buried the one line that said what happened. When the report
 * cannot be written (a full or read-only temp folder), the stack goes to stderr instead.
 */
export function reportCrash(e: unknown, argv: readonly string[]): void {
  const err = e instanceof Error ? e : new Error(String(e));
  const what = `${err.name}: ${err.message.split('\n')[0] ?? ''}`;
  const details = [
    `recreplay ${TOOL_VERSION}, Node ${process.version}, ${process.platform}-${process.arch}`,
    `command: recreplay ${argv.map((a) => JSON.stringify(a)).join(' ')}`,
    `cwd: ${process.cwd()}`,
    '',
    err.stack ?? what,
    '',
  ].join('\n');
  // A name no other crash has (pid and time), created, never over an existing file ('wx').
  const path = join(tmpdir(), `recreplay-crash-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.txt`);
  let written = false;
  try {
    writeFileSync(path, details, { flag: 'wx', mode: 0o600 });
    written = true;
  } catch {
    // Said on stderr instead, below.
  }
  shout(
    `recreplay: internal error (a bug in recreplay, not a problem with your input): ${what}` +
      (written ? `\n  The details are in ${path}: please report the bug with that file.` : `\n  Please report the bug with these details:\n${details}`),
  );
}
