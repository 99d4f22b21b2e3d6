import { closeSync, constants, fstatSync, linkSync, lstatSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { Worker, threadId } from 'node:worker_threads';
import { join, resolve } from 'node:path';
import { MACHINE, createExclusive, ensureDir, fsReason, isPlainFile, pidRuns, readPlainFile, removeCreatedDirs, removeQuietly, statOrNothing, syncFolder, writeAll, writeExclusive } from '../dirs';
import { UserError } from '../errors';
import { checkFile } from '../slice/hashing';
import type { EventExec } from './replay';
import type { RankerInfo } from '../rankers/types';
import { FAULT_KINDS } from './faults';
import { METRIC_FIELDS, NumBuffer, StrBuffer, encodeEvent, formatEvents, splitStrs } from './traceFormat';

export { traceLine } from './traceFormat';

/**
 * The format a trace is written in. /2 added each event's recorded system figures (`system`:
 * queue depth, cache hits and misses); a /1 trace lacks them, and the timeline reads them from the
 * slice instead.
 */
export const TRACE_FORMAT = 'recreplay.trace/2';
/** Every trace format this version reads: the one it writes, and the ones before that it still opens. */
export const TRACE_FORMATS_READ = ['recreplay.trace/1', TRACE_FORMAT] as const;
export type TraceFormat = (typeof TRACE_FORMATS_READ)[number];

/** The first line of a trace: what was replayed, with which ranker and seed. */
export interface TraceHeader {
  format: TraceFormat;
  slice: string;
  sliceManifestSha256: string;
  /** What identifies the ranker wherever the trace goes: its kind, version and artifact's sha256 (the artifact's path is the run record's). */
  ranker: { kind: string; version?: string; artifactSha256?: string };
  seed: number;
  k: number;
  budgetMs: number;
  events: number;
  /**
   * The slice's files that did not match its manifest when the replay began (a forced replay),
   * sorted; absent when all did. A forced replay of a modified slice wrote the very header of an
   * intact one, so the trace alone did not say it was not the frozen data.
   */
  modified?: string[];
}

/** The header's `modified`, for a slice that was opened with files that do not match its manifest. */
export function modifiedField(modified: ReadonlySet<string>): { modified?: string[] } {
  return modified.size ? { modified: [...modified].sort() } : {};
}

// The trace thread: formats, hashes and writes. Its formatter is formatEvents itself, passed as
// source text, so every bundle (CLI, debug adapter, extension host) can start it without
// shipping a second file and both threads produce the same bytes. It is our own code, never
// user input.
const WORKER_SOURCE = `
var __name = (f) => f;
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const formatEvents = ${formatEvents.toString()};
const splitStrs = ${splitStrs.toString()};
const hash = createHash('sha256');
const acks = new Int32Array(workerData.acks);
// The temp file was opened by the engine thread (so a folder it cannot write fails the run at once).
const fd = workerData.fd;
const ids = workerData.ids.slice();
// Every id quoted up front: a dense array (filling a sparse one as slots appear made formatEvents deoptimise).
const quoted = ids.map((id) => JSON.stringify(id));
// Text is written as it is formatted into one reused buffer, hashed and written out when full:
// no long-lived strings, so the young generation stays small and garbage collection cheap.
const OUT = 1 << 20;
let out = Buffer.allocUnsafe(OUT), len = 0, bytes = 0;
function flush() {
  if (!len) return;
  const b = out.subarray(0, len);
  // All of it: writeSync may take part of a buffer (a disk filling up) and say so only by its count.
  for (let done = 0; fd !== undefined && done < len; ) {
    const n = fs.writeSync(fd, b, done, len - done);
    if (n <= 0) throw Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    done += n;
  }
  hash.update(b);
  bytes += len;
  len = 0;
}
function push(s) {
  // A UTF-8 character takes at most 3 bytes per UTF-16 unit.
  if (len + 3 * s.length > out.length) {
    flush();
    if (3 * s.length > out.length) out = Buffer.allocUnsafe(3 * s.length);
  }
  len += out.write(s, len, 'utf8');
}
parentPort.on('message', (m) => {
  try { handle(m); } catch (e) {
    // The engine may be waiting for an ack: tell it to stop waiting, then fail as usual.
    Atomics.store(acks, 1, 1);
    Atomics.notify(acks, 0);
    throw e;
  }
});
function handle(m) {
  if (m.type === 'batch') {
    for (const id of m.newIds) { ids.push(id); quoted.push(JSON.stringify(id)); }
    push(formatEvents(m.nums, 0, splitStrs(m.strs), 0, ids, workerData.faultKinds, workerData.metricFields, m.count, quoted, push));
    Atomics.add(acks, 0, 1);
    Atomics.notify(acks, 0);
  } else if (m.type === 'text') push(m.text);
  else if (m.type === 'close') {
    flush();
    // The engine thread opened the file and closes it (a descriptor closed on another thread than
    // the one that opened it draws a warning from Node).
    if (fd !== undefined) fs.fsyncSync(fd);
    parentPort.postMessage({ sha256: hash.digest('hex'), bytes });
  }
}
`;

/**
 * Names of the temp files of an unfinished trace and run record (`.trace.jsonl.<tag>.tmp`,
 * `.run.json.<tag>.tmp`) and of the old trace kept while the two are renamed into place
 * (`.trace.jsonl.<tag>.old`); the tag is host.pid-thread-count (groups 2 and 3: host, pid).
 */
export const TRACE_TEMP_FILE = /^\.(trace\.jsonl|run\.json)\.(.+)\.(\d+)-\d+-\d+\.(tmp|old)$/;

// (With the pid namespace: see MACHINE.)
const HOST = MACHINE;
let tmpCount = 0;
/** Host, pid, thread and a count: a temp file name no other writer on any machine that shares the folder uses. */
function tmpTag(): string {
  return `${HOST}.${process.pid}-${threadId}-${++tmpCount}`;
}

/**
 * Removes the temp files in `dir` that a run on this machine left when it was killed where it could
 * not clean up (SIGKILL, the out-of-memory killer): only files named as this writer names them, made
 * on this host by a process that no longer runs. A run killed between its two renames (its trace in
 * place, its run record not) left the trace beside the run record of the run before: its finished
 * record is put in place first (see finishDeadSwap). Tidying, not the job: nothing here is an error.
 */
export function removeDeadTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const dead = new Map<number, { name: string; file: string; kind: string }[]>();
  for (const name of names) {
    const m = TRACE_TEMP_FILE.exec(name);
    // A writer makes its temp files as plain files: a link of that name (a workspace's runs/ folder
    // can bring one along, to /dev/zero) is none of a run's, and is neither read nor removed.
    if (!m || m[2] !== HOST || !isPlainFile(join(dir, name))) continue;
    const pid = Number(m[3]);
    if (pid === process.pid || pidRuns(pid)) continue;
    const files = dead.get(pid) ?? [];
    files.push({ name, file: m[1] as string, kind: m[4] as string });
    dead.set(pid, files);
  }
  for (const files of dead.values()) {
    // A record whose trace is the one in place: its run was killed between the two renames (a
    // process may have had several writers here: each record is tried; size and sha256 decide).
    for (const f of files) if (f.file === 'run.json' && f.kind === 'tmp' && finishDeadSwap(dir, join(dir, f.name))) break;
    for (const f of files) removeQuietly(join(dir, f.name));
  }
}

/**
 * Puts a dead run's finished run record (`recordTmp`) in place when the trace in place is the one it
 * describes (its size and sha256): the pair its run was renaming when it was killed. Under the
 * folder's lock, taken at once or not at all (a live run renaming its own pair meanwhile wins).
 */
function finishDeadSwap(dir: string, recordTmp: string): boolean {
  const release = tryFolderLockSync(dir);
  if (!release) return false;
  try {
    const text = readPlainFile(recordTmp, MAX_RECORD_BYTES);
    if (text === undefined) return false;
    const rec = JSON.parse(text) as Partial<RunRecord>;
    const trace = rec.trace;
    const path = join(dir, 'trace.jsonl');
    // The trace in place read only when it is a plain file (a link to a pipe blocked the writer for good).
    if (!trace || typeof trace.sha256 !== 'string' || typeof trace.bytes !== 'number' || !isPlainFile(path) || statOrNothing(path)?.size !== trace.bytes) return false;
    if (checkFile(path, { sha256: trace.sha256, bytes: trace.bytes }) !== undefined) return false;
    renameSync(recordTmp, join(dir, 'run.json'));
    syncFolder(dir);
    return true;
  } catch {
    // Unreadable or cut short: not a record to put in place.
    return false;
  } finally {
    release();
  }
}

/**
 * The folder's lock (see withFolderLock) taken without waiting: its release, or undefined when a
 * live run holds it. One left by a process of this machine that no longer runs is taken over.
 */
function tryFolderLockSync(dir: string): (() => void) | undefined {
  const lock = join(dir, TRACE_LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(lock, 'wx');
    } catch {
      // Read as withFolderLock reads it: a link or anything but a plain file there is no run's lock
      // (read through, a link to /dev/zero or a pipe never ended).
      const found = readLock(lock);
      if (attempt > 0 || found.kind !== 'file' || !staleHolder(found.holder)) return undefined;
      removeLockIfSame(lock, found.ino, found.holder);
      continue;
    }
    let ino: number;
    try {
      ino = claimLock(lock, fd);
    } catch {
      return undefined;
    }
    return () => removeLockIfSame(lock, ino, LOCK_HOLDER);
  }
  return undefined;
}

/** What a lock file this thread holds says: the host, pid and thread (see withFolderLock). */
const LOCK_HOLDER = `${HOST} ${process.pid} ${threadId}\n`;

/** Whether a lock file's text names a process of this machine that no longer runs (its lock is stale). */
function staleHolder(holder: string): boolean {
  const [host, pid] = holder.split(' ');
  return host === HOST && pid !== undefined && /^\d+$/.test(pid) && !pidRuns(Number(pid));
}

/**
 * Writes this thread's name into the lock file it just made (`fd`, closed here) and returns its
 * inode. The file is ours (made with wx): a failed write (a full disk) must not leave it empty, so
 * it is removed, and the error said as the lock's.
 */
function claimLock(lock: string, fd: number): number {
  let ino = 0;
  try {
    ino = fstatSync(fd).ino;
    writeAll(fd, Buffer.from(LOCK_HOLDER));
  } catch (e) {
    closeSync(fd);
    removeLockIfSame(lock, ino, readText(lock));
    throw writeFailed(e as Error, lock, 'folder lock');
  }
  closeSync(fd);
  return ino;
}

/** The lock a run holds in its trace folder while it renames its trace and run record into place. */
export const TRACE_LOCK = '.recreplay-trace.lock';

/** How long a run waits for another one's renames into the same folder, in 10 ms waits (30 s; tests lower it). */
export const lockWaits = { max: 3000 };

/** Waits on a lock that stay empty (a run stopped between creating it and writing its name) before it is taken as stale: ~1 s. */
const EMPTY_LOCK_WAITS = 100;

/**
 * Runs `fn` (the renames of a trace and its run record) holding the trace folder's lock, so two runs
 * writing into one folder at once never leave a trace beside the other's run record: each pair goes
 * in whole. A lock left by a process of this machine that no longer runs is taken over, and so is
 * one that stays empty (its run stopped, or its disk filled, before it wrote its name); one held
 * longer than the wait is an error naming it. The waits yield to the event loop, and `checkCancel`
 * (which throws to cancel) is called before each: a Ctrl-C or SIGTERM is heard while it waits.
 */
export async function withFolderLock<T>(dir: string, fn: () => T, checkCancel?: () => void): Promise<T> {
  const lock = join(dir, TRACE_LOCK);
  let fd: number | undefined;
  let empty = { ino: -1, waits: 0 };
  // Every pass that does not take the lock waits (10 ms, or a turn of the event loop when the lock
  // went meanwhile) and counts: a lock that can be neither read nor removed made this loop spin at
  // full speed, never yielding to a Ctrl-C and never reaching its limit.
  for (let waits = 0; fd === undefined; waits++) {
    checkCancel?.();
    try {
      fd = openSync(lock, 'wx');
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw writeFailed(e as Error, lock, 'folder lock');
    }
    const found = readLock(lock);
    if (found.kind === 'gone') {
      // Released meanwhile: try again after a turn of the event loop (a signal is heard there).
      await new Promise<void>((r) => setImmediate(r));
      continue;
    }
    // A run makes its lock as a plain file: a folder or a link there is something else, which no wait removes.
    if (found.kind === 'foreign') {
      throw new UserError(`cannot put the trace into ${dir}: ${lock} is ${found.what}, not the lock file a run makes there`, { file: lock }, 'Remove it (a run makes that lock as a file while it renames its trace into the folder), or write the trace to another folder.', 'E_PATH');
    }
    let why: string;
    if (found.kind === 'unreadable') why = `${lock} cannot be read (${found.reason}): another user's run may hold it`;
    else {
      const { ino, holder } = found;
      if (staleHolder(holder)) {
        // Only that stale file goes: another waiter may have taken it over and made its own since
        // it was read (removing whatever was there let three or four runs hold the lock at once).
        const left = removeLockIfSame(lock, ino, holder);
        if (left === undefined) continue;
        why = `${lock} names process ${holder.trim().split(' ')[1]} of this machine, which no longer runs, but it cannot be removed (${left})`;
      } else if (holder === '') {
        // A live run writes its name just after making the file: the same lock empty for a second was left so.
        empty = empty.ino === ino ? { ino, waits: empty.waits + 1 } : { ino, waits: 0 };
        const left = empty.waits >= EMPTY_LOCK_WAITS ? removeLockIfSame(lock, ino, '') : '';
        if (left === undefined) continue;
        why = `a process holds ${lock}${left ? `, which stays empty but cannot be removed (${left})` : ''}`;
      } else why = `process ${holder.trim()} holds ${lock}`;
    }
    if (waits >= lockWaits.max) {
      throw new UserError(`cannot put the trace into ${dir}: another run is renaming its trace there (${why})`, { file: lock }, 'Wait for that run to end, or write this trace to another folder; remove the lock file if no run uses the folder.', 'E_PATH');
    }
    await new Promise<void>((r) => setTimeout(r, 10));
  }
  const myIno = claimLock(lock, fd);
  try {
    return fn();
  } finally {
    // Our own lock only: one taken over as stale meanwhile is another run's now.
    removeLockIfSame(lock, myIno, LOCK_HOLDER);
  }
}

/** What is at a folder's lock path: gone, a lock file (its inode and text), one this user cannot read, or something no run makes. */
type FoundLock = { kind: 'gone' } | { kind: 'file'; ino: number; holder: string } | { kind: 'unreadable'; reason: string } | { kind: 'foreign'; what: string };

function readLock(lock: string): FoundLock {
  let st;
  try {
    st = lstatSync(lock);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'gone' };
    return { kind: 'unreadable', reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
  if (st.isSymbolicLink()) return { kind: 'foreign', what: 'a symbolic link' };
  if (st.isDirectory()) return { kind: 'foreign', what: 'a folder' };
  if (!st.isFile()) return { kind: 'foreign', what: 'not a regular file' };
  try {
    const lfd = openSync(lock, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const ino = fstatSync(lfd).ino;
      return { kind: 'file', ino, holder: readFileSync(lfd, 'utf8') };
    } finally {
      closeSync(lfd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Gone, or replaced by a link, between the two looks: looked at again on the next pass.
    if (code === 'ENOENT' || code === 'ELOOP') return { kind: 'gone' };
    return { kind: 'unreadable', reason: code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? (e as Error).message) };
  }
}

/** A rename of the finished trace or run record refused by the file system, as a user error naming the files (it named the hidden temp file). */
function replaceFailed(e: unknown, tracePath: string, recordPath: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY' && code !== 'EXDEV') return e;
  return new UserError(`cannot put ${tracePath} and ${recordPath} in place: ${(e as Error).message.replace(/, rename .*$/, '')}; what was there is kept`, { file: tracePath }, 'Write the trace to a folder of your own (in a shared folder only a file\'s owner may replace it).', 'E_PATH');
}

/** The most a run record read back from a dead run's temp file may hold (one holds a run's summary: kilobytes). */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** A file's text, or '' when it cannot be read. */
function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Removes the lock file at `lock` if it is the one known by its inode and text (the holder it
 * names): moved aside under a name of this run's own first — atomic — and put back when it proves
 * to be another's. Undefined when that lock is gone (removed, or not there); else why it stays.
 */
export function removeLockIfSame(lock: string, ino: number, text: string): string | undefined {
  const aside = `${lock}.${tmpTag()}.aside`;
  try {
    renameSync(lock, aside);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Gone already; or it stays, and why (in a sticky folder such as /tmp only its owner may move it).
    if (code === 'ENOENT') return undefined;
    return code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? (e as Error).message);
  }
  let same: boolean;
  try {
    // The text too: a file system reuses a freed inode at once (a stale lock removed, a new one made).
    same = (ino === 0 || statSync(aside).ino === ino) && readFileSync(aside, 'utf8') === text;
  } catch {
    same = true;
  }
  if (!same) {
    try {
      // Another run's lock: back in place (unless a third made one meanwhile).
      linkSync(aside, lock);
    } catch {
      // Taken again already.
    }
  }
  rmSync(aside, { force: true });
  return undefined;
}

/** A write error of the trace thread as a user error that names the trace (ENOSPC said only "no space left on device, write"). */
export function writeFailed(e: Error, path: string | undefined, what = 'trace'): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (path === undefined || typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return e;
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  return new UserError(
    `cannot write the ${what} ${path}: ${full ? 'the disk is full' : e.message}`,
    { file: path },
    full ? 'Free space on that disk, or write the trace to a folder on another one.' : 'Write the trace to a folder you can write to.',
    'E_PATH',
  );
}

const BATCH = 2048;
const TAIL_BATCH = 128;
/** Batches the engine may run ahead of the trace thread before it waits: bounds the memory a slow disk can take. */
const MAX_IN_FLIGHT = 4;


/** Where the trace writer reads item ids: the replay state's slot table. */
export interface SlotTable {
  readonly ids: readonly string[];
  slot(id: string): number;
}

/** A finished trace: where it is (null: only hashed), its sha256, size and events. */
export interface TraceInfo {
  path: string | null;
  sha256: string;
  bytes: number;
  events: number;
}

/**
 * Streams a trace to DIR/trace.jsonl through a temp file on a worker thread (the second core
 * formats, hashes and writes while the engine replays); only a finished trace is renamed into
 * place, together with its run record (DIR/run.json). Without a folder it only hashes, so a run
 * can report its trace's sha256 cheaply. Every writer must end in close() or abort(): its thread
 * keeps the process alive until then (close() awaits it), and its temp file stays until then.
 */
export class TraceWriter {
  /** 100 ms waits without an ack before the trace thread counts as dead (30 s; tests lower it). */
  static stallWaits = 300;
  private readonly worker: Worker;
  private failure: Error | undefined;
  private readonly nums = new NumBuffer();
  private readonly strs = new StrBuffer();
  private count = 0;
  /**
   * Ids of the state's table the writer has taken so far (sent, or in newIds to go with the next
   * batch). Taken as each event is written: the table close() gets may be a restored, shorter one
   * (a debugger stopped after a step back), which must not lose ids the trace's events use.
   */
  private seenIds: number;
  private newIds: string[] = [];
  private readonly acks = new Int32Array(new SharedArrayBuffer(8));
  private sentBatches = 0;
  /** Events the header announces: near the end batches shrink, so close() waits for little. */
  private readonly expected: number;
  events = 0;
  private readonly tmp: string | undefined;
  private fd: number | undefined;
  readonly path: string | undefined;
  /** Folders the constructor made for the trace: an aborted run takes them away again (when empty). */
  private createdDirs: string[] = [];
  /**
   * Takes the temp file (and the folders made for it) away if the process exits with the trace
   * unfinished — process.exit on a second Ctrl-C, say — so no half trace stays behind.
   */
  private readonly onExit = (): void => {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // Closed already.
      }
      this.fd = undefined;
    }
    if (this.tmp) rmSync(this.tmp, { force: true });
    removeCreatedDirs(this.createdDirs);
  };

  constructor(
    readonly dir: string | undefined,
    header: TraceHeader,
    table: SlotTable,
  ) {
    if (dir !== undefined) {
      this.createdDirs = ensureDir(dir, 'trace folder');
      removeDeadTemps(dir);
      // Absolute: the run record names its trace wherever it is read from later.
      this.path = join(resolve(dir), 'trace.jsonl');
      // Unique per writer, not only per process: runs on worker threads share the pid.
      this.tmp = join(dir, `.trace.jsonl.${tmpTag()}.tmp`);
      // Whatever would stop the trace from being written stops the run now, not after the replay.
      try {
        const folder = statOrNothing(dir);
        const uid = process.getuid?.();
        for (const target of [this.path, join(dir, 'run.json')]) {
          const st = statOrNothing(target);
          if (st?.isDirectory()) throw new UserError(`cannot write ${target}: a folder is in its place`, { file: target }, 'Remove it, or choose another --trace folder.', 'E_PATH');
          // In a shared folder with the sticky bit (/tmp), only a file's owner (or the folder's) may
          // replace it: the rename at the end failed, after the whole replay.
          if (st && folder && uid !== undefined && uid !== 0 && (folder.mode & 0o1000) !== 0 && st.uid !== uid && folder.uid !== uid) {
            throw new UserError(`cannot replace ${target}: it belongs to another user, and in this shared folder (sticky bit) only its owner may replace it`, { file: target }, 'Write the trace to a folder of your own, or ask its owner to remove the old files.', 'E_PATH');
          }
        }
        try {
          this.fd = createExclusive(this.tmp);
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          throw new UserError(`cannot write the trace in ${dir}: ${fsReason(err)}`, { file: dir }, 'Choose a --trace folder you can write to.', 'E_PATH');
        }
      } catch (e) {
        removeCreatedDirs(this.createdDirs);
        throw e;
      }
      process.on('exit', this.onExit);
    }
    this.seenIds = table.ids.length;
    this.expected = header.events;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { fd: this.fd, ids: table.ids, faultKinds: FAULT_KINDS, metricFields: METRIC_FIELDS, acks: this.acks.buffer },
      // Its garbage is short-lived strings: a small young generation keeps the process's RSS down.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.worker.on('error', (e) => (this.failure = writeFailed(e, this.path)));
    // Batches go to the trace thread by transfer, which detaches their buffers. The first detach in
    // a process makes V8 throw away every optimised function that reads a typed array (it guards
    // them with one global "nothing detached yet" assumption): ~40 recompilations in the middle of
    // a replay. Detaching a throwaway buffer now, before the replay's code is optimised, moves that
    // to where it costs nothing.
    const spare = new ArrayBuffer(8);
    structuredClone(spare, { transfer: [spare] });
    this.worker.postMessage({ type: 'text', text: JSON.stringify(header) + '\n' });
  }

  /** Appends one completed event; `table` is the replay state it ran against. */
  write(ex: EventExec, table: SlotTable): void {
    encodeEvent(ex, (id) => table.slot(id), this.nums, this.strs);
    this.takeIds(table);
    this.count++;
    this.events++;
    // The last two batches' worth goes in small batches: the trace thread formats them while the
    // engine still replays, instead of one big batch after the last event.
    if (this.count >= BATCH || (this.count >= TAIL_BATCH && this.expected - this.events < 2 * BATCH)) this.send();
  }

  /** Item ids the table gained since the last look (items missing from the catalogue), for the trace thread. */
  private takeIds(table: SlotTable): void {
    const ids = table.ids;
    if (ids.length <= this.seenIds) return;
    for (let i = this.seenIds; i < ids.length; i++) this.newIds.push(ids[i] as string);
    this.seenIds = ids.length;
  }

  private send(): void {
    if (!this.count) return;
    const nums = this.nums.take();
    // Item ids the trace thread has not seen yet (items missing from the catalogue).
    const newIds = this.newIds;
    this.newIds = [];
    // The strings go as one text (each after its length): it clones as one copy of memory.
    this.worker.postMessage({ type: 'batch', nums, strs: this.strs.take(), count: this.count, newIds }, [nums.buffer as ArrayBuffer]);
    this.count = 0;
    this.sentBatches++;
    // Backpressure: the engine never gets more than MAX_IN_FLIGHT batches ahead of the trace thread.
    // A thread that makes no progress for stallWaits waits (e.g. killed for memory) is an error, not a hang.
    let idle = 0;
    for (;;) {
      const done = Atomics.load(this.acks, 0);
      if (this.sentBatches - done <= MAX_IN_FLIGHT || this.failure || Atomics.load(this.acks, 1)) break;
      if (Atomics.wait(this.acks, 0, done, 100) === 'timed-out' && ++idle >= TraceWriter.stallWaits) {
        throw new Error(`the trace thread stopped writing ${this.tmp ?? 'the trace'} (no progress in ${(TraceWriter.stallWaits / 10).toFixed(1)} s)`);
      } else if (Atomics.load(this.acks, 0) !== done) idle = 0;
    }
  }

  /**
   * Finishes the trace and, with `record`, its run record; renames both into place only when both
   * are complete, so a failure leaves the folder as it was (no temp file, no new trace beside an
   * old run record). Resolves to the trace's sha256 and size and the run record's path.
   */
  async close(table: SlotTable, record?: (t: TraceInfo) => RunRecord | Promise<RunRecord>, checkCancel?: () => void): Promise<TraceInfo & { runRecord: string | null }> {
    let recordTmp: string | undefined;
    try {
      this.takeIds(table);
      this.send();
      const done = new Promise<{ sha256: string; bytes: number }>((resolve, reject) => {
        this.worker.once('message', resolve);
        // (Named: a full disk said only "no space left on device, write" when the trace fit the thread's buffer.)
        this.worker.once('error', (e) => reject(writeFailed(e, this.path)));
        if (this.failure) reject(this.failure);
      });
      this.worker.postMessage({ type: 'close' });
      let r: { sha256: string; bytes: number };
      try {
        r = await done;
      } finally {
        await this.worker.terminate();
      }
      if (this.fd !== undefined) {
        closeSync(this.fd);
        this.fd = undefined;
      }
      const info: TraceInfo = { path: this.path ?? null, sha256: r.sha256, bytes: r.bytes, events: this.events };
      let runRecord: string | null = null;
      if (this.dir !== undefined && this.tmp && this.path) {
        const rec = record ? await record(info) : undefined;
        const recordPath = join(resolve(this.dir), 'run.json');
        if (rec) {
          recordTmp = join(this.dir, `.run.json.${tmpTag()}.tmp`);
          try {
            // On disk before it is renamed into place: after a crash, no complete trace beside an empty run record.
            writeExclusive(recordTmp, JSON.stringify(rec, null, 2) + '\n', { sync: true });
          } catch (e) {
            throw writeFailed(e as Error, recordPath, 'run record');
          }
        }
        const [traceTmp, recTmp] = [this.tmp, recordTmp];
        try {
          await withFolderLock(this.dir, () => this.swapIn(traceTmp, recTmp, recordPath), checkCancel);
        } catch (e) {
          throw replaceFailed(e, this.path, recordPath);
        }
        syncFolder(this.dir);
        if (recordTmp) {
          recordTmp = undefined;
          runRecord = recordPath;
        }
      }
      process.off('exit', this.onExit);
      return { ...info, runRecord };
    } catch (e) {
      if (recordTmp) rmSync(recordTmp, { force: true });
      process.off('exit', this.onExit);
      this.onExit();
      throw e;
    }
  }

  /**
   * Renames the finished trace, then its run record, into place, as a pair: when the second rename
   * fails (a folder put at run.json meanwhile, another run's rename between the two), the old trace
   * is put back from a hard link made before — or the new one removed when there was none — so the
   * folder never holds a trace beside another run's record. (A file system without hard links keeps
   * the plain order: trace, then record.)
   */
  private swapIn(traceTmp: string, recordTmp: string | undefined, recordPath: string): void {
    const path = this.path as string;
    const hadTrace = recordTmp !== undefined && statOrNothing(path) !== undefined;
    let old: string | undefined;
    if (hadTrace) {
      old = join(this.dir as string, `.trace.jsonl.${tmpTag()}.old`);
      try {
        linkSync(path, old);
      } catch {
        old = undefined;
      }
    }
    try {
      renameSync(traceTmp, path);
      if (!recordTmp) return;
      try {
        renameSync(recordTmp, recordPath);
      } catch (e) {
        if (old) renameSync(old, path);
        else if (!hadTrace) rmSync(path, { force: true });
        throw e;
      }
    } finally {
      if (old) rmSync(old, { force: true });
    }
  }

  /** Drops an unfinished trace: nothing half-written stays behind. */
  async abort(): Promise<void> {
    await this.worker.terminate();
    process.off('exit', this.onExit);
    this.onExit();
  }
}

/** The audit trail of a run, written beside the trace. */
export interface RunRecord {
  format: 'recreplay.run/1';
  tool: { name: string; version: string };
  /**
   * `eventsVerified`: whether every byte of events.jsonl was checked against the manifest by the
   * end of the run. A run stopped early (--break, a debug session) checks only the chunks it read:
   * `modified: []` then speaks for those alone.
   */
  slice: { path: string; name: string; manifestSha256: string; versions: unknown; modified: string[]; eventsVerified: boolean };
  config: { ranker: unknown; seed: number; pipeline: unknown; checkpointEvery: number; forced: boolean };
  seed: number;
  startedAt: string;
  endedAt: string;
  user: string;
  host: string;
  trace: { path: string | null; sha256: string; bytes: number; events: number } | null;
  events: number;
  /** Where a stop condition ended the run early (`recreplay run --break`): the trace holds events 1..event. */
  stoppedAt?: { event: number; id: string; condition: string };
  /** Cumulative metrics over the traced events; empty when they could not be computed (see metricsMissing). */
  metrics: Record<string, number>;
  /** Why `metrics` is empty: a debug session ended while its ranker had stopped answering (the trace is complete). */
  metricsMissing?: string;
  /** A headless run's impressions and clicks, recorded or simulated by the click model (see Outcomes in run.ts). */
  outcomes?: { impressions: { recorded: number; simulated: number }; clicks: { recorded: number; simulated: number } };
  /** Faults by kind; a nan_score is one per candidate, so a count may exceed the events it came from (faultEvents). */
  faults: Record<string, number>;
  /** Events that raised at least one fault of the kind. */
  faultEvents: Record<string, number>;
}

/** A ranker as a trace header names it (see TraceHeader.ranker): a code ranker's version too, so two versions' traces differ. */
export function traceRanker(info: RankerInfo): TraceHeader['ranker'] {
  return { kind: info.kind, ...(info.version !== undefined ? { version: info.version } : {}), ...(info.artifactSha256 ? { artifactSha256: info.artifactSha256 } : {}) };
}
