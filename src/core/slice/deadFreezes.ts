import { closeSync, constants, lstatSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MACHINE, pidRuns, readPlainFile } from '../dirs';
import { sha256 } from './hashing';
import { freeForRestore, placeNew, replaceable, sliceManifestAt } from './targetFolder';
import { MAX_MANIFEST_BYTES } from './types';

// The owner marks a freeze leaves on its folders, and the tidying of what a freeze killed midway
// left beside its target.

/**
 * Marks a freeze's temp folder as this process's (removed just before the folder becomes the
 * slice), and an old slice it moved aside while replacing it (see install and tidyDeadFreezes).
 */
export const OWNER_FILE = '.recreplay-freeze';

/** The most an owner file holds (one names a host, a user, a process and a hash: a few hundred bytes). */
const MAX_MARK_BYTES = 64 * 1024;

/** Who this freeze is: the host, user and process an owner file names. */
export function owner(): { host: string; uid: number; pid: number } {
  return { host: MACHINE, uid: process.getuid?.() ?? -1, pid: process.pid };
}

/** Marks `folder` (a freeze's temp folder) as this process's. */
export function markMine(folder: string): void {
  writeFileSync(join(folder, OWNER_FILE), JSON.stringify(owner()));
}

/**
 * The owner file in `folder`: whether its process is gone (written on this host, by this user, by
 * another process that no longer runs) and, for an old slice moved aside, the sha256 of the
 * slice.json that was to replace it. Undefined when there is no owner file (not a freeze's).
 */
export function markOf(folder: string): { dead: boolean; mine: boolean; pid: unknown; installed: string | undefined; target: string | undefined; replaced: boolean; text: string } | undefined {
  // A plain file of a mark's size only: the folders beside a target may be anyone's (a cloned
  // repository's slices/), and a mark that was a link to /dev/zero or a pipe hung the freeze, and
  // the open of a missing slice that looks for where it went.
  const text = readPlainFile(join(folder, OWNER_FILE), MAX_MARK_BYTES);
  if (text === undefined) return undefined;
  let o: Record<string, unknown> = {};
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null) o = v as Record<string, unknown>;
  } catch {
    // Unreadable: nobody's that is known to be gone.
  }
  const me = owner();
  const pid = o['pid'];
  // Written on this host by this user: only then does its pid name a process that can be looked at here.
  const mine = o['host'] === me.host && o['uid'] === me.uid;
  const dead = mine && typeof pid === 'number' && pid !== me.pid && !pidRuns(pid);
  const installed = o['installed'];
  const target = o['target'];
  return { dead, mine, pid, installed: typeof installed === 'string' ? installed : undefined, target: typeof target === 'string' ? target : undefined, replaced: o['replaced'] === true, text };
}

/**
 * Removes an old slice a finished freeze replaced (see install): marked as replaced first, then
 * emptied with its mark kept to the last, so one that cannot be removed whole (a file in use, no
 * permission) still says what it is — a later freeze removes it, or says so (it was taken for the
 * old slice of a freeze that had died while replacing it, and "move it back" was the advice).
 */
export function removeReplaced(aside: string): void {
  const mark = markOf(aside);
  try {
    const o: unknown = mark ? JSON.parse(mark.text) : undefined;
    // Rewritten in place, never through a link put there since it was read.
    if (typeof o === 'object' && o !== null) {
      const fd = openSync(join(aside, OWNER_FILE), constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW);
      try {
        writeFileSync(fd, JSON.stringify({ ...o, replaced: true }));
      } finally {
        closeSync(fd);
      }
    }
  } catch {
    // Best effort: the removal below goes on (a mark it cannot update still names its freeze).
  }
  // Each entry tried, whatever one of them does: as little as can be is left.
  let failed: unknown;
  for (const name of readdirSync(aside)) {
    if (name === OWNER_FILE) continue;
    try {
      rmSync(join(aside, name), { recursive: true, force: true });
    } catch (e) {
      failed ??= e;
    }
  }
  if (failed !== undefined) throw failed;
  rmSync(aside, { recursive: true, force: true });
}

function sha256Of(file: string): string | undefined {
  try {
    // A manifest's, of a manifest's size: a link to /dev/zero there is none.
    const st = lstatSync(file);
    if (!st.isFile() || st.size > MAX_MANIFEST_BYTES) return undefined;
    return sha256(readFileSync(file));
  } catch {
    return undefined;
  }
}

/** What is done with an old slice a dead freeze moved aside (see tidyDeadFreezes); returns what to tell. */
function settleAside(aside: string, sibling: string, dir: string, mark: { pid: unknown; installed: string | undefined; text: string }): string[] {
  // Its new slice got in place: the old one was only waiting to be removed.
  if (mark.installed !== undefined && sha256Of(join(dir, 'slice.json')) === mark.installed) {
    rmSync(aside, { recursive: true, force: true });
    return [];
  }
  const who = `a freeze (process ${String(mark.pid)}) that died while replacing it`;
  if (freeForRestore(dir)) {
    rmSync(join(aside, OWNER_FILE), { force: true });
    if (placeNew(aside, dir)) {
      // That freeze's new slice, complete but never put in place: marked as a dead freeze's, or
      // (killed between unmarking it and the rename) named by the old slice's mark.
      if (markOf(sibling)?.dead || replaceable(sibling)) rmSync(sibling, { recursive: true, force: true });
      return [`${dir} was put back from ${aside}, where ${who} had moved it`];
    }
  }
  // Marked (again, or for the first time when its freeze died before marking it), so a later
  // freeze still knows it and puts it back once the path is free.
  // Made anew only (wx): a link there that leads nowhere made this write the mark's text (the other
  // folder's, anyone's) at whatever path it named.
  try {
    writeFileSync(join(aside, OWNER_FILE), mark.text, { flag: 'wx' });
  } catch {
    // There already (a mark, or something that is none): left as it is.
  }
  return [`${aside} holds the slice that was at ${dir} before ${who}; ${dir} now holds something else, so it was left where it is: move it back or remove it`];
}

/** An old slice moved aside during an overwrite: NAME.tmp-XXXX-old (-old2, … when another appeared meanwhile). */
const ASIDE = /-old\d*$/;

/**
 * Tidies what freezes to `dir` that were killed midway (Ctrl-C, kill -9) left beside it, and says
 * what the caller should know. Only folders carrying this tool's owner file, written on this host by
 * this user, by a process that is gone, are touched: a temp folder is removed; an old slice that an
 * overwrite had moved aside is put back when nothing is at `dir` (or an empty folder), removed when
 * its replacement is in place, and otherwise left and reported. An unmarked old slice moved aside by
 * an older version is reported, never touched. Never an error (it is tidying, not the job).
 */
export function tidyDeadFreezes(dir: string): string[] {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.tmp-`;
  const notes: string[] = [];
  let names: string[];
  try {
    names = readdirSync(parent)
      // NAME.tmp-…, but not the leftovers of a freeze to a longer name that starts so
      // (a.slice.tmp-backup.slice.tmp-…-old is that freeze's old slice, not a.slice's).
      .filter((n) => n.startsWith(prefix) && !n.slice(prefix.length).includes('.tmp-'))
      .sort();
  } catch {
    return notes;
  }
  // Old slices first: one may need its freeze's temp folder to say whose it is.
  for (const name of names) {
    if (!ASIDE.test(name)) continue;
    const aside = join(parent, name);
    const sibling = join(parent, name.replace(ASIDE, ''));
    try {
      const mark = markOf(aside);
      if (mark?.replaced && mark.mine && (mark.target === undefined || mark.target === basename(dir))) {
        // What is left of an old slice a finished freeze replaced and could not remove: removed now, or said.
        try {
          removeReplaced(aside);
        } catch (e) {
          notes.push(`${aside} holds what is left of the old slice that a finished freeze replaced at ${dir}; it still cannot be removed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): remove it by hand`);
        }
        continue;
      }
      if (mark) {
        // (A mark that names another target is that freeze's, whatever the folder is called.)
        if (mark.dead && (mark.target === undefined || mark.target === basename(dir))) notes.push(...settleAside(aside, sibling, dir, mark));
        continue;
      }
      // Killed between moving it aside and marking it: its freeze's temp folder is marked.
      const tmpMark = markOf(sibling);
      if (tmpMark?.dead) notes.push(...settleAside(aside, sibling, dir, { pid: tmpMark.pid, installed: undefined, text: tmpMark.text }));
      else if (tmpMark === undefined && sliceManifestAt(aside)) {
        notes.push(`${aside} looks like the slice that was at ${dir}, moved aside by an interrupted freeze; it carries no freeze's mark, so it was left as it is: move it back or remove it`);
      }
    } catch {
      // Unreadable, or changed meanwhile: left as it is.
    }
  }
  for (const name of names) {
    if (ASIDE.test(name)) continue;
    const p = join(parent, name);
    try {
      if (markOf(p)?.dead) rmSync(p, { recursive: true, force: true });
    } catch {
      // Removed meanwhile, or not removable: left as it is.
    }
  }
  return notes;
}

/**
 * Where the slice that was at `dir` is, when a freeze to `dir` moved it aside (NAME.tmp-XXXX-old)
 * and nothing is at `dir` now: `live` while that freeze still runs (it is replacing the slice),
 * `dead` when it was interrupted, `unknown` when the folder carries no mark to tell (or another
 * machine's or user's). Undefined when there is no such folder. For an open that finds no slice:
 * the error says where it went (it said only "no slice.json").
 */
export function movedAside(dir: string): { path: string; state: 'live' | 'dead' | 'unknown'; pid: unknown } | undefined {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(parent).filter((n) => n.startsWith(prefix) && !n.slice(prefix.length).includes('.tmp-') && ASIDE.test(n)).sort();
  } catch {
    return undefined;
  }
  for (const name of names) {
    const aside = join(parent, name);
    // (What is left of an old slice a finished freeze replaced is not where the slice went.)
    if (!sliceManifestAt(aside) || markOf(aside)?.replaced) continue;
    // Marked when it was moved aside; killed before that, its freeze's temp folder says whose it is.
    const mark = markOf(aside) ?? markOf(join(parent, name.replace(ASIDE, '')));
    const state = mark === undefined || !mark.mine ? 'unknown' : mark.dead ? 'dead' : typeof mark.pid === 'number' && pidRuns(mark.pid) ? 'live' : 'unknown';
    return { path: aside, state, pid: mark?.pid };
  }
  return undefined;
}
