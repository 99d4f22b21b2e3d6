import * as vscode from 'vscode';
import { open, readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { readSettings } from '../settings';
import { trustProblem } from '../trust';

interface SlicePick extends vscode.QuickPickItem {
  dir?: string;
}

/**
 * `${command:PickSlice}`: a quick pick of the workspace's slices (and "Browse…"). Resolves to the
 * folder path, or undefined, which cancels the launch.
 */
export async function pickSlice(slices: { dir: string; name: string; description: string; events: number | undefined }[]): Promise<string | undefined> {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const items: SlicePick[] = slices.map((s) => ({
    label: `$(database) ${s.name}`,
    description: `${s.events === undefined ? '' : `${s.events.toLocaleString('en-US')} events · `}${root ? relative(root, s.dir) : s.dir}`,
    detail: s.description,
    dir: s.dir,
  }));
  items.push({ label: '$(folder-opened) Browse…', description: 'a NAME.slice folder anywhere' });
  const pick = await vscode.window.showQuickPick(items, { title: 'RecReplay: slice to replay', placeHolder: 'Pick a slice', matchOnDescription: true, matchOnDetail: true });
  if (!pick) return undefined;
  if (pick.dir) return pick.dir;
  const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Replay this slice', title: 'Pick a NAME.slice folder' });
  return uris?.[0]?.fsPath;
}

/** What kind of ranker artifact a JSON file is, from its top-level keys; undefined for neither. */
export function artifactKind(text: string): 'linear' | 'embedding' | undefined {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (typeof v !== 'object' || v === null) return undefined;
    if (typeof v['weights'] === 'object' && v['weights'] !== null) return 'linear';
    if (typeof v['dim'] === 'number' || (typeof v['items'] === 'object' && v['items'] !== null)) return 'embedding';
  } catch {
    // Not JSON: not an artifact.
  }
  return undefined;
}

/** Artifacts up to this size are parsed to tell their kind; larger ones (embeddings reach 256 MiB) by their first bytes. */
const PARSE_BELOW = 1024 * 1024;
const SNIFF_BYTES = 64 * 1024;

/**
 * The kind of the artifact at `path`, read off the extension host's thread: whole below 1 MiB,
 * else only its first 64 KiB — the picker read every file whole and synchronously, and a workspace
 * of large embeddings froze the editor each time it opened.
 */
async function artifactKindOf(path: string): Promise<'linear' | 'embedding' | undefined> {
  const st = await stat(path);
  if (!st.isFile()) return undefined;
  if (st.size < PARSE_BELOW) return artifactKind(await readFile(path, 'utf8'));
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
    const head = buf.toString('utf8', 0, bytesRead);
    if (!/^\s*(\uFEFF)?\{/.test(head)) return undefined;
    if (/"weights"\s*:\s*\{/.test(head)) return 'linear';
    if (/"dim"\s*:\s*\d|"items"\s*:\s*\{|"users"\s*:\s*\{/.test(head)) return 'embedding';
    return undefined;
  } finally {
    await fh.close();
  }
}

interface RankerPick extends vscode.QuickPickItem {
  spec?: string;
}

/**
 * `${command:PickRanker}`: the built-in rankers plus every linear / embedding artifact found in
 * the workspace (JSON files under a `rankers` folder). Resolves to a ranker spec whose path is
 * relative to `base` — the folder the run will resolve it from (default: the first workspace
 * folder) — or absolute when the artifact lies outside it.
 */
export async function pickRanker(defaultRanker: string, base?: string): Promise<string | undefined> {
  const root = base ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const items: RankerPick[] = [
    { label: 'recorded', description: 'the scores production logged', spec: 'recorded' },
    { label: 'popularity', description: 'clicks in replay state', spec: 'popularity' },
  ];
  const files = await vscode.workspace.findFiles('**/rankers/**/*.json', '{**/node_modules/**,**/.git/**}', 200);
  for (const f of files.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
    let kind: 'linear' | 'embedding' | undefined;
    try {
      kind = await artifactKindOf(f.fsPath);
    } catch {
      kind = undefined;
    }
    if (!kind) continue;
    const inside = root ? relative(root, f.fsPath) : '';
    const rel = root && !inside.startsWith('..') && !isAbsolute(inside) ? inside.split('\\').join('/') : f.fsPath;
    items.push({ label: `${kind}:${rel}`, description: `${kind} artifact`, spec: `${kind}:${rel}` });
  }
  items.push({ label: '$(edit) Other…', description: 'type a ranker spec' });
  for (const i of items) if (i.spec === defaultRanker) i.description = `${i.description ?? ''} (default)`;
  const pick = await vscode.window.showQuickPick(items, { title: 'RecReplay: ranker', placeHolder: `Pick a ranker (default ${defaultRanker})`, matchOnDescription: true });
  if (!pick) return undefined;
  if (pick.spec) return pick.spec;
  return vscode.window.showInputBox({
    title: 'Ranker spec',
    value: defaultRanker,
    prompt: 'recorded | popularity | linear:PATH | embedding:PATH (paths relative to the workspace folder)',
    validateInput: (v) => (v.trim() === '' ? 'Give a ranker spec, e.g. linear:rankers/model.json' : trustProblem([v.trim()], vscode.workspace.isTrusted)),
  });
}

/**
 * `${command:PickRanker}` as VS Code runs it: with the launch configuration being resolved. Its
 * `cwd` (made absolute by the configuration provider: the launch's folder, or the one set) is where
 * the adapter resolves a relative artifact path from; in a multi-root workspace that is not the
 * first folder, and a path written relative to the first folder named another file or none.
 */
export function pickRankerForLaunch(config?: unknown): Promise<string | undefined> {
  const cwd = typeof config === 'object' && config !== null ? (config as Record<string, unknown>)['cwd'] : undefined;
  const base = typeof cwd === 'string' && isAbsolute(cwd) && !cwd.includes('${') ? cwd : undefined;
  const folder = base ? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(base)) : undefined;
  return pickRanker(readSettings(folder?.uri).defaultRanker, base);
}
