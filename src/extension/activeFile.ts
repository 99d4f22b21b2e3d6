import * as vscode from 'vscode';

/**
 * The file of the active editor tab (not a panel's editor, such as the Output's). VS Code gives extensions no TextEditor (activeTextEditor is
 * undefined) for a file above 50 MB (microsoft/vscode#111849), as a million-event events.jsonl is;
 * its tab still names it.
 */
export function activeFileUri(): vscode.Uri | undefined {
  const editor = vscode.window.activeTextEditor?.document.uri;
  if (editor?.scheme === 'file') return editor;
  // With the Output panel focused, the active text editor is the output's (scheme `output`): F5
  // from there said to open an events.jsonl while one was the editor area's active tab.
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputText ? input.uri : editor;
}
