import type * as vscode from 'vscode';

/**
 * Turns a task's fractions (0..1) into the percent increments VS Code's progress wants, reporting
 * forward steps only (a message, when given, goes with the step).
 */
export function percentReporter(progress: vscode.Progress<{ increment?: number; message?: string }>): (fraction: number, message?: string) => void {
  let last = 0;
  return (fraction, message) => {
    const pct = Math.floor(fraction * 100);
    if (pct > last) progress.report({ increment: pct - last, ...(message !== undefined ? { message } : {}) });
    last = Math.max(last, pct);
  };
}
