import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { statOrNothing } from '../dirs';
import { UserError } from '../errors';
import { MAX_MANIFEST_BYTES } from './types';

// What is at a slice's target path, and taking that name atomically.

/** The manifest of a RecReplay slice at `dir`, or undefined (none there, another tool's slice.json, unreadable). */
export function sliceManifestAt(dir: string): { files?: { path?: unknown }[] } | undefined {
  try {
    // A regular file of a manifest's size only: a named pipe there made a freeze wait for ever.
    const p = join(dir, 'slice.json');
    const st = statSync(p);
    if (!st.isFile() || st.size > MAX_MANIFEST_BYTES) return undefined;
    const m = JSON.parse(readFileSync(p, 'utf8').replace(/^\uFEFF/, '')) as { format?: unknown; files?: { path?: unknown }[] };
    return typeof m === 'object' && m !== null && typeof m.format === 'string' && m.format.startsWith('recreplay.slice/') ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether overwrite may replace `dir`: an empty folder, or a RecReplay slice holding nothing but
 * the files its manifest lists — never a folder of something else that merely has a slice.json.
 */
export function replaceable(dir: string): boolean {
  return whyNotReplaceable(dir) === undefined;
}

/**
 * Why overwrite may not replace `dir` (see replaceable): a link, not a folder, not a slice, or a
 * slice that holds a file its manifest does not list (named: a .DS_Store a file browser left, a
 * note); undefined when it may.
 */
function whyNotReplaceable(dir: string): { kind: 'link' | 'other' } | { kind: 'unlisted'; path: string } | undefined {
  // A link to a slice is not a slice folder: replacing it would mark (and move) what it links to.
  if (lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink()) return { kind: 'link' };
  const st = statOrNothing(dir);
  if (!st?.isDirectory()) return { kind: 'other' };
  const names = readdirSync(dir);
  if (names.length === 0) return undefined;
  const m = sliceManifestAt(dir);
  if (!m) return { kind: 'other' };
  // Every file of the folder, in its subfolders too (artifacts/), must be one the manifest lists:
  // the user's own file beside a listed one (artifacts/notes.docx) would be deleted with the slice.
  const listed = new Set(['slice.json', ...(Array.isArray(m.files) ? m.files : []).map((f) => posix.normalize(String(f?.path ?? '').replace(/\\/g, '/')))]);
  let seen = 0;
  // The first file not listed; '' for a tree too large to be a slice.
  const unlisted = (rel: string): string | undefined => {
    for (const d of readdirSync(rel === '' ? dir : join(dir, rel), { withFileTypes: true })) {
      // (A slice holds a few files; a tree this large is something else.)
      if (++seen > MAX_ENTRIES) return '';
      const path = rel === '' ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) {
        const inner = unlisted(path);
        if (inner !== undefined) return inner;
      } else if (!listed.has(path)) return path;
    }
    return undefined;
  };
  const path = unlisted('');
  return path === undefined ? undefined : path === '' ? { kind: 'other' } : { kind: 'unlisted', path };
}

/** The most entries a folder overwrite replaces may hold. */
const MAX_ENTRIES = 10_000;

/** The RecReplay slice folder that holds `dir`, if any (a slice folder is never written into). */
export function enclosingSlice(dir: string): string | undefined {
  for (let p = dirname(dir); ; p = dirname(p)) {
    if (existsSync(join(p, 'slice.json')) && sliceManifestAt(p)) return p;
    if (dirname(p) === p) return undefined;
  }
}

/** Whether anything (a folder, a file, a link, even a dangling one) is at `p`. */
export function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw e;
  }
}

/**
 * Renames the folder `from` to `to` only when nothing is at `to`; false, with nothing changed, when
 * something is. A POSIX rename silently replaces an empty folder, so the name is first taken with an
 * exclusive mkdir (it fails if anything is there); the rename then replaces only that folder, and
 * fails if something was put into it meanwhile. On Windows a rename never replaces a folder.
 */
export function placeNew(from: string, to: string): boolean {
  if (process.platform === 'win32') {
    try {
      renameSync(from, to);
      return true;
    } catch (e) {
      if (lexists(to)) return false;
      throw e;
    }
  }
  try {
    mkdirSync(to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    renameSync(from, to);
    return true;
  } catch (e) {
    try {
      rmdirSync(to);
    } catch {
      // Something was put into it meanwhile: not ours to remove.
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') return false;
    throw e;
  }
}

/** Whether `p` is free for a slice: nothing there, or an empty folder (removed, so placeNew can take the name). */
export function freeForRestore(p: string): boolean {
  if (!lexists(p)) return true;
  const st = statOrNothing(p);
  if (!st?.isDirectory() || readdirSync(p).length > 0) return false;
  rmdirSync(p);
  return true;
}

/** The error for a target overwrite may not replace (`why` says when it was found). */
export function notReplaceable(dir: string, why = ''): UserError {
  if (lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink()) {
    return new UserError(`${dir} is a symbolic link${why}: overwrite replaces a slice folder, not a link to one`, { file: dir }, 'Write to the folder the link points to, or remove the link first; nothing was changed.', 'E_EXISTS');
  }
  let found: ReturnType<typeof whyNotReplaceable>;
  try {
    found = whyNotReplaceable(dir);
  } catch {
    found = undefined;
  }
  if (found?.kind === 'unlisted') {
    return new UserError(`${dir} is a slice folder, but it also holds ${found.path}, which its manifest does not list${why}: overwrite would delete it with the slice`, { file: dir }, 'Move that file out of the slice folder (or remove it), then freeze again; nothing was changed.', 'E_EXISTS');
  }
  return new UserError(`${dir} exists and is not a slice folder${why}: overwrite replaces only a slice (a folder with slice.json) or an empty folder`, { file: dir }, 'Choose another name; nothing was changed.', 'E_EXISTS');
}
