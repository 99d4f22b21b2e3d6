/**
 * A small typed fake of the parts of the `vscode` module the extension's units use. Classes
 * implement the real interfaces from @types/vscode, so a drift in the API shows up as a type
 * error here. `installVscodeFake()` (see setup.ts) makes `require('vscode')` return this module.
 */
import type * as vscode from 'vscode';

export enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}

export class ThemeColor implements vscode.ThemeColor {
  constructor(readonly id: string) {}
}

export class ThemeIcon implements vscode.ThemeIcon {
  static readonly File = new ThemeIcon('file');
  static readonly Folder = new ThemeIcon('folder');
  constructor(
    readonly id: string,
    readonly color?: vscode.ThemeColor,
  ) {}
}

export class MarkdownString implements vscode.MarkdownString {
  value = '';
  isTrusted?: boolean;
  supportThemeIcons?: boolean;
  supportHtml?: boolean;
  constructor(value = '') {
    this.value = value;
  }
  appendText(value: string): MarkdownString {
    this.value += value.replace(/[\\`*_{}[\]()#+\-.!]/g, '\\$&');
    return this;
  }
  appendMarkdown(value: string): MarkdownString {
    this.value += value;
    return this;
  }
  appendCodeblock(value: string, language = ''): MarkdownString {
    this.value += `\n\`\`\`${language}\n${value}\n\`\`\`\n`;
    return this;
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly fsPath: string,
  ) {}
  static file(path: string): Uri {
    return new Uri('file', path);
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, [base.fsPath, ...parts].join('/'));
  }
  get path(): string {
    return this.fsPath;
  }
  with(change: { path?: string }): Uri {
    return new Uri(this.scheme, change.path ?? this.fsPath);
  }
  toString(): string {
    return `${this.scheme}://${this.fsPath}`;
  }
}

/** Position and Range hold what the extension reads of them (no arithmetic), like Uri above. */
export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(startLine: number, startCharacter: number, endLine: number, endCharacter: number) {
    this.start = new Position(startLine, startCharacter);
    this.end = new Position(endLine, endCharacter);
  }
  get isEmpty(): boolean {
    return this.start.line === this.end.line && this.start.character === this.end.character;
  }
}

/** The input of a text editor tab: a file VS Code does not sync to extensions still has one. */
export class TabInputText {
  constructor(readonly uri: Uri) {}
}

export class Disposable implements vscode.Disposable {
  constructor(private readonly fn: () => void) {}
  static from(...ds: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => ds.forEach((d) => d.dispose()));
  }
  dispose(): void {
    this.fn();
  }
}

export class EventEmitter<T> implements vscode.EventEmitter<T> {
  private listeners: ((e: T) => unknown)[] = [];
  readonly event: vscode.Event<T> = (listener: (e: T) => unknown) => {
    this.listeners.push(listener);
    return new Disposable(() => (this.listeners = this.listeners.filter((l) => l !== listener)));
  };
  fire(data: T): void {
    for (const l of [...this.listeners]) l(data);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class TreeItem implements vscode.TreeItem {
  id?: string;
  description?: string | boolean;
  tooltip?: string | vscode.MarkdownString;
  iconPath?: vscode.ThemeIcon;
  contextValue?: string;
  command?: vscode.Command;
  resourceUri?: vscode.Uri;
  constructor(
    public label: string | vscode.TreeItemLabel,
    public collapsibleState: vscode.TreeItemCollapsibleState = TreeItemCollapsibleState.None,
  ) {}
}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  readonly token: vscode.CancellationToken = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
  cancel(): void {
    (this.token as { isCancellationRequested: boolean }).isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {
    this.emitter.dispose();
  }
}

/** Settings the fake's getConfiguration serves, keyed `recreplay.x.y`; tests set them. */
export const settings = new Map<string, unknown>();

type Levels = { globalValue?: unknown; workspaceValue?: unknown; workspaceFolderValue?: unknown };
/** Values per level (what `inspect` shows), keyed like `settings`; set them with setSettingAt. */
export const settingLevels = new Map<string, Levels>();
/** Every `update` of a setting (key, value, target), for assertions. */
export const settingUpdates: { key: string; value: unknown; target: unknown }[] = [];
// As in VS Code: `true` is the user level, `false`, undefined and null the workspace (the fake has no resource scope).
const levelOf = (target: unknown): keyof Levels => (target === ConfigurationTarget.WorkspaceFolder ? 'workspaceFolderValue' : target === ConfigurationTarget.Global || target === true ? 'globalValue' : 'workspaceValue');

/** Sets a setting at one level; `settings` gets the value that wins (folder > workspace > user). */
export function setSettingAt(key: string, target: ConfigurationTarget | boolean | null | undefined, value: unknown): void {
  const l = { ...settingLevels.get(key), [levelOf(target)]: value };
  settingLevels.set(key, l);
  const effective = l.workspaceFolderValue ?? l.workspaceValue ?? l.globalValue;
  if (effective === undefined) settings.delete(key);
  else settings.set(key, effective);
}
/** Commands executed (id and args), for assertions. */
export const executed: { id: string; args: unknown[] }[] = [];
const registered = new Map<string, (...args: unknown[]) => unknown>();

/** What workspace.onDidGrantWorkspaceTrust fires: a test fires it as the user trusting the workspace. */
export const trustGranted = new EventEmitter<void>();

export const workspace = {
  isTrusted: true,
  workspaceFolders: undefined as vscode.WorkspaceFolder[] | undefined,
  getConfiguration(section?: string): Pick<vscode.WorkspaceConfiguration, 'get' | 'inspect' | 'update'> {
    const full = (key: string) => (section ? `${section}.${key}` : key);
    return {
      get: <T>(key: string, fallback?: T): T | undefined => {
        const v = settings.get(full(key));
        return (v === undefined ? fallback : v) as T | undefined;
      },
      inspect: <T>(key: string) => ({ key: full(key), ...(settingLevels.get(full(key)) as { globalValue?: T; workspaceValue?: T; workspaceFolderValue?: T } | undefined) }),
      update: async (key: string, value: unknown, target?: vscode.ConfigurationTarget | boolean | null) => {
        settingUpdates.push({ key: full(key), value, target });
        setSettingAt(full(key), target as ConfigurationTarget | boolean | null | undefined, value);
      },
    };
  },
  getWorkspaceFolder(_uri: Uri): vscode.WorkspaceFolder | undefined {
    return workspace.workspaceFolders?.[0];
  },
  onDidChangeConfiguration: new EventEmitter<vscode.ConfigurationChangeEvent>().event,
  /** A watcher that never fires (tests call what it would trigger themselves). */
  createFileSystemWatcher(): { onDidCreate: () => Disposable; onDidChange: () => Disposable; onDidDelete: () => Disposable; dispose(): void } {
    const none = () => new Disposable(() => {});
    return { onDidCreate: none, onDidChange: none, onDidDelete: none, dispose() {} };
  },
  onDidChangeWorkspaceFolders: new EventEmitter<unknown>().event,
  /** Fired by a test (trustGranted.fire()) as VS Code fires it when the user trusts the workspace. */
  onDidGrantWorkspaceTrust: trustGranted.event,
  /** Files findFiles answers with, set by a test. */
  files: [] as string[],
  async findFiles(): Promise<Uri[]> {
    return workspace.files.map((f) => Uri.file(f));
  },
};

export const commands = {
  registerCommand(id: string, fn: (...args: unknown[]) => unknown): Disposable {
    registered.set(id, fn);
    return new Disposable(() => registered.delete(id));
  },
  async executeCommand(id: string, ...args: unknown[]): Promise<unknown> {
    executed.push({ id, args });
    return registered.get(id)?.(...args);
  },
};

export enum DecorationRangeBehavior {
  OpenOpen = 0,
  ClosedClosed = 1,
  OpenClosed = 2,
  ClosedOpen = 3,
}

export enum OverviewRulerLane {
  Left = 1,
  Center = 2,
  Right = 4,
  Full = 7,
}

export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}

/** Progress notifications shown (title, and whether the test cancelled it), for assertions. */
export const progressShown: { title: string; cancelled: boolean }[] = [];
/** Set by a test: the next progress notification is cancelled by the "user" as soon as its task has started. */
export const progressControl = { cancelNext: false };

export const window = {
  activeTextEditor: undefined as vscode.TextEditor | undefined,
  /** Editors extensions are given: a file above 50 MB never has one (microsoft/vscode#111849). */
  visibleTextEditors: [] as vscode.TextEditor[],
  onDidChangeVisibleTextEditors: new EventEmitter<readonly vscode.TextEditor[]>().event,
  onDidChangeTextEditorVisibleRanges: new EventEmitter<vscode.TextEditorVisibleRangesChangeEvent>().event,
  createTextEditorDecorationType(_options: vscode.DecorationRenderOptions): Disposable {
    return new Disposable(() => {});
  },
  /** The active tab: tests set its input (a TabInputText for a file too large to reach extensions). */
  tabGroups: { activeTabGroup: { activeTab: undefined as { input: unknown } | undefined } },
  async withProgress<T>(opts: { title?: string }, task: (progress: { report(v: { increment?: number; message?: string }): void }, token: vscode.CancellationToken) => Thenable<T>): Promise<T> {
    const cts = new CancellationTokenSource();
    const cancelled = progressControl.cancelNext;
    progressControl.cancelNext = false;
    progressShown.push({ title: opts.title ?? '', cancelled });
    const running = task({ report: () => {} }, cts.token);
    if (cancelled) cts.cancel();
    return running;
  },
  /** Items the last quick pick offered; the test's `quickPickChoice` picks one of them. */
  lastQuickPick: [] as { label: string; spec?: string }[],
  quickPickChoice: undefined as ((items: { label: string; spec?: string }[]) => { label: string; spec?: string } | undefined) | undefined,
  async showQuickPick<T extends { label: string; spec?: string }>(items: T[]): Promise<T | undefined> {
    window.lastQuickPick = items;
    return window.quickPickChoice?.(items) as T | undefined;
  },
  async showErrorMessage(message: string): Promise<undefined> {
    messagesShown.push(message);
    return undefined;
  },
  /** Options of the last open dialog; the test's `openDialogChoice` is what the "user" picks. */
  lastOpenDialog: undefined as Record<string, unknown> | undefined,
  openDialogChoice: undefined as Uri[] | undefined,
  async showOpenDialog(opts: Record<string, unknown>): Promise<Uri[] | undefined> {
    window.lastOpenDialog = opts;
    return window.openDialogChoice;
  },
  /** Information messages shown; the "user" dismisses them (picks no button). */
  async showInformationMessage(message: string, ..._items: unknown[]): Promise<undefined> {
    infoShown.push(message);
    return undefined;
  },
  /** Warning messages shown; the "user" dismisses them (picks no button). */
  async showWarningMessage(message: string, ..._items: unknown[]): Promise<undefined> {
    warningsShown.push(message);
    return undefined;
  },
};
/** Error messages shown, for assertions. */
export const messagesShown: string[] = [];
/** Information messages shown, for assertions. */
export const infoShown: string[] = [];
/** Warning messages shown, for assertions. */
export const warningsShown: string[] = [];

export enum ConfigurationTarget {
  Global = 1,
  Workspace = 2,
  WorkspaceFolder = 3,
}

/** A log channel that keeps its lines, for assertions. */
export class FakeLog {
  readonly lines: string[] = [];
  info(m: string): void {
    this.lines.push(`info ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn ${m}`);
  }
  error(m: string | Error): void {
    this.lines.push(`error ${String(m)}`);
  }
  debug(m: string): void {
    this.lines.push(`debug ${m}`);
  }
  trace(m: string): void {
    this.lines.push(`trace ${m}`);
  }
}

export class DebugStackFrame {
  constructor(
    readonly session: vscode.DebugSession,
    readonly threadId: number,
    readonly frameId: number,
  ) {}
}

const stackItemChanged = new EventEmitter<unknown>();
export const debug = {
  activeStackItem: undefined as DebugStackFrame | undefined,
  activeDebugSession: undefined as vscode.DebugSession | undefined,
  onDidChangeActiveStackItem: stackItemChanged.event,
};
