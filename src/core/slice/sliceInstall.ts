import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { syncFolder } from '../dirs';
import { UserError } from '../errors';
import { OWNER_FILE, markMine, markOf, owner, removeReplaced, tidyDeadFreezes } from './deadFreezes';
import { enclosingSlice, freeForRestore, lexists, notReplaceable, placeNew, replaceable } from './targetFolder';

// A slice goes to a temp folder beside its target and is put in place when complete: the checks of
// the target, the temp folder, and the install that honours the overwrite rules.

/** Refuses a target inside a RecReplay slice folder. */
export function refuseInsideSlice(dir: string): void {
  const inside = enclosingSlice(dir);
  if (inside !== undefined) {
    throw new UserError(`${dir} is inside the slice ${inside}`, { file: dir }, 'A slice folder is never written into: write the new slice beside it.', 'E_PATH');
  }
}

/**
 * Checks the target before anything is written, after tidying what dead freezes to it left: it must
 * be free, or with overwrite an old slice or an empty folder. Returns what the tidying found to tell.
 */
export function prepareTarget(dir: string, overwrite: boolean | undefined): string[] {
  // Before the target is looked at: a dead freeze may have left the old slice aside, to be put back.
  const warnings = tidyDeadFreezes(dir);
  if (lexists(dir)) {
    const found = warnings.length ? ` (${warnings.join('; ')})` : '';
    if (!overwrite) throw new UserError(`${dir} already exists${found}`, { file: dir }, 'Choose another name, or ask for it to be replaced (the writer\'s overwrite option).', 'E_EXISTS');
    // Overwrite replaces an old slice, never a folder of something else (or a file).
    if (!replaceable(dir)) throw notReplaceable(dir, found);
  }
  return warnings;
}

/**
 * Makes the temp folder beside `dir`: a random name taken with an exclusive mkdir (not mkdtemp,
 * which makes it 0700, so a slice shared with other users could not be read), so the folder gets
 * the permissions the process's umask gives, like the files written into it.
 */
export function makeTemp(dir: string): string {
  for (let i = 0; ; i++) {
    const p = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      mkdirSync(p);
      return p;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i >= 100) throw e;
    }
  }
}

const CHANGED = ' (it changed while the slice was being written)';

/**
 * Puts the finished temp folder at `dir`, by the rules the start checked, applied to what is there
 * now (something may have appeared while the events streamed): without overwrite nothing may be
 * there; with it, an empty folder or an old slice is replaced. What is replaced is moved aside and
 * marked (who moved it, and the sha256 of the slice.json replacing it) until the new slice is in
 * place, so a crash in between leaves it for the next freeze to put back.
 */
export function install(tmp: string, dir: string, overwrite: boolean, installed: string): string[] {
  const asides: string[] = [];
  try {
    for (let attempt = 1; ; attempt++) {
      if (lexists(dir)) {
        if (!overwrite) {
          throw new UserError(`${dir} appeared while the slice was being written`, { file: dir }, 'Nothing there was changed and the new slice was not kept: choose another name, or ask for it to be replaced (the writer\'s overwrite option).', 'E_EXISTS');
        }
        if (!replaceable(dir)) throw notReplaceable(dir, CHANGED);
        if (attempt > 3) throw new UserError(`${dir} kept changing while the slice was being put in place`, { file: dir }, 'Is another freeze writing to the same path? Freeze to one path at a time.', 'E_EXISTS');
        const aside = `${tmp}-old${asides.length ? asides.length + 1 : ''}`;
        try {
          renameSync(dir, aside);
        } catch (e) {
          // Gone meanwhile: the path is free.
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
          continue;
        }
        // Checked again as moved: what is replaced is what was checked.
        if (!replaceable(aside)) {
          if (!placeNew(aside, dir)) asides.push(aside);
          throw notReplaceable(dir, CHANGED);
        }
        // Counted as moved aside before its mark is written: a mark the disk has no room for (a
        // full disk) left the old slice aside, unmarked, and its path empty, under an error that
        // said nothing had been written there.
        asides.push(aside);
        writeFileSync(join(aside, OWNER_FILE), JSON.stringify({ ...owner(), target: basename(dir), replacedBy: basename(tmp), installed }));
      }
      // The owner mark goes before the folder becomes the slice (a file it does not list would be refused).
      rmSync(join(tmp, OWNER_FILE), { force: true });
      if (placeNew(tmp, dir)) break;
      markMine(tmp);
    }
  } catch (e) {
    throw putBack(e, asides, dir);
  }
  // The renames on disk before the old slice goes: a power cut then leaves the new one in place
  // (or the old one aside, marked, for the next freeze to put back), never neither.
  syncFolder(dirname(dir));
  // The new slice is in place: an old one that cannot be removed (a file in use, no permission)
  // is said, not an error — the freeze succeeded.
  const warnings: string[] = [];
  for (const a of asides) {
    try {
      removeReplaced(a);
    } catch (e) {
      warnings.push(`the slice was written, but the old one it replaced could not be removed from ${a} (${(e as Error).message}): remove that folder by hand`);
    }
  }
  return warnings;
}

/**
 * Puts a slice moved aside back at its free path. placeNew makes the folder first (so a folder made
 * there meanwhile is never replaced), which a full disk refuses (ENOSPC: a folder takes a block);
 * the rename alone needs no room, and replaces at most an empty folder, never one with files.
 */
function restore(aside: string, dir: string): boolean {
  try {
    return placeNew(aside, dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOSPC' && code !== 'EDQUOT') throw e;
    renameSync(aside, dir);
    return true;
  }
}

/** A failed install puts the first folder it moved aside back at `dir`; what cannot go back is named in the error. */
function putBack(e: unknown, asides: string[], dir: string): unknown {
  const first = asides[0];
  if (first !== undefined) {
    try {
      const text = markOf(first)?.text;
      rmSync(join(first, OWNER_FILE), { force: true });
      if (freeForRestore(dir) && restore(first, dir)) asides.shift();
      else if (text !== undefined) writeFileSync(join(first, OWNER_FILE), text);
    } catch {
      // Left where it is, and named below.
    }
  }
  if (asides.length === 0) return e;
  const kept = `; what was at ${dir} is kept at ${asides.join(', ')}`;
  if (e instanceof UserError) return new UserError(e.message + kept, e.where, e.hint, e.code);
  return e instanceof Error ? Object.assign(e, { message: e.message + kept }) : e;
}
