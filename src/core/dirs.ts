import { closeSync, constants, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, rmdirSync, statSync, writeFileSync, writeSync, type Stats } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from './errors';

/**
 * Creates a folder and its missing parents, one level at a time, and returns the folders it
 * created (outermost first), so a failed run can take them away again.
 *
 * Not `mkdirSync(dir, { recursive: true })`: under a file system that answers ENOENT for a child of
 * a folder that exists (Linux procfs: `--trace /proc/x`), Node's recursive mkdir retries forever
 * at 100% CPU. Here every error is final and says which folder could not be made.
 */
export function ensureDir(dirArg: string, what = 'folder'): string[] {
  const dir = resolve(dirArg);
  const missing: string[] = [];
  for (let p = dir; ; ) {
    const st = statOrNothing(p);
    if (st) {
      if (!st.isDirectory()) {
        throw new UserError(`cannot create the ${what} ${dir}: ${p} is ${st.isFile() ? 'a file' : 'not a folder'}`, { file: p }, 'Choose a path whose parents are folders.', 'E_PATH');
      }
      break;
    }
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  const created: string[] = [];
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
      created.push(p);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      // Made meanwhile by someone else: fine, when it is a folder.
      if (err.code === 'EEXIST' && statSync(p, { throwIfNoEntry: false })?.isDirectory()) continue;
      throw new UserError(`cannot create the ${what} ${p}: ${fsReason(err)}`, { file: p }, 'Choose a folder you can write to.', 'E_PATH');
    }
  }
  return created;
}

/** File system refusals in words a user reads without looking the code up (the code follows, for a search). */
const FS_REASONS: Record<string, string> = {
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted (an immutable or another user\'s file or folder?)',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  ENOTDIR: 'a part of the path is not a folder',
  // mkdir -p meets it where nothing can be made (/proc, /sys) or a parent went away meanwhile.
  ENOENT: 'no such file or folder, and none can be made there',
  ENAMETOOLONG: 'a name in the path is too long for the file system',
  EMFILE: 'too many files are open',
  EIO: 'the disk reported an input/output error',
};

/** Why a file operation failed, as a message says it: "the file system is read-only (EROFS)"; the code alone when it has no words here. */
export function fsReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const code = err?.code;
  if (typeof code === 'string' && Object.hasOwn(FS_REASONS, code)) return `${FS_REASONS[code]} (${code})`;
  return code ?? (e instanceof Error ? e.message : String(e));
}

/** stat, or undefined when nothing is there (also when a parent is a file: ENOTDIR, said above). */
export function statOrNothing(p: string): Stats | undefined {
  try {
    return statSync(p, { throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/**
 * Makes a new, empty folder `base/name` — or `name-2`, `name-3`, … when that is taken — and
 * returns it with every folder made for it (for removeCreatedDirs). The name is reserved by the
 * mkdir itself, so two runs started in the same second never share a folder.
 */
export function newFolder(base: string, name: string, what = 'folder'): { path: string; created: string[] } {
  const created = ensureDir(base, what);
  for (let i = 1; ; i++) {
    const p = join(resolve(base), i === 1 ? name : `${name}-${i}`);
    try {
      mkdirSync(p);
      created.push(p);
      return { path: p, created };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== 'EEXIST' || i >= 1000) throw new UserError(`cannot create the ${what} ${p}: ${fsReason(err)}`, { file: p }, 'Choose a folder you can write to.', 'E_PATH');
    }
  }
}

/** Removes folders ensureDir created, innermost first, as long as they are empty. */
export function removeCreatedDirs(created: readonly string[]): void {
  for (let i = created.length - 1; i >= 0; i--) {
    try {
      rmdirSync(created[i] as string);
    } catch {
      // Not empty (someone put something there) or already gone: leave it.
      return;
    }
  }
}

/** Whether `path` is `folder` or lies inside it, by their names (no links followed: callers resolve them first when they matter). */
export function isWithin(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || !(rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel));
}

/**
 * The real path of `p` (symbolic links resolved) for a path that may not exist yet: the longest
 * part that exists is resolved and the rest appended. Undefined when a part exists but cannot be
 * resolved (a dangling link: where a write through it lands is unknown).
 */
export function realPathNearest(p: string): string | undefined {
  const rest: string[] = [];
  for (let cur = resolve(p); ; ) {
    try {
      return join(realpathSync.native(cur), ...rest.reverse());
    } catch {
      if (isLink(cur)) return undefined;
    }
    const parent = dirname(cur);
    if (parent === cur) return undefined;
    rest.push(basename(cur));
    cur = parent;
  }
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * The temp file a cache entry `p` is written to before it is renamed into place: named by this
 * machine and process, so the ones a killed process left can be told from a live one's
 * (sweepDeadTemps). A cache folder may be shared by machines (a home on NFS).
 */
export function cacheTemp(p: string): string {
  // '@' is in no host name: the machine is read back exactly (a suffix test took ci.vm's for vm's).
  return `${p}.tmp-${process.pid}@${MACHINE}`;
}

/** Removes the cacheTemp files in `dir` that a process of this machine which no longer runs left (killed while it wrote them). */
export function sweepDeadTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /\.tmp-(\d+)@([^@]+)$/.exec(name);
    if (!m || m[2] !== MACHINE) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidRuns(pid)) continue;
    removeQuietly(join(dir, name));
  }
}

/** rmSync(p, { force: true }) that never throws: for tidying after a failure in a cache, where a folder under a file (ENOTDIR) fails the removal too. */
export function removeQuietly(p: string): void {
  try {
    rmSync(p, { force: true });
  } catch {
    // Nothing there to remove, or nowhere it could be.
  }
}

/**
 * Opens a temp file for writing, creating it: never through a file or symbolic link already at that
 * name (one planted in a shared folder would take the write elsewhere). A leftover at the name is
 * removed first — the link itself, not what it points at — and the create is exclusive again.
 */
export function createExclusive(path: string, mode = 0o666): number {
  try {
    return openSync(path, 'wx', mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    rmSync(path, { force: true });
    return openSync(path, 'wx', mode);
  }
}

/**
 * Writes all of `data` at the file's position. writeSync writes what the system call took: on a
 * disk filling up that is part of the buffer, with no error (the error comes with the next write),
 * so a file written in pieces lost the tail of the last one and was kept, its hash describing bytes
 * it does not hold. Here the rest is written until it is all there or the system says why not.
 */
export function writeAll(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) {
    const n = writeSync(fd, data, done, data.length - done);
    if (n <= 0) throw Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    done += n;
  }
}

/** writeFileSync to a temp file through createExclusive; with `sync`, flushed to disk before it is closed (it is renamed into place next). */
export function writeExclusive(path: string, data: string | Uint8Array, opts: { sync?: boolean; mode?: number } = {}): void {
  const fd = createExclusive(path, opts.mode);
  try {
    writeFileSync(fd, data);
    if (opts.sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a folder's entries (files made or renamed in it) to disk; where a folder cannot be opened to sync (Windows), nothing. */
export function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not supported here: the renames stand as the system keeps them.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Which machine's processes a pid names, as temp files, locks and freeze marks record it: the host
 * name, and on Linux the pid namespace too (`host~4026531836`). Containers that share a host name
 * and a folder (CI jobs with the host's network) have pids of their own: another one's live run
 * looked dead, and lost its temp files and its lock.
 */
export const MACHINE = machineId();

function machineId(): string {
  try {
    const ns = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1];
    return ns ? `${hostname()}~${ns}` : hostname();
  } catch {
    return hostname();
  }
}

/** Whether a process with this pid runs on this machine (one this user may not signal still runs). */
export function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Whether `path` is a plain file itself (not a link, a folder, a pipe or a device). For the files a
 * run or a freeze leaves for the next one (temp files, locks, marks): a folder someone else filled
 * (a workspace's runs/, a cloned repository's slices/) may hold a link of that name instead.
 */
export function isPlainFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The text of the plain file at `path` if it holds at most `max` bytes, opened without following a
 * link or waiting on a pipe; undefined when it is anything else or cannot be read. (Read through, a
 * link to /dev/zero filled the memory, and one to a pipe or /dev/stdin blocked for good.)
 */
export function readPlainFile(path: string, max: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > max) return undefined;
    return readFileSync(fd, 'utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
