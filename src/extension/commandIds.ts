import * as vscode from 'vscode';

/**
 * Every command id of the extension, in one place, with the arguments each takes. package.json
 * `contributes.commands` lists the same ids (test/extension/manifest.test.ts checks both ways).
 */
export interface CommandArgs {
  'recreplay.debugSlice': [target?: SliceTarget];
  'recreplay.replayHeadless': [target?: SliceTarget];
  'recreplay.verifySlice': [target?: SliceTarget];
  'recreplay.sliceInfo': [target?: SliceTarget];
  'recreplay.openTimeline': [target?: vscode.Uri | string];
  'recreplay.showTimelineForSession': [];
  'recreplay.compareRuns': [a?: vscode.Uri | string, b?: vscode.Uri | string];
  'recreplay.revealEvent': [target?: EventTarget];
  'recreplay.gotoEvent': [target?: EventTarget];
  'recreplay.refreshSlices': [];
  'recreplay.toggleEventGrouping': [];
  'recreplay.openExamples': [];
  'recreplay.showLog': [];
  'recreplay.pickSlice': [];
  'recreplay.pickRanker': [config?: unknown];
}
export type CommandId = keyof CommandArgs;

export const COMMAND_IDS: readonly CommandId[] = [
  'recreplay.debugSlice',
  'recreplay.replayHeadless',
  'recreplay.verifySlice',
  'recreplay.sliceInfo',
  'recreplay.openTimeline',
  'recreplay.showTimelineForSession',
  'recreplay.compareRuns',
  'recreplay.revealEvent',
  'recreplay.gotoEvent',
  'recreplay.refreshSlices',
  'recreplay.toggleEventGrouping',
  'recreplay.openExamples',
  'recreplay.showLog',
  'recreplay.pickSlice',
  'recreplay.pickRanker',
];

/** A slice as commands receive it: a tree node, an explorer Uri, a path, or nothing (then they ask). */
export type SliceTarget = vscode.Uri | string | { sliceDir: string } | TreeNodeArg;
/** An event as commands receive it: a tree node or (slice folder, event number). */
export type EventTarget = { sliceDir: string; event: number } | TreeNodeArg;

/** What VS Code passes a view/item command of the Slices view: the tree element (a slice or an event node). */
export type TreeNodeArg = { kind: string; entry: { dir: string }; n?: number };

/** Registers a command with its typed arguments. */
export function registerCommand<K extends CommandId>(id: K, run: (...args: CommandArgs[K]) => unknown): vscode.Disposable {
  return vscode.commands.registerCommand(id, run as (...args: unknown[]) => unknown);
}

/** Runs a command of this extension with typed arguments. */
export function executeCommand<K extends CommandId>(id: K, ...args: CommandArgs[K]): Thenable<unknown> {
  return vscode.commands.executeCommand(id, ...args);
}
