/**
 * Every notification the extension shows goes through here: its text (which quotes slice names,
 * file names and ids from slices and traces anyone may have written) is made linkless first, so
 * a crafted name cannot become a link that runs a command (see src/shared/linkless.ts).
 * Lint keeps vscode.window's show*Message and withProgress out of the other files.
 */
import * as vscode from 'vscode';
import { linkless } from '../shared/linkless';

type Rest<T extends string> = [vscode.MessageOptions, ...T[]] | T[];

function shown<T extends string>(show: (message: string, ...rest: Rest<T>) => Thenable<T | undefined>, message: string, rest: Rest<T>): Thenable<T | undefined> {
  return show(linkless(message), ...rest);
}

/** vscode.window.showErrorMessage, its text linkless. */
export function showError<T extends string>(message: string, ...rest: Rest<T>): Thenable<T | undefined> {
  return shown((m, ...r: Rest<T>) => vscode.window.showErrorMessage(m, ...(r as [vscode.MessageOptions, ...T[]])), message, rest);
}

/** vscode.window.showWarningMessage, its text linkless. */
export function showWarning<T extends string>(message: string, ...rest: Rest<T>): Thenable<T | undefined> {
  return shown((m, ...r: Rest<T>) => vscode.window.showWarningMessage(m, ...(r as [vscode.MessageOptions, ...T[]])), message, rest);
}

/** vscode.window.showInformationMessage, its text linkless. */
export function showInfo<T extends string>(message: string, ...rest: Rest<T>): Thenable<T | undefined> {
  return shown((m, ...r: Rest<T>) => vscode.window.showInformationMessage(m, ...(r as [vscode.MessageOptions, ...T[]])), message, rest);
}

type Report = { message?: string; increment?: number };

/** vscode.window.withProgress, its title and every message reported linkless (a notification shows both). */
export function withProgress<R>(options: vscode.ProgressOptions, task: (progress: vscode.Progress<Report>, token: vscode.CancellationToken) => Thenable<R>): Thenable<R> {
  return vscode.window.withProgress({ ...options, ...(options.title !== undefined ? { title: linkless(options.title) } : {}) }, (progress, token) =>
    task({ report: (v) => progress.report(v.message !== undefined ? { ...v, message: linkless(v.message) } : v) }, token),
  );
}
