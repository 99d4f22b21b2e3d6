/**
 * Text for a VS Code notification (an error, warning or information message, a progress title, a
 * debug adapter's `important` output). VS Code turns `[label](command:…)`, `[label](https://…)` and
 * `[label](file:…)` in such text into links, and a command link runs its command with the
 * arguments the link carries when clicked (workbench.action.terminal.sendSequence types into the
 * terminal). A slice's name, a file name or an id quoted by an error is not ours to make a link.
 */

/**
 * `text` with each `](` that opens a URI (`](command:`, `](https://`) written `] (`: no longer the
 * syntax of a link (VS Code's pattern wants the two characters together), still readable. Other
 * text is left as it is (an expression quoted by an error, with a caret under one of its columns).
 */
export function linkless(text: string): string {
  return text.includes('](') ? text.replace(/\]\((?=[a-z][a-z0-9+.-]*:)/gi, '] (') : text;
}
