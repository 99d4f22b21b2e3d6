import { activeFileUri } from '../activeFile';
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isWithin, realPathNearest } from '../../core/dirs';
import { DEBUG_TYPE } from '../../shared/dap';
import type { ReplayLaunchArguments } from '../../debugAdapter/launchConfig';
import { readSettings, type Settings } from '../settings';
import { needsIndex, sliceDirOf, warmIndex } from '../slices/sliceStore';
import { trustProblem } from '../trust';
import { percentReporter } from '../progress';
import { showError, showInfo, withProgress } from '../notify';

/** A `recreplay` launch configuration as it travels through VS Code. */
export interface ReplayConfig extends vscode.DebugConfiguration, Partial<ReplayLaunchArguments> {}

/**
 * The configuration that replays one slice folder: `slice` relative to the workspace folder when
 * inside it. With no workspace folder, its relative paths (a `linear:rankers/m.json` from
 * recreplay.defaultRanker) resolve against the slice folder's parent (see noFolderBase), said in `cwd`.
 */
export function configForSlice(sliceDir: string, name: string, folder: string | undefined, ranker: string): ReplayConfig {
  const rel = folder && isWithin(folder, sliceDir) ? `\${workspaceFolder}/${relative(folder, sliceDir).split('\\').join('/')}` : sliceDir;
  return { type: DEBUG_TYPE, request: 'launch', name: `Replay ${name}`, slice: rel, ranker, stopOnEntry: true, ...(folder ? {} : { cwd: noFolderBase(sliceDir) }) };
}

/**
 * Where relative paths resolve when no workspace folder is open and the user started from a slice
 * (F5 on its events.jsonl, Debug Slice, Replay Slice Headless): the folder that holds the slice
 * folder, where a workspace of slices/ and rankers/ would be rooted. (The extension host's own
 * working folder, used before, is no folder the user knows of.)
 */
export function noFolderBase(sliceDir: string): string {
  return dirname(resolve(sliceDir));
}

/**
 * Fills what a configuration leaves out: the ranker and checkpoint interval from the settings,
 * `cwd` from the workspace folder. F5 with no launch.json arrives with no type at all: then the
 * slice of the active editor (its events.jsonl or slice.json) is replayed.
 */
export function fillDefaults(config: ReplayConfig, settings: Settings, folder: string | undefined, activeFile: string | undefined): ReplayConfig | { problem: string } {
  let c = { ...config };
  if (!c.type && !c.request && !c.name) {
    const dir = activeFile ? sliceDirOf(activeFile) : undefined;
    if (!dir) return { problem: 'Open the events.jsonl or slice.json of a slice (a NAME.slice folder) and press F5 again, or add a "recreplay" configuration to launch.json ("Add Configuration…").' };
    // What VS Code put in is kept: Ctrl+F5 arrives as { noDebug: true }, and dropping it debugged
    // the slice (stopped on entry) instead of running it without debugging.
    c = { ...c, ...configForSlice(dir, dir.split(/[\\/]/).pop()?.replace(/\.slice$/, '') ?? 'slice', folder, settings.defaultRanker), slice: dir };
  }
  c.type ??= DEBUG_TYPE;
  c.request ??= 'launch';
  c.name ??= 'Replay slice';
  c.ranker ??= settings.defaultRanker;
  // Unset, the adapter's engine picks it from the slice (a fixed 1,000 made a step back over
  // 1,000-candidate events re-run for seconds).
  if (settings.checkpointEvery !== undefined) c.checkpointEvery ??= settings.checkpointEvery;
  // (null is unset too, as the adapter reads it: left null, the checks below resolved against the
  // extension host's own folder what the adapter resolves against the workspace folder.)
  if ((c.cwd === undefined || c.cwd === null) && folder) c.cwd = folder;
  // Absolute, against the folder, as the adapter resolves it: checked against the extension host's
  // own working folder, "cwd": "." let an untrusted "trace": "../.." write outside the workspace.
  // With no folder it stays relative, and is refused once variables are substituted (noBaseProblem);
  // one that starts with a variable ("${workspaceFolder}/sub") is substituted first: resolved here,
  // it became "/w/${workspaceFolder}/sub".
  else if (typeof c.cwd === 'string' && !isAbsolute(c.cwd) && folder && !c.cwd.includes('${')) c.cwd = resolve(folder, c.cwd);
  return c;
}

/**
 * A path of a configuration as the adapter reads it (launchConfig): a file:// URI is its path, a
 * relative path is relative to `cwd`. (Read as relative, "file:///elsewhere" lay inside the
 * workspace, and an untrusted "trace" written so went where it liked.)
 */
export function launchPath(p: string, cwd: string | undefined): string {
  // (Called with no cwd only for paths noBaseProblem found absolute.)
  if (/^file:\/\//i.test(p)) {
    try {
      return fileURLToPath(p);
    } catch {
      // Not a path (file://host/x): the adapter refuses it, saying why.
    }
  }
  return isAbsolute(p) ? p : resolve(cwd ?? process.cwd(), p);
}

/** The slice folder a configuration names, absolute (relative to its `cwd`, as the adapter resolves it). */
function sliceFolderOf(c: ReplayConfig): string {
  return launchPath(c.slice as string, c.cwd);
}

/**
 * Whether a folder that may not exist yet lies inside one of `folders` once symbolic links are
 * followed: a link committed in the workspace (`runs -> /elsewhere`) would take a write out of it.
 */
export function insideFolders(path: string, folders: readonly string[]): boolean {
  const real = realPathNearest(path);
  if (real === undefined) return false;
  return folders.some((f) => {
    const root = realPathNearest(f);
    if (root === undefined) return false;
    return isWithin(root, real);
  });
}

/**
 * What is wrong with a configuration after variables were substituted, in a sentence naming the
 * attribute. `userCheckpointEvery` is the interval the user's own settings give (in an untrusted
 * workspace recreplay.checkpointEvery is restricted: only the user-level value counts);
 * `settingsRanker` is recreplay.defaultRanker, named when a ranker that came from it is refused.
 */
export function checkConfig(c: ReplayConfig, trusted: boolean, workspaceFolders: readonly string[] = [], userCheckpointEvery?: number, settingsRanker?: string): string | undefined {
  if (c.request !== 'launch') return `RecReplay configurations use "request": "launch" (this one says ${JSON.stringify(c.request)}).`;
  if (typeof c.slice !== 'string' || c.slice.trim() === '') return 'The launch configuration has no "slice": set it to a NAME.slice folder, e.g. "${workspaceFolder}/slices/home.slice".';
  const unresolved = noBaseProblem(c, settingsRanker);
  if (unresolved) return unresolved;
  const dir = sliceFolderOf(c);
  if (!existsSync(join(dir, 'slice.json'))) return `"slice" is ${JSON.stringify(c.slice)}, which is not a slice folder (no slice.json in ${dir}). Point it at a NAME.slice folder.`;
  // Untrusted, a launch configuration may not write outside the workspace (as recreplay.runs.folder may not).
  if (!trusted && typeof c['trace'] === 'string') {
    const t = c['trace'];
    const out = launchPath(t, c.cwd);
    const real = realPathNearest(out);
    if (!insideFolders(out, workspaceFolders)) return `"trace" is ${JSON.stringify(t)}, outside the workspace${real !== resolve(out) ? ` (through a symbolic link, to ${real ?? 'a link that leads nowhere'})` : ''}: an untrusted workspace may not write there. Trust the workspace (Manage Workspace Trust), or point "trace" at a folder inside it.`;
  }
  // Untrusted, the interval is the user's (recreplay.checkpointEvery is restricted for this): a
  // launch.json the workspace brought along set to 1 made a session spill the replay's whole state
  // to the temp folder at every event, as the workspace's own setting could no longer.
  const every = c.checkpointEvery as unknown;
  if (!trusted && every !== undefined && every !== null && every !== userCheckpointEvery) {
    return `"checkpointEvery" is ${JSON.stringify(every)}: an untrusted workspace may not set the checkpoint interval (a small one makes the session write the replay's whole state to the temp folder every few events). Trust the workspace (Manage Workspace Trust), or remove "checkpointEvery" (recreplay.checkpointEvery in your user settings sets it).`;
  }
  return trustProblem([c.ranker, c.baseline], trusted) ?? (trusted ? undefined : outsideProblem(c, dir, workspaceFolders));
}

/**
 * A relative path with nothing to resolve it against: no absolute `cwd` (none was set, and no
 * workspace folder is open or the configuration belongs to none — a "launch" in the user settings).
 * It was resolved against the extension host's working folder, which is no folder the user knows of.
 */
function noBaseProblem(c: ReplayConfig, settingsRanker: string | undefined): string | undefined {
  const cwd = c.cwd as unknown;
  if (typeof cwd === 'string' && isAbsolute(cwd)) return undefined;
  const full = 'write the full path (${userHome}/… works in launch.json)';
  const open = 'open the folder it is relative to (File ▸ Open Folder…)';
  if (typeof cwd === 'string') return `"cwd" is ${JSON.stringify(cwd)}, a relative path, but no workspace folder is open to resolve it against: ${full}, or ${open}.`;
  // As the adapter reads them: a slice or trace given as a file:// URI is its path; a ranker's path is a path.
  const found: [string, unknown, boolean][] = [
    ['slice', c.slice, typeof c.slice === 'string' && !/^file:\/\//i.test(c.slice) && !isAbsolute(c.slice)],
    ['trace', c['trace'], typeof c['trace'] === 'string' && c['trace'].trim() !== '' && !/^file:\/\//i.test(c['trace']) && !isAbsolute(c['trace'])],
  ];
  for (const key of ['ranker', 'baseline'] as const) {
    const spec = c[key];
    // [\s\S]: a path may hold a line break (see outsideProblem).
    const m = typeof spec === 'string' ? /^(linear|embedding):([\s\S]+)$/.exec(spec) : null;
    found.push([key, spec, m !== null && !isAbsolute(m[2] as string)]);
  }
  const hit = found.find(([, , relative]) => relative);
  if (!hit) return undefined;
  const [key, value] = hit;
  const from = key === 'ranker' && value === settingsRanker ? ' (from the recreplay.defaultRanker setting, unless the configuration sets it)' : '';
  return `"${key}" is ${JSON.stringify(value)}${from}, a relative path, but this launch has no folder to resolve it against (no workspace folder is open, and the configuration sets no absolute "cwd"): ${full}, set "cwd" to an absolute folder, or ${open}.`;
}

/**
 * Untrusted, a launch configuration reads only inside the workspace — its slice and its rankers'
 * artifacts — as the timeline reads a trace's slice (a launch.json could name any slice or
 * artifact on the disk, shown in Variables, and a 256 MB artifact parsed on the editor's thread).
 */
function outsideProblem(c: ReplayConfig, sliceDir: string, folders: readonly string[]): string | undefined {
  // With links followed (a workspace opened through a link is still itself; a link inside it that leads out is out).
  const inside = (p: string) => insideFolders(p, folders);
  const advice = 'an untrusted workspace reads only its own files. Trust the workspace (Manage Workspace Trust), or copy it into the workspace.';
  if (!inside(sliceDir)) return `"slice" is ${JSON.stringify(c.slice)}, outside the workspace: ${advice}`;
  for (const [key, spec] of [['ranker', c.ranker], ['baseline', c.baseline]] as const) {
    // [\s\S], not '.': a newline in the path ('x\n/../secret.json') made the pattern miss and skipped the check.
    const m = typeof spec === 'string' ? /^(linear|embedding):([\s\S]+)$/.exec(spec) : null;
    if (!m) continue;
    // (A relative one with no cwd was refused already: noBaseProblem.)
    const path = isAbsolute(m[2] as string) ? (m[2] as string) : resolve(c.cwd ?? process.cwd(), m[2] as string);
    if (!inside(path)) return `"${key}" is ${JSON.stringify(spec)}, whose artifact lies outside the workspace: ${advice}`;
  }
  return undefined;
}

/**
 * Resolves configurations (F5 without launch.json, defaults, checks) and offers "Replay <slice>"
 * for every slice of the workspace as dynamic configurations.
 */
export class ReplayConfigurationProvider implements vscode.DebugConfigurationProvider {
  constructor(
    private readonly slices: () => Promise<{ dir: string; name: string }[]>,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): Promise<vscode.DebugConfiguration[]> {
    const settings = readSettings(folder);
    const list = await this.slices();
    const inFolder = folder ? list.filter((s) => isWithin(folder.uri.fsPath, s.dir)) : list;
    return inFolder.map((s) => {
      const c = configForSlice(s.dir, s.name, folder?.uri.fsPath, settings.defaultRanker);
      // Asked for the whole (multi-root) workspace: a slice's relative paths resolve against its own
      // folder, not beside the slice folder as with no folder open (configForSlice).
      const own = folder ? undefined : vscode.workspace.getWorkspaceFolder(vscode.Uri.file(s.dir))?.uri.fsPath;
      if (own) c.cwd = own;
      return c;
    });
  }

  resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration | undefined {
    const active = activeFileUri();
    const activeFolder = active ? vscode.workspace.getWorkspaceFolder(active) : undefined;
    // F5 with no launch.json replays the active editor's slice: with its own folder's settings and
    // cwd, as Debug Slice has them. In a multi-root workspace VS Code passes the first folder (or
    // none), whose recreplay.defaultRanker then ran on another folder's slice, its path resolved there.
    const bare = !config.type && !config.request && !config.name;
    const scope = bare ? (activeFolder ?? folder) : (folder ?? activeFolder);
    const r = fillDefaults(config as ReplayConfig, readSettings(scope), scope?.uri.fsPath, active?.scheme === 'file' ? active.fsPath : undefined);
    if ('problem' in r) {
      void showInfo(r.problem);
      return undefined;
    }
    return r;
  }

  async resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | null | undefined> {
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const settings = readSettings(folder);
    const problem = checkConfig(config as ReplayConfig, vscode.workspace.isTrusted, folders, settings.checkpointEvery, settings.defaultRanker);
    if (problem) {
      this.log.warn(`launch refused: ${problem}`);
      // null opens launch.json so the attribute can be fixed; undefined would abort silently.
      void showError(problem);
      return null;
    }
    // The adapter runs in the extension host and opens the slice synchronously: a slice never
    // opened before would have its offset index built there by one read of all of events.jsonl
    // (seconds at a million events, the editor frozen). Build it now, streamed and cancellable.
    const c = config as ReplayConfig;
    const slice = sliceFolderOf(c);
    // A forced launch reads the file whole (a modified one gets an index of its own, which the
    // adapter's open takes first): without it, the frozen file's offsets would be used for a file
    // whose lines may have moved.
    const whole = c.force === true;
    if (needsIndex(slice, whole)) {
      const cancelled = await withProgress({ location: vscode.ProgressLocation.Notification, title: `RecReplay: ${whole ? 'checking' : 'indexing'} ${basename(slice)}`, cancellable: true }, async (progress, token) => {
        await warmIndex(slice, token, percentReporter(progress), whole);
        return token.isCancellationRequested;
      });
      if (cancelled) {
        this.log.info(`launch of ${slice} cancelled while indexing`);
        return undefined;
      }
    }
    return config;
  }
}
