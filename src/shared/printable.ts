/**
 * Text from a slice, a trace or a launch configuration as a terminal may be given it: the CLI's
 * output and the standalone adapter's log (its stderr, a `--log` file someone `tail`s).
 */

// Control characters, the bidirectional overrides and isolates that reorder what a terminal shows,
// and the invisible direction marks (LRM, RLM, ALM) that move the text around them.
// eslint-disable-next-line no-control-regex -- matching them is the point
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text for a terminal: a slice's names, ids and messages can hold escape sequences (clear the
 * screen, retitle the window, write the clipboard) that would otherwise be sent as they are.
 * Each control character is shown as an escape (\x1b); tabs and newlines stay.
 */
export function printable(s: string): string {
  return s.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * A value from a slice on one line of a terminal: printable(), and a line break shown as \n. A
 * slice's description, id or field printed as it was could start a line of its own in a report —
 * "hash status  intact" under a modified slice's name — that read as the tool's.
 */
export function oneLine(s: string): string {
  return printable(s).replace(/\n/g, '\\n');
}
