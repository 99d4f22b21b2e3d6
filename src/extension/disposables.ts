import type * as vscode from 'vscode';

/**
 * A disposal scope (extension lifetime, or one debug session). Whatever is added after the scope
 * was disposed is disposed at once, so a late callback cannot leak a listener or a panel.
 */
export class DisposableStore implements vscode.Disposable {
  private items: vscode.Disposable[] = [];
  private done = false;

  constructor(private readonly onError: (e: unknown) => void = () => {}) {}

  get isDisposed(): boolean {
    return this.done;
  }

  add<T extends vscode.Disposable>(d: T): T {
    if (this.done) this.disposeOne(d);
    else this.items.push(d);
    return d;
  }

  /** Disposes in reverse order of adding; one failing item does not keep the others alive. */
  dispose(): void {
    if (this.done) return;
    this.done = true;
    const items = this.items.reverse();
    this.items = [];
    for (const d of items) this.disposeOne(d);
  }

  private disposeOne(d: vscode.Disposable): void {
    try {
      d.dispose();
    } catch (e) {
      this.onError(e);
    }
  }
}
