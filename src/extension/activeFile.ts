import * as vscode from 'vscode';

/**
 * The file of the active editor tab. VS Code gives extensions no TextEditor (activeTextEditor is
 * undefined) for a file above 50 MB (microsoft/vscode#111849), as a million-event events.jsonl is;
 * its tab still names it.
 */
export function activeFileUri(): vscode.Uri | undefined {
  const editor = vscode.window.activeTextEditor?.document.uri;
  if (editor) return editor;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputText ? input.uri : undefined;
}
