/**
 * Text for a VS Code notification (an error, warning or information message, a progress title, a
 * debug adapter's `important` output). VS Code turns `[label](command:…)`, `[label](https://…)` and
 * `[label](file:…)` in such text into links, and a command link runs its command with the
 * arguments the link carries when clicked (workbench.action.terminal.sendSequence types into the
 * terminal). A slice's name, a file name or an id quoted by an error is not ours to make a link.
 */

/**
 * `text` with every `](` written `] (`: no longer the syntax of a link (VS Code's pattern wants the
 * two characters together), still readable, and the same text where no link could be.
 */
export function linkless(text: string): string {
  return text.includes('](') ? text.replace(/\]\(/g, '] (') : text;
}
