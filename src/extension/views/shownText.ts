import type * as vscode from 'vscode';
import { printable } from '../../shared/printable';

/**
 * A tree item's label, description and plain tooltip as text to look at: they quote ids, names and
 * values from slices anyone may have written, and a bidi override (U+202E) in an item id shows the
 * characters after it reversed ("i_evil\u202E01_i" reads as another item), while control characters
 * draw nothing. Each is shown as an escape (\u202e, \x1b), as the CLI shows them.
 */
export function shownText<T extends vscode.TreeItem>(item: T): T {
  if (typeof item.label === 'string') item.label = printable(item.label);
  else if (item.label) item.label = { ...item.label, label: printable(item.label.label) };
  if (typeof item.description === 'string') item.description = printable(item.description);
  if (typeof item.tooltip === 'string') item.tooltip = printable(item.tooltip);
  return item;
}
