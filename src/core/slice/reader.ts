import { closeSync, fstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { IntegrityError, UserError, jsonSyntaxError, shownName } from '../errors';
import { isWithin, statOrNothing } from '../dirs';
import { manifestWarnings, repeatedKeys, validateManifest } from './manifest';
import { parseEventLine, parseRecordsSteps } from './events';
import { runSteps, runStepsAsync, type StepRunner, type Steps } from '../steps';
import { EventCursor, MAX_PREFETCH_BLOCK, lineTooLong, startReader, type CursorHost } from './cursor';
import { movedAside } from './deadFreezes';
import { ChunkHasher, FileChecker, cannotRead, checkFile, checkFileSteps, openForReading, readFull, readWhole, readWholeSteps, sha256, type FileMismatch } from './hashing';
import { BlockPrefetcher } from './prefetch';
import { fileText, isUtf8, lineText, notUtf8 } from './utf8';
import { UserTable, loadUsersIndex, storeUsersIndex } from './userTable';
import { ItemCatalog } from './itemCatalog';
import { OffsetCollector, OffsetIndex, cacheDir, dropIndex, loadCachedIndex, loadDerivedChunks, modifiedIndexKey, storeDerivedChunks, storeIndex, type ChunkHashes } from './offsetIndex';
import { MAX_MANIFEST_BYTES, type EventRecord, type FileEntry, type ItemRecord, type SliceManifest, type UserRecord } from './types';

export { MAX_MANIFEST_BYTES } from './types';

/**
 * The bytes of DIR/slice.json when it is a regular file inside the folder, of a manifest's size;
 * undefined otherwise. For callers that look before they open (the editor's index warm-up, the
 * timeline): a named pipe there blocked the editor for good. Slice.open says what is wrong.
 */
export function manifestBytesAt(dir: string): Buffer | undefined {
  const p = join(dir, 'slice.json');
  try {
    if (fileKind(dir, p) !== 'file' || statSync(p).size > MAX_MANIFEST_BYTES) return undefined;
    return readWhole(p, dir);
  } catch {
    return undefined;
  }
}

/**
 * A folder's identity: its inode and its change time. The inode alone is reused at once (a slice
 * moved aside and removed, its replacement made); a folder made or renamed since has another ctime.
 */
function folderId(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.ctimeMs}`;
}

/** The error of a slice folder replaced while it was read (see Slice.checkNotReplaced). */
function replacedError(dir: string): UserError {
  return new UserError(`${dir} changed while it was being read: its files were replaced, removed or added meanwhile (a freeze to this path?)`, { file: dir }, 'Run the command again once nothing writes to the slice.', 'E_REPLACED');
}

/** An error of the file system saying that what was being read is no longer there. */
function vanishedError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export type FileKind = 'file' | 'missing' | 'a folder' | 'not a regular file' | 'a link to outside the slice folder';

/**
 * What is at a path inside the slice folder `dir`: a regular file, nothing (also when a parent is a
 * file), or something else. Links are followed only while they stay inside the folder: a file that
 * resolves outside it (a symlink to /etc/…, a linked subfolder) is never read, so a manifest's paths
 * cannot reach out of the slice by way of the file system either.
 */
export function fileKind(dir: string, p: string): FileKind {
  let st: ReturnType<typeof statOrNothing>;
  let root: string;
  let real: string;
  try {
    st = statOrNothing(p);
    if (!st) return 'missing';
    root = realpathSync(dir);
    real = realpathSync(p);
  } catch (e) {
    // A link that points at itself (ELOOP), a name too long: not a file this slice can hold.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENAMETOOLONG') return 'not a regular file';
    // Gone between the look and the resolving (the folder moved aside by a freeze to this path).
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw e;
  }
  if (real === root || !isWithin(root, real)) return 'a link to outside the slice folder';
  return st.isFile() ? 'file' : st.isDirectory() ? 'a folder' : 'not a regular file';
}

/** How a mismatch is said to a user. */
export const MISMATCH: Record<FileMismatch, string> = { size: 'its size differs', sha256: 'its sha256 differs', 'chunk sha256': 'the sha256 of a chunk differs' };

/** The files whose records the manifest counts and a slice reads line by line. */
const JSONL_FILES = ['events.jsonl', 'items.jsonl', 'users.jsonl'];

/** Why an unlisted file is in VerifyReport.modified. */
export const UNLISTED = 'not listed in the manifest';

/**
 * The catalogue and user files that lie in the slice folder but are not in the manifest's "files":
 * neither hashed nor read, they would be silently left out of a replay, so open refuses the slice
 * and verify reports them.
 */
export function unlistedFiles(dir: string, manifest: SliceManifest): string[] {
  return ['items.jsonl', 'users.jsonl'].filter((name) => !manifest.files.some((f) => f.path === name) && statOrNothing(join(dir, name)) !== undefined);
}

/**
 * Counts the records of a JSONL file fed block by block, as opening the slice counts them: every
 * line of events.jsonl (a last one without a newline too), the lines of items.jsonl and users.jsonl
 * that hold more than whitespace (parseRecords skips the others).
 */
class RecordCounter {
  count = 0;
  /** The line being read holds something (events: any byte; records: more than whitespace). */
  private open = false;

  constructor(private readonly skipBlank: boolean) {}

  feed(buf: Buffer): void {
    if (!this.skipBlank) {
      let last = -1;
      for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) {
        this.count++;
        last = i;
      }
      if (last < buf.length - 1) this.open = true;
      else if (last !== -1) this.open = false;
      return;
    }
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i] as number;
      if (c === 10) {
        if (this.open) this.count++;
        this.open = false;
      } else if (c !== 32 && c !== 9 && c !== 13) this.open = true;
    }
  }

  finish(): number {
    return this.count + (this.open ? 1 : 0);
  }
}

/** Why a file whose bytes match its entry still does not match the manifest: its record count. */
function recordsWhy(entry: FileEntry, found: number): string | undefined {
  return entry.records !== undefined && entry.records !== found ? `the manifest says ${entry.records} records, the file holds ${found}` : undefined;
}

/**
 * Hashes every file the manifest lists, whole: the ones that differ and the ones that are not there;
 * an unlisted catalogue or user file counts as modified (the slice's files are not the frozen ones).
 * A file whose bytes match but whose record count is not the manifest's counts as modified too: a
 * replay refuses it (events.jsonl), or would read other records than the manifest describes.
 */
function checkFiles(dir: string, manifest: SliceManifest): VerifyReport {
  const modified: string[] = [];
  const missing: string[] = [];
  const reasons: Record<string, string> = {};
  for (const f of manifest.files) {
    const p = join(dir, f.path);
    const kind = fileKind(dir, p);
    if (kind !== 'file') {
      missing.push(f.path);
      reasons[f.path] = kind;
      continue;
    }
    const counter = f.records !== undefined && JSONL_FILES.includes(f.path) ? new RecordCounter(f.path !== 'events.jsonl') : undefined;
    const fd = openForReading(p, dir);
    let why: FileMismatch | undefined;
    try {
      why = checkFile(fd, f, counter && ((buf) => counter.feed(buf)));
    } finally {
      closeSync(fd);
    }
    const whyCount = !why && counter ? recordsWhy(f, counter.finish()) : undefined;
    if (why || whyCount) {
      modified.push(f.path);
      reasons[f.path] = why ? MISMATCH[why] : (whyCount as string);
    }
  }
  for (const name of unlistedFiles(dir, manifest)) {
    modified.push(name);
    reasons[name] = UNLISTED;
  }
  return { ok: modified.length === 0 && missing.length === 0, modified, missing, reasons };
}

/** Keys written twice in slice.json named one by one at most (the rest are counted). */
const MAX_REPEAT_WARNINGS = 10;

/**
 * The manifest in the bytes of a slice.json at `manifestPath`, validated, with events.jsonl listed.
 * Opening a slice and the editor's slice list both read manifests through it, so they never disagree.
 */
export function parseManifest(bytes: Buffer, manifestPath: string, warnings?: string[]): SliceManifest {
  let raw: unknown;
  // A UTF-8 byte-order mark (Windows editors and PowerShell write one) is not part of the JSON.
  const text = fileText(bytes, manifestPath).replace(/^\uFEFF/, '');
  try {
    raw = JSON.parse(text);
  } catch (e) {
    // V8 says "at position 47": a person editing the file needs its line and column.
    const { reason, line, column } = jsonSyntaxError(text, e);
    throw new UserError(`malformed JSON: ${reason}`, { file: manifestPath, line, column }, 'slice.json must be one JSON object: fix the JSON at that line and column (see docs/slice-format.md), or re-freeze the slice.');
  }
  const manifest = validateManifest(raw, manifestPath);
  warnings?.push(...manifestWarnings(raw));
  const repeats = warnings ? repeatedKeys(text, Infinity) : [];
  for (const r of repeats.slice(0, MAX_REPEAT_WARNINGS)) warnings?.push(`slice.json:${r.line}: ${JSON.stringify(shownName(r.field))} is written twice in one object; JSON keeps the last one, so the first is ignored: remove one of them`);
  if (repeats.length > MAX_REPEAT_WARNINGS) warnings?.push(`slice.json: and ${repeats.length - MAX_REPEAT_WARNINGS} more keys written twice`);
  if (!manifest.files.some((f) => f.path === 'events.jsonl')) throw new UserError('manifest lists no events.jsonl', { file: manifestPath, field: 'files' }, 'Add events.jsonl to "files" or re-freeze the slice.');
  return manifest;
}

/**
 * events.jsonl changed (size or modification time) while the slice was open: what was verified or
 * indexed at open no longer describes the bytes read now, so reads stop rather than replay other data.
 */
export class ChangedWhileOpenError extends IntegrityError {
  override readonly hint = 'Open it again — run the command again, or restart the debug session — and it is checked again as it opens; if the file is being written (a freeze in place), wait until it is done.';
  constructor(path: string, sliceDir: string, why: string) {
    super([path], sliceDir, { [path]: why });
    this.message = `${path} changed since it was opened: ${why}; reopen the slice`;
  }
}

/**
 * events.jsonl as the slice was opened: its size, modification and status-change times, and which
 * file it is (device and inode). The status-change time (ctime) is the one a tool cannot set back:
 * `touch -r`, `cp -p`, `rsync -t` and `tar x` restore a modification time after writing.
 */
interface FileState {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  dev: number;
  ino: number;
}

/**
 * Whether two states are of the same file. A system that reports no inode (0: some Windows file
 * systems) cannot tell, and the file counts as the same: size and modification time still stand guard.
 */
function sameFile(a: FileState, b: FileState): boolean {
  return a.ino === 0 || b.ino === 0 || (a.ino === b.ino && a.dev === b.dev);
}

/** Why events.jsonl counts as changed when another file took its place (a rename, a symbolic link). */
const REPLACED_WHY = 'another file is at its path now (it was replaced)';

/** Block size for reading events.jsonl when the manifest has no chunk hashes. */
const DEFAULT_BLOCK = 8 * 1024 * 1024;

export interface OpenOptions {
  /** Replay even when files do not match the manifest (reported, not silent). */
  force?: boolean;
  /**
   * With force, use the index cached for the frozen file all the same (its chunks checked as they
   * are read), instead of reading events.jsonl whole at open (see openWith): for callers that
   * describe a slice (`recreplay info`, the editor's views), which must not read a large file whole,
   * and for the editor's forced debug launch, whose warm-up streamed the file just before (so a
   * modified one has an index of its own, which open takes first).
   */
  trustCachedIndex?: boolean;
  /** Where the offset index is cached (default: cacheDir()). */
  cacheDir?: string;
  /**
   * A replay of the whole slice follows: start the reader thread now, so it reads, checks and
   * parses the first block while items and users are parsed here. events(1, eventCount) takes it
   * over; any other read stops it.
   */
  readAhead?: boolean;
}

export interface VerifyReport {
  ok: boolean;
  /** Files whose bytes differ from the manifest, or items.jsonl / users.jsonl in the folder but not listed in it (UNLISTED). */
  modified: string[];
  /** Files listed in the manifest but absent (or not regular files inside the folder). */
  missing: string[];
  /** Why each file is listed above: "its size differs", "missing", "a link to outside the slice folder", … */
  reasons: Record<string, string>;
  /** What slice.json holds that is ignored (see Slice.warnings), when there is any; not a reason to fail. */
  warnings?: string[];
}

/** An opened slice: manifest, catalogue, users, and event access through the offset index. */
export class Slice {
  readonly eventsPath: string;
  /** Chunks checked and trusted since the file's status last changed (checkUnchanged clears it): reads skip their check. */
  private verifiedChunks: Uint8Array;
  /** Chunks ever found to match the manifest (eventsVerified): a moved ctime does not undo a check made. */
  private checkedChunks: Uint8Array;
  /** Files found modified so far (with force, replay goes on and reports them). */
  readonly modified = new Set<string>();
  /** What the slice holds that opens but is worth saying (fields of slice.json the format does not know, see manifestWarnings). */
  readonly warnings: string[] = [];
  /**
   * A sequential read starts its reader thread once it has read this many blocks (tests lower
   * it; a run to the end uses 1). Three blocks are ~7,000 bench events: far more than a seek
   * re-executes (at most one checkpoint interval), so seeks never start one.
   */
  static prefetchAfterBlocks = 3;
  /** Reader threads started so far, in this process (diagnostics). */
  static prefetchesStarted = 0;
  private readonly prefetchers = new Set<BlockPrefetcher>();
  private host: CursorHost | undefined;
  /** The reader thread Slice.open started (readAhead), until a read takes it over or another read stops it. */
  private early: { prefetcher: BlockPrefetcher; endByte: number } | undefined;

  private constructor(
    readonly dir: string,
    readonly manifest: SliceManifest,
    readonly manifestSha256: string,
    readonly items: ItemRecord[],
    /** Catalogue items by id, with their slots: the first record of an id (a repeated id keeps its first record). */
    readonly itemById: ItemCatalog,
    /** Users by id: the first record of an id (a repeated id keeps its first record, as for items). */
    readonly userById: UserTable,
    readonly index: OffsetIndex,
    private readonly eventsEntry: FileEntry,
    private readonly force: boolean,
    /** events.jsonl as it was when opened: every block read is checked against it (checkUnchanged; its ctime moves on, see there). */
    private opened: FileState,
    /** Where the index came from (cache key and folder), to drop it when it proves stale. */
    private readonly indexCache: { key: string; dir: string },
    /** events.jsonl, opened as the slice was checked: every read goes through it (until close()). */
    private fd: number | undefined,
  ) {
    this.eventsPath = join(dir, eventsEntry.path);
    this.verifiedChunks = new Uint8Array(eventsEntry.chunks?.sha256.length ?? 0);
    this.checkedChunks = new Uint8Array(this.verifiedChunks.length);
  }

  /** Reads and validates `DIR/slice.json` (the manifest and the sha256 of its bytes). */
  private static readManifest(dirArg: string): { dir: string; dirId: string; manifest: SliceManifest; manifestSha: string; eventsEntry: FileEntry; warnings: string[] } {
    const dir = resolve(dirArg);
    const manifestPath = join(dir, 'slice.json');
    let manifestBytes: Buffer;
    let dirId = '';
    try {
      const st = statOrNothing(dir);
      const kind = st?.isDirectory() ? fileKind(dir, manifestPath) : 'missing';
      if (kind !== 'file') {
        // "No slice.json" alone, for a path that is not there at all, sends the user looking for the file.
        const why = !st ? ': the folder does not exist' : !st.isDirectory() ? `: ${st.isFile() ? 'it is a file' : 'it is not a folder'}` : '';
        const what = kind === 'missing' ? `no slice.json in ${dir}${why}` : `${manifestPath} is ${kind}, not a file`;
        const aside = kind === 'missing' && (!st || st.isDirectory()) ? movedAside(dir) : undefined;
        const said =
          aside === undefined
            ? what
            : aside.state === 'live'
              ? `${what}; a freeze to this path (process ${String(aside.pid)}) is replacing the slice, which is at ${aside.path} meanwhile`
              : aside.state === 'dead'
                ? `${what}; a freeze to this path was interrupted after it moved the slice that was here to ${aside.path}`
                : `${what}; the slice that was here is at ${aside.path}, moved aside by a freeze to this path (still running, or interrupted)`;
        const hint =
          aside === undefined
            ? 'Point at a NAME.slice folder (it holds slice.json and events.jsonl).'
            : aside.state === 'live'
              ? 'Run the command again when that freeze has ended.'
              : aside.state === 'dead'
                ? `Freeze to this path again (the interrupted freeze's leftovers are tidied then, and the old slice put back if nothing replaced it), or move ${aside.path} back to ${dir}.`
                : `Run the command again in a moment; if the path stays empty, freeze to it again or move ${aside.path} back to ${dir}.`;
        throw new UserError(said, { file: dirArg }, hint, 'E_NOT_A_SLICE');
      }
      dirId = folderId(st as NonNullable<typeof st>);
      // As the editor and the writer hold it (the CLI opened a 17 MiB one that the Slices view refused).
      const size = statOrNothing(manifestPath)?.size ?? 0;
      if (size > MAX_MANIFEST_BYTES) {
        throw new UserError(`slice.json is ${(size / 2 ** 20).toFixed(1)} MiB, more than a manifest holds (${MAX_MANIFEST_BYTES / 2 ** 20} MiB at most)`, { file: manifestPath }, 'Re-freeze the slice (a larger chunk size gives events.jsonl fewer chunk hashes), or shorten its description and faults.', 'E_TOO_LARGE');
      }
      try {
        manifestBytes = readWhole(manifestPath, dir);
      } catch (e) {
        // Gone as it was read, or found outside the folder because the folder moved meanwhile: the
        // path holds another folder now (a freeze to it), not a damaged or hostile slice.
        const now = statOrNothing(dir);
        if (vanishedError(e) || (e instanceof UserError && e.code === 'E_OUTSIDE' && (now === undefined || folderId(now) !== dirId))) throw replacedError(dir);
        throw e;
      }
    } catch (e) {
      throw cannotRead(e, manifestPath);
    }
    const warnings: string[] = [];
    const manifest = parseManifest(manifestBytes, manifestPath, warnings);
    const eventsEntry = manifest.files.find((f) => f.path === 'events.jsonl') as FileEntry;
    return { dir, dirId, manifest, manifestSha: sha256(manifestBytes), eventsEntry, warnings };
  }

  /**
   * Throws when the slice folder was replaced since its manifest was read (another freeze wrote a
   * slice to this path meanwhile): what was found missing or modified is then the mixture of two
   * slices, not a damaged one (verify said "modified" of an intact slice, and a run told the user to
   * re-freeze it, or to force the old manifest over the new files).
   */
  private static checkNotReplaced(dir: string, dirId: string, manifestSha: string, vanished = false): void {
    const st = statOrNothing(dir);
    // (A file gone as it was read went with its folder: the path holds another now, whatever it is.)
    let same = !vanished && st !== undefined && folderId(st) === dirId;
    if (same) {
      try {
        same = sha256(readWhole(join(dir, 'slice.json'), dir)) === manifestSha;
      } catch {
        same = false;
      }
    }
    if (!same) throw replacedError(dir);
  }

  /**
   * Full integrity check of a slice folder without opening it: every file the manifest lists is
   * hashed whole. Missing files (or folders where files should be) are reported, not thrown, so
   * `recreplay verify` can say everything that differs.
   */
  static verifyFolder(dirArg: string): VerifyReport {
    const { dir, dirId, manifest, manifestSha, warnings } = Slice.readManifest(dirArg);
    let report: VerifyReport;
    try {
      report = checkFiles(dir, manifest);
    } catch (e) {
      // A file that went away as it was read: the folder replaced meanwhile is what to say.
      Slice.checkNotReplaced(dir, dirId, manifestSha, vanishedError(e));
      throw e;
    }
    if (!report.ok) Slice.checkNotReplaced(dir, dirId, manifestSha);
    return warnings.length ? { ...report, warnings } : report;
  }

  /**
   * What can be said of a slice that does not open because files are missing: its manifest, and the
   * files it lists that are not there (or not files). Reads no data file.
   */
  static describeMissing(dirArg: string): { dir: string; manifest: SliceManifest; manifestSha256: string; warnings: string[]; missing: string[] } {
    const { dir, manifest, manifestSha, warnings } = Slice.readManifest(dirArg);
    const missing = manifest.files.filter((f) => fileKind(dir, join(dir, f.path)) !== 'file').map((f) => f.path);
    return { dir, manifest, manifestSha256: manifestSha, warnings, missing };
  }

  /** Opens `NAME.slice/`: validates the manifest, checks small files, loads or builds the offset index. */
  static open(dirArg: string, opts: OpenOptions = {}): Slice {
    return runSteps(Slice.openSteps(dirArg, opts));
  }

  /**
   * Slice.open a slice of work per pause (see steps.ts): hashing and parsing a large catalogue or
   * user file takes seconds, which the editor's extension host must not spend frozen. Cancelled
   * (the runner says so), it rejects with StepsCancelled and keeps no file or thread open.
   */
  static openAsync(dirArg: string, opts: OpenOptions = {}, runner?: StepRunner): Promise<Slice> {
    return runStepsAsync(Slice.openSteps(dirArg, opts), runner);
  }

  /**
   * The slice's catalogue alone (items.jsonl, parsed as Slice.open parses it, a slice of work per
   * pause) and its manifest's sha256, for a reader that needs the items and nothing else: the
   * trace timeline's coverage and Gini. events.jsonl and users.jsonl are not read (opening the
   * slice read and indexed a 3.2 GB events.jsonl first). Like a forced open, a catalogue that no
   * longer matches its manifest is read as it is.
   */
  static catalogAsync(dirArg: string, runner?: StepRunner): Promise<{ manifestSha256: string; itemById: ItemCatalog }> {
    return runStepsAsync(Slice.catalogSteps(dirArg), runner);
  }

  private static *catalogSteps(dirArg: string): Steps<{ manifestSha256: string; itemById: ItemCatalog }> {
    const { dir, manifest, manifestSha } = Slice.readManifest(dirArg);
    const entry = manifest.files.find((f) => f.path === 'items.jsonl');
    let items: ItemRecord[] = [];
    if (entry) {
      const p = join(dir, entry.path);
      const kind = fileKind(dir, p);
      if (kind !== 'file') throw new UserError(`items.jsonl, listed in the manifest, is ${kind === 'missing' ? 'missing' : kind}`, { file: p }, 'Restore it from the original slice or re-freeze it.', 'E_MISSING');
      const b = yield* readWholeSteps(p, () => {}, undefined, dir);
      items = yield* parseRecordsSteps<ItemRecord>(b, p, 'item', manifest.schema.item);
    }
    return { manifestSha256: manifestSha, itemById: yield* ItemCatalog.build(items) };
  }

  private static *openSteps(dirArg: string, opts: OpenOptions): Steps<Slice> {
    const events: { fd?: number } = {};
    try {
      return yield* Slice.openWith(dirArg, opts, events);
    } catch (e) {
      // A slice that does not open keeps no file open.
      if (events.fd !== undefined) closeSync(events.fd);
      throw e;
    }
  }

  /** Slice.open, with events.jsonl's descriptor put in `events` as soon as it is opened (closed by open on an error). */
  private static *openWith(dirArg: string, opts: OpenOptions, events: { fd?: number }): Steps<Slice> {
    const { dir, dirId, manifest, manifestSha, eventsEntry, warnings } = Slice.readManifest(dirArg);
    const force = opts.force ?? false;
    const modified: string[] = [];
    const missing: string[] = [];
    const reasons: Record<string, string> = {};
    // Small files are checked whole now (items and users kept, to be parsed without a second read);
    // events.jsonl is checked chunk by chunk as it is read.
    const bytes = new Map<string, Buffer>();
    let eventsState: FileState | undefined;
    const dirCache = opts.cacheDir ?? cacheDir();
    // Chunk hashes worked out for an events.jsonl whose manifest has none (kept in the cache once
    // the file matched its whole-file hash), and whether it was just checked whole.
    let derived: ChunkHashes | undefined;
    let checkedWhole = false;
    // Its line offsets, collected on that whole read: the index, when none is cached (no second read).
    let wholeOffsets: OffsetCollector | undefined;
    let wholeWhy: FileMismatch | undefined;
    try {
      for (const f of manifest.files) {
        const p = join(dir, f.path);
        const kind = fileKind(dir, p);
        if (kind !== 'file') {
          missing.push(kind === 'missing' ? f.path : `${f.path} (${kind === 'a folder' ? 'a folder, not a file' : kind})`);
          continue;
        }
        if (f === eventsEntry) {
          // Opened now, and every check and read from here on goes through this descriptor: a file put
          // at the path later (renamed over it, a symbolic link) is never read as the one checked.
          // Its size is checked now; its bytes chunk by chunk as they are read (or whole, below, when
          // the index is built), or now, whole, when the manifest has no chunk hashes. A file the user
          // may not read is said now all the same (openForReading), not at the first event.
          events.fd = openForReading(p, dir);
          const st = fstatSync(events.fd);
          eventsState = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, dev: st.dev, ino: st.ino };
          let why: FileMismatch | undefined = st.size !== f.bytes ? 'size' : undefined;
          if (!why && !f.chunks) {
            // No chunk hashes: the ones worked out at an earlier open, or the file checked whole now
            // (a block per step, its chunk hashes worked out on the way and kept for the next open).
            derived = loadDerivedChunks(manifestSha, f.bytes, dirCache);
            if (!derived) {
              const collector = new OffsetCollector();
              const chunks = new ChunkHasher();
              why = yield* checkFileSteps(events.fd, f, (buf, off) => {
                collector.feed(buf, off);
                chunks.update(buf);
              });
              // The offsets are those of the file as read, matched or not (a forced open indexes a modified file by them).
              wholeOffsets = collector;
              wholeWhy = why;
              if (!why) {
                derived = chunks.finish();
                checkedWhole = true;
                storeDerivedChunks(manifestSha, derived, dirCache);
              }
            }
          }
          if (why) {
            modified.push(f.path);
            reasons[f.path] = MISMATCH[why];
          }
          continue;
        }
        const checker = new FileChecker(f);
        const b = yield* readWholeSteps(p, (chunk) => checker.update(chunk), undefined, dir);
        if (f.path === 'items.jsonl' || f.path === 'users.jsonl') bytes.set(f.path, b);
        const why = checker.finish();
        if (why) {
          modified.push(f.path);
          reasons[f.path] = MISMATCH[why];
        }
      }
    } catch (e) {
      // A file that went away as it was read (a raw ENOENT): the folder replaced meanwhile is what to say.
      Slice.checkNotReplaced(dir, dirId, manifestSha, vanishedError(e));
      throw e;
    }
    // Always: a folder replaced before events.jsonl was opened, by one whose events.jsonl has the same
    // size, would be found only by a chunk's hash later, and said as modified.
    Slice.checkNotReplaced(dir, dirId, manifestSha);
    if (missing.length) {
      throw new UserError(`files listed in the manifest are missing or not files: ${missing.map((p) => shownName(p)).join(', ')}`, { file: dir }, 'Restore them from the original slice or re-freeze it.', 'E_MISSING');
    }
    const [unlisted] = unlistedFiles(dir, manifest);
    if (unlisted) {
      throw new UserError(`${unlisted} is in the slice folder but not in the manifest's "files", so it is not hashed and would not be read`, { file: join(dir, 'slice.json'), field: 'files' }, `Re-freeze the slice, or remove ${unlisted} if the slice has none.`, 'E_UNLISTED');
    }
    if (modified.length && !force) throw new IntegrityError(modified, dir, reasons);
    const eventsPath = join(dir, eventsEntry.path);
    const fd = events.fd;
    // (events.jsonl is listed, and was found a file: it is open.)
    if (fd === undefined || eventsState === undefined) throw new Error(`${eventsPath} was not opened`);
    const opened: FileState = eventsState;
    // The entry the slice checks events.jsonl by: with chunk hashes worked out for it when its manifest has none.
    const checkedBy: FileEntry = !eventsEntry.chunks && derived ? { ...eventsEntry, chunks: derived } : eventsEntry;
    const expected = eventsEntry.records ?? -1;
    // The index cached for the manifest describes the frozen file: never for one of another size.
    // Taken as it was opened, before the index is built or the file verified: a change after this is seen at the next read.
    const eventsBytes = opened.size;
    let indexKey = manifestSha;
    let verifiedAll = checkedWhole;
    // A file found modified before (and not touched since) has its own cached index: looked for
    // first, so once a file is known to differ it is never read through the frozen file's offsets.
    const modifiedKey = modifiedIndexKey(manifestSha, eventsPath, opened);
    let index = modifiedKey ? loadCachedIndex(modifiedKey, -1, eventsBytes, dirCache) : undefined;
    if (index) {
      indexKey = modifiedKey as string;
      if (!modified.includes(eventsEntry.path)) modified.push(eventsEntry.path);
      // Its size matched (else it is known from that): its bytes were found to differ when this index was kept.
      reasons[eventsEntry.path] ??= MISMATCH.sha256;
      if (!force) throw new IntegrityError(modified, dir, reasons);
    } else if (!modified.includes(eventsEntry.path) && !(force && !opts.trustCachedIndex)) {
      // With force the frozen file's index is not taken on trust: a modified file of the same size
      // (a digit changed) would be read through the intact file's offsets and stop where a line
      // moved — or not, on a machine that had never opened the intact slice. It is read whole
      // instead (indexed and checked as it is read), once: a modified file's index is kept (above).
      index = loadCachedIndex(manifestSha, expected, eventsBytes, dirCache);
    }
    if (!index) {
      // Read and checked whole at open already (a manifest without chunk hashes): its offsets were collected then.
      const collector = wholeOffsets ?? new OffsetCollector();
      // A step per block: an open run through steps (openAsync: the debug adapter) answers requests
      // and hears a cancel meanwhile; a million events took seconds with the adapter deaf.
      const why = wholeOffsets ? wholeWhy : yield* checkFileSteps(fd, eventsEntry, (buf, off) => collector.feed(buf, off));
      index = collector.finish();
      // A file that changed while it was indexed (cut short, appended to, rewritten in place) has
      // offsets of no state of it, force or not: neither kept nor used. (`info` counted 74,419 events
      // of a 100,000-event file cut to 29,585 lines meanwhile, and kept that index.)
      const after = fstatSync(fd);
      if (after.size !== opened.size || after.mtimeMs !== opened.mtimeMs) {
        const how = after.size !== opened.size ? `its size went from ${opened.size} to ${after.size} bytes` : 'it was written to (its modification time changed)';
        throw new ChangedWhileOpenError(eventsEntry.path, dir, `${how} while it was being indexed`);
      }
      verifiedAll = why === undefined;
      // Kept for the next open (with force, or to refuse at once without reading it all again).
      if (!verifiedAll && modifiedKey) {
        storeIndex(modifiedKey, index, dirCache);
        indexKey = modifiedKey;
      }
      if (why && !modified.includes(eventsEntry.path)) {
        modified.push(eventsEntry.path);
        reasons[eventsEntry.path] = MISMATCH[why];
      }
      // A count that is not the manifest's makes the file not the frozen one, as `verify` says (exit 4; --force replays it).
      const countWhy = recordsWhy(eventsEntry, index.count);
      if (countWhy && !modified.includes(eventsEntry.path)) {
        modified.push(eventsEntry.path);
        reasons[eventsEntry.path] = countWhy;
      }
      if (modified.length && !force) throw new IntegrityError(modified, dir, reasons);
      if (verifiedAll) storeIndex(manifestSha, index, dirCache);
    }
    if (index.count === 0) throw new UserError('the slice has no events', { file: eventsPath }, 'Freeze a window that holds at least one request.', 'E_EMPTY');
    let early: BlockPrefetcher | undefined;
    let endByte = 0;
    if (opts.readAhead) {
      const blockSize = checkedBy.chunks?.size ?? DEFAULT_BLOCK;
      endByte = Math.min(index.offsets[index.count] ?? 0, eventsBytes);
      if (endByte > 2 * blockSize && blockSize <= MAX_PREFETCH_BLOCK) {
        early = startReader(eventsPath, blockSize, 0, endByte, (c) => (verifiedAll ? null : (checkedBy.chunks?.sha256[c] ?? null)), opened);
      }
    }
    let items: ItemRecord[];
    let itemById: ItemCatalog;
    let users: UserTable;
    try {
      const b = bytes.get('items.jsonl');
      items = b ? yield* parseRecordsSteps<ItemRecord>(b, join(dir, 'items.jsonl'), 'item', manifest.schema.item) : [];
      itemById = yield* ItemCatalog.build(items);
      users = yield* readUsers(dir, manifest, bytes.get('users.jsonl'), modified, dirCache);
      // As for events.jsonl: a file that holds other records than the manifest counts is not the frozen one.
      for (const [name, found] of [['items.jsonl', items.length], ['users.jsonl', users.count]] as const) {
        const entry = manifest.files.find((f) => f.path === name);
        const why = entry ? recordsWhy(entry, found) : undefined;
        if (!why) continue;
        modified.push(name);
        reasons[name] = why;
        if (!force) throw new IntegrityError([name], dir, { [name]: why });
      }
    } catch (e) {
      early?.close();
      throw e;
    }
    const slice = new Slice(dir, manifest, manifestSha, items, itemById, users, index, checkedBy, force, opened, { key: indexKey, dir: dirCache }, fd);
    if (early) slice.adoptEarly(early, endByte);
    slice.warnings.push(...warnings);
    for (const m of modified) slice.modified.add(m);
    if (verifiedAll) {
      slice.verifiedChunks.fill(1);
      slice.checkedChunks.fill(1);
    }
    return slice;
  }

  /** Every user record, in the order of users.jsonl (all parsed: for views that list or summarise them). */
  get users(): UserRecord[] {
    return this.userById.all();
  }

  /** Number of user records (without parsing them). */
  get userCount(): number {
    return this.userById.count;
  }

  get eventCount(): number {
    return this.index.count;
  }

  /** Whether every byte of events.jsonl has been checked against the manifest (whole, or every chunk). */
  get eventsVerified(): boolean {
    return this.eventsEntry.chunks ? this.checkedChunks.every((v) => v === 1) : !this.modified.has(this.eventsEntry.path);
  }

  private adoptEarly(p: BlockPrefetcher, endByte: number): void {
    this.early = { prefetcher: p, endByte };
    this.prefetchers.add(p);
    Slice.prefetchesStarted++;
  }

  /** The early reader thread when it reads exactly [startByte, endByte); otherwise it is stopped. */
  private takeEarly(startByte: number, endByte: number): BlockPrefetcher | undefined {
    const e = this.early;
    if (!e) return undefined;
    this.early = undefined;
    if (startByte === 0 && endByte === e.endByte) return e.prefetcher;
    e.prefetcher.close();
    this.prefetchers.delete(e.prefetcher);
    return undefined;
  }

  /** The descriptor opened with the slice; after close(), the path again (checkUnchanged then tells whether it is the same file). */
  private handle(): number {
    this.fd ??= openForReading(this.eventsPath);
    return this.fd;
  }

  /**
   * After each block read (so a change that touched the bytes just read is seen): whether
   * events.jsonl is still the file it was when the slice was opened, with the same size and
   * modification time. One fstat per block. A change stops the read (ChangedWhileOpenError); with
   * force it is recorded as a modification, and the line-in-place checks apply from then on.
   *
   * Its status-change time (ctime) moving alone is no proof of a change — a rename or a new link
   * moves it too — but a write whose modification time was set back after it (touch -r, cp -p,
   * rsync -t) looks like that, and went unseen on a file checked whole at open. So then every chunk
   * counts as unchecked again and is hashed as it is read: true is returned, and the bytes just
   * read must be checked (or read again, checked) before they are used. Without chunk hashes there
   * is nothing to check them by: that is a change.
   */
  private checkUnchanged(st: FileState = fstatSync(this.handle())): boolean {
    const o = this.opened;
    if (st.size === o.size && st.mtimeMs === o.mtimeMs && sameFile(st, o)) {
      if (st.ctimeMs === o.ctimeMs) return false;
      if (this.eventsEntry.chunks) {
        this.opened = { ...o, ctimeMs: st.ctimeMs };
        this.verifiedChunks.fill(0);
        return true;
      }
    }
    this.modified.add(this.eventsEntry.path);
    if (!this.force) throw this.changedError(st);
    return false;
  }

  /**
   * The reader thread found another file at the path than the one this slice opened: a change, as
   * checkUnchanged says (an error unless forced; with force it is recorded, and the read goes on
   * here, through the slice's own descriptor).
   */
  private replacedAtPath(): void {
    this.modified.add(this.eventsEntry.path);
    if (!this.force) throw new ChangedWhileOpenError(this.eventsEntry.path, this.dir, REPLACED_WHY);
  }

  private changedError(st?: FileState): ChangedWhileOpenError {
    const o = this.opened;
    st ??= fstatSync(this.handle());
    const why = !sameFile(st, o)
      ? REPLACED_WHY
      : st.size !== o.size
        ? `its size went from ${o.size} to ${st.size} bytes`
        : st.mtimeMs !== o.mtimeMs
          ? 'it was written to (its modification time changed)'
          : st.ctimeMs !== o.ctimeMs
            ? 'it was written to (its status-change time moved, and the manifest has no chunk hashes to check it by)'
            : 'it holds fewer bytes than when it was opened';
    return new ChangedWhileOpenError(this.eventsEntry.path, this.dir, why);
  }

  /** Closes the events file and stops any reader thread still reading ahead. */
  close(): void {
    for (const p of this.prefetchers) p.close();
    this.prefetchers.clear();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /**
   * Checks the chunks that cover [start, end) against the manifest the first time they are read;
   * false when the file's status changed meanwhile (checkUnchanged), so a chunk checked before it
   * counts as unchecked again: the caller starts over.
   */
  private ensureVerified(start: number, end: number): boolean {
    const chunks = this.eventsEntry.chunks;
    if (!chunks) return true;
    const first = Math.floor(start / chunks.size);
    const last = Math.floor(Math.max(start, end - 1) / chunks.size);
    let fresh = true;
    for (let c = first; c <= last; c++) {
      if (this.verifiedChunks[c]) continue;
      const buf = Buffer.allocUnsafe(chunks.size);
      const n = readFull(this.handle(), buf, c * chunks.size);
      if (this.checkUnchanged()) fresh = false;
      this.checkChunk(c, buf.subarray(0, n));
    }
    return fresh;
  }

  private checkChunk(c: number, data: Buffer): void {
    // The manifest has one hash per chunk (validateManifest); a chunk past them is not the frozen file.
    const expected = this.eventsEntry.chunks?.sha256[c];
    this.chunkChecked(c, expected !== undefined && createHash('sha256').update(data).digest('hex') === expected);
  }

  /** Records the result of checking chunk c; a mismatch stops the read unless forced. */
  private chunkChecked(c: number, ok: boolean): void {
    if (!ok) {
      this.modified.add(this.eventsEntry.path);
      // Against chunk hashes worked out from the intact file (a manifest without any): its sha256 is what differs.
      const why = this.manifest.files.some((f) => f.path === this.eventsEntry.path && f.chunks) ? MISMATCH['chunk sha256'] : MISMATCH.sha256;
      if (!this.force) throw new IntegrityError([this.eventsEntry.path], this.dir, { [this.eventsEntry.path]: why });
    }
    this.verifiedChunks[c] = 1;
    this.checkedChunks[c] = 1;
  }

  /**
   * Checks, without blocking the thread for more than one chunk's hash at a time, the chunks that
   * hold these events (1-based), so that reading them afterwards finds them checked: for a host
   * that must stay responsive (the editor labelling pages of a million events with their times).
   * A mismatch is handled as in a synchronous read (recorded; an error unless forced).
   */
  async verifyEventsAsync(events: Iterable<number>): Promise<void> {
    const chunks = this.eventsEntry.chunks;
    if (!chunks) return;
    const wanted = new Set<number>();
    for (const n of events) {
      if (!Number.isInteger(n) || n < 1 || n > this.eventCount) continue;
      const [start, end] = this.index.range(n);
      // With the newlines on either side, as readEventText checks them.
      const lo = Math.max(0, start - 1);
      const hi = Math.min(end + 1, this.opened.size);
      for (let c = Math.floor(lo / chunks.size); c <= Math.floor(Math.max(lo, hi - 1) / chunks.size); c++) if (!this.verifiedChunks[c]) wanted.add(c);
    }
    if (wanted.size === 0) return;
    const fh = await open(this.eventsPath, 'r');
    try {
      // The path, opened anew, must lead to the file this slice opened: another one there is a change
      // (as checkUnchanged says), never chunks to hash in its stead; with force, the reads check them.
      if (!sameFile(await fh.stat(), this.opened)) return this.replacedAtPath();
      const buf = Buffer.allocUnsafe(chunks.size);
      for (const c of [...wanted].sort((a, b) => a - b)) {
        if (this.verifiedChunks[c]) continue;
        let n = 0;
        while (n < chunks.size) {
          const { bytesRead } = await fh.read(buf, n, chunks.size - n, c * chunks.size + n);
          if (bytesRead === 0) break;
          n += bytesRead;
        }
        this.checkUnchanged(await fh.stat());
        this.checkChunk(c, buf.subarray(0, n));
      }
    } finally {
      await fh.close();
    }
  }

  /** The raw text of event n (1-based) — what the editor shows on line n. */
  readEventText(n: number): string {
    const text = this.readEventTextOnce(n) ?? this.readEventTextOnce(n);
    // A status that changes under every read (a file chmod-ed in a loop, a backup tool adding links):
    // the chunks that hold the line are read whole, and the very bytes checked are the ones used.
    return text ?? this.readEventTextChecked(n);
  }

  /** readEventText from the chunks that hold the line, read whole and checked against the manifest (see readEventText). */
  private readEventTextChecked(n: number): string {
    const chunks = this.eventsEntry.chunks as { size: number; sha256: string[] };
    const [start, end] = this.index.range(n);
    const lo = start > 0 ? start - 1 : 0;
    const hi = Math.min(end + 1, this.opened.size);
    const first = Math.floor(lo / chunks.size);
    const last = Math.floor(Math.max(lo, Math.max(hi, end) - 1) / chunks.size);
    const buf = Buffer.allocUnsafe((last - first + 1) * chunks.size);
    let got = 0;
    for (let c = first; c <= last; c++) {
      const part = buf.subarray((c - first) * chunks.size, (c - first + 1) * chunks.size);
      const k = readFull(this.handle(), part, c * chunks.size);
      this.checkChunk(c, part.subarray(0, k));
      got = (c - first) * chunks.size + k;
    }
    this.checkUnchanged();
    return this.lineIn(n, buf, first * chunks.size, got);
  }

  /**
   * Event n's text in `buf` (`got` bytes of the file from byte `base`, from the newline before it to
   * the one after): a short read (the file shrank under an fd whose fstat looks unchanged) never
   * yields stale memory, and offsets that do not cut a whole line are said as such (offsetsMissed),
   * not as malformed JSON.
   */
  private lineIn(n: number, buf: Buffer, base: number, got: number): string {
    const [start, end] = this.index.range(n);
    const hi = Math.min(end + 1, this.opened.size);
    if (got < hi - base || got < end - base) throw this.changedError();
    const text = buf.subarray(start - base, end - base);
    if ((start > 0 && buf[start - 1 - base] !== 10) || (hi > end && buf[end - base] !== 10) || text.includes(10)) this.offsetsMissed(n);
    return lineText(text, 0, text.length, this.eventsPath, n);
  }

  /** readEventText, or undefined when the file's status changed during the read (checkUnchanged): its chunks are then checked again by the next try. */
  private readEventTextOnce(n: number): string | undefined {
    const [start, end] = this.index.range(n);
    // A line too long to become a string is refused as a replay refuses it, before any of it is read.
    if (end - start > EventCursor.maxLineBytes) throw lineTooLong(this.eventsPath, n, end - start, EventCursor.maxLineBytes);
    // The newline before the line and the one after it come in the same read: an offset that does
    // not fall on a line boundary is caught here, not reported as malformed JSON. Those two bytes are
    // checked with the line: where they lie in a chunk of their own, a changed byte there was taken
    // for a stale index (and the right one thrown away) instead of a modified file.
    const lo = start > 0 ? start - 1 : 0;
    const hi = Math.min(end + 1, this.opened.size);
    if (!this.ensureVerified(lo, Math.max(hi, end))) return undefined;
    const buf = Buffer.allocUnsafe(Math.max(hi - lo, end - lo));
    const got = readFull(this.handle(), buf, lo);
    if (this.checkUnchanged()) return undefined;
    return this.lineIn(n, buf, lo, got);
  }

  /**
   * Event n's offsets do not cut a whole line. In a file changed with force, its lines moved; in
   * an intact file, the index is wrong: the cached one is dropped so the next open rebuilds it.
   */
  private offsetsMissed(n: number): never {
    // The frozen file's index read over a changed file, or a file changed since it was opened: its
    // lines moved. An index of the changed file itself that misses while the file is as it was
    // opened is stale (kept from an earlier state of it): it goes, as below.
    if (this.modified.has(this.eventsEntry.path) && (this.indexCache.key === this.manifestSha256 || this.changedSinceOpen())) throw this.linesMoved(n);
    dropIndex(this.indexCache.key, this.indexCache.dir);
    throw new UserError(
      'the cached offset index of events.jsonl does not match the file (its line offsets are not where the lines of events.jsonl begin and end): it was stale and has been removed',
      { file: this.eventsPath, line: n },
      'Run again (reopen the slice): the index is rebuilt from events.jsonl as it opens.',
      'E_STALE_INDEX',
    );
  }

  /** Whether events.jsonl is no longer as it was opened (size, modification or status-change time, identity). */
  private changedSinceOpen(): boolean {
    const st = fstatSync(this.handle());
    const o = this.opened;
    return st.size !== o.size || st.mtimeMs !== o.mtimeMs || st.ctimeMs !== o.ctimeMs || !sameFile(st, o);
  }

  private linesMoved(n: number): UserError {
    return new UserError(
      'events.jsonl was changed since the slice was frozen and its lines moved: this event cannot be found by its offset',
      { file: this.eventsPath, line: n },
      'Restore events.jsonl or re-freeze the slice; --force replays a changed file only where its lines stayed in place.',
    );
  }

  /**
   * Before the cursor uses a block read at `pos`: the newlines in it that bound the lines being read
   * (those in [startByte - 1, endByte): the one before the first line, and the end of every line)
   * must be exactly where the index puts line starts, else the cursor's event N is not
   * readEvent(N) — and a read would go on with the wrong events, or end after fewer, without a word.
   * That catches a cached index that passed loadCachedIndex's checks but is wrong (stale, or
   * written by hand: offsets shifted, or fewer lines than the file holds), dropped as readEvent
   * drops it, and, with force, a changed file whose lines moved. Per block: one indexOf per line
   * (no allocation, no system call), and one byte read alone when a read starts at a block's first
   * byte; the read stops at the block that holds the first wrong offset.
   */
  private checkLinesOfBlock(pos: number, data: Buffer, startByte: number, endByte: number): void {
    const offs = this.index.offsets;
    const stop = Math.min(pos + data.length, endByte);
    // From the newline that ends the line before the range, when this block holds it.
    const from = Math.max(pos, startByte - 1);
    // i: the first line start after `from` (offs[0] is 0, so i >= 1).
    let lo = 0;
    let hi = offs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((offs[mid] as number) <= from) lo = mid + 1;
      else hi = mid;
    }
    let i = lo;
    if (startByte > 0 && startByte === pos) {
      // That newline ends the block before: the read's first event (i) starts where a line does, or the
      // index is wrong — once that block is known to be the frozen one (a changed byte there is a
      // modified file, not a stale index).
      // (Once more when the file's status moved meanwhile: the chunk is then checked again.)
      if (!this.ensureVerified(pos - 1, pos)) this.ensureVerified(pos - 1, pos);
      const probe = Buffer.alloc(1);
      if (readFull(this.handle(), probe, pos - 1) !== 1 || probe[0] !== 10) this.offsetsMissed(Math.min(i, this.eventCount));
    }
    for (let nl = data.indexOf(10, from - pos); nl !== -1 && pos + nl < stop; nl = data.indexOf(10, nl + 1), i++) {
      if (offs[i] !== pos + nl + 1) this.offsetsMissed(this.lineAt(i, startByte));
    }
    // A line end the index has in this range, with no newline there.
    if ((offs[i] ?? Infinity) <= stop) this.offsetsMissed(this.lineAt(i, startByte));
  }

  /** The event a wrong offsets[i] misplaces: the one it ends, or the first one read when it is where the read starts. */
  private lineAt(i: number, startByte: number): number {
    return Math.max(1, Math.min(this.index.offsets[i] === startByte ? i + 1 : i, this.eventCount));
  }

  /** Event n (1-based), read alone through the offset index. */
  readEvent(n: number): EventRecord {
    return parseEventLine(this.readEventText(n), this.eventsPath, n, this.manifest.schema.candidate, this.manifest.schema.context);
  }

  /**
   * Events from..to (1-based, inclusive) read sequentially in chunk-aligned blocks, each block
   * verified as it is first read. The fast path for replay: after `Slice.prefetchAfterBlocks`
   * blocks, a long read moves reading and hashing to a worker thread that also parses part of each
   * block (EventCursor, BlockPrefetcher), so short reads (a seek re-executing a few hundred events)
   * never pay for starting it. Call `return()` on a generator you abandon, so its reader thread
   * stops at once.
   */
  *events(from = 1, to = this.eventCount, opts: { readAhead?: 'eager' | 'auto' } = {}): Generator<EventRecord> {
    if (from > to) return;
    const startByte = this.index.offsets[from - 1] ?? 0;
    const endByte = Math.min(this.index.offsets[to] ?? 0, fstatSync(this.handle()).size);
    // (That the read starts where a line does, and that each line ends where the index says, is
    // checked block by block: checkLinesOfBlock.)
    // The reader thread starts as the block before its first one is read here, so it has booted
    // by the time that block is parsed; 'eager' (a run to the end) starts it at the first block.
    const startAfter = Math.max(1, opts.readAhead === 'eager' ? 1 : Slice.prefetchAfterBlocks);
    const cursor = new EventCursor(this.cursorHost, { from, to, startByte, endByte, startAfter }, this.takeEarly(startByte, endByte));
    try {
      for (let e = cursor.next(); e !== undefined; e = cursor.next()) yield e;
    } finally {
      cursor.close();
    }
  }

  private get cursorHost(): CursorHost {
    const chunks = this.eventsEntry.chunks;
    return (this.host ??= {
      eventsPath: this.eventsPath,
      candidateTypes: this.manifest.schema.candidate,
      contextTypes: this.manifest.schema.context,
      blockSize: chunks?.size ?? DEFAULT_BLOCK,
      handle: () => this.handle(),
      file: this.opened,
      replaced: () => this.replacedAtPath(),
      verifyBlock: (c, data) => {
        if (chunks && !this.verifiedChunks[c]) this.checkChunk(c, data);
      },
      chunkChecked: (c, ok) => this.chunkChecked(c, ok),
      unchanged: () => this.checkUnchanged(),
      linesInPlace: (pos, data, startByte, endByte) => this.checkLinesOfBlock(pos, data, startByte, endByte),
      endedEarly: () => this.changedError(),
      pendingHash: (c) => (chunks && !this.verifiedChunks[c] ? (chunks.sha256[c] ?? null) : null),
      started: (p) => {
        this.prefetchers.add(p);
        Slice.prefetchesStarted++;
      },
      stopped: (p) => this.prefetchers.delete(p),
      // One spare: cursors at once (compare mode's two lanes) beyond the first allocate their own.
      takeBlock: () => {
        const b = this.spareBlock;
        this.spareBlock = undefined;
        return b;
      },
      giveBlock: (b) => {
        if (b.length === (chunks?.size ?? DEFAULT_BLOCK)) this.spareBlock = b;
      },
    });
  }

  /** A block buffer a closed cursor gave back (see CursorHost.takeBlock). */
  private spareBlock: Buffer | undefined;

  /** Full integrity check of every file in the manifest (reads everything once). */
  verify(): VerifyReport {
    const report = checkFiles(this.dir, this.manifest);
    if (!report.modified.includes(this.eventsEntry.path) && !report.missing.includes(this.eventsEntry.path)) {
      this.verifiedChunks.fill(1);
      this.checkedChunks.fill(1);
    }
    return report;
  }
}

/**
 * users.jsonl as a table: parsed whole (and checked), or — when this very file (its sha256, intact)
 * was parsed whole and found valid before, against the same feature types, and the index of its ids
 * kept then — read by id through that index, a record parsed as the replay meets its user (see
 * UserTable).
 */
function* readUsers(dir: string, manifest: SliceManifest, b: Buffer | undefined, modified: readonly string[], cache: string): Steps<UserTable> {
  const file = join(dir, 'users.jsonl');
  if (!b) return UserTable.of([], file);
  const types = manifest.schema.user;
  const entry = manifest.files.find((f) => f.path === 'users.jsonl');
  const intact = entry !== undefined && !modified.includes('users.jsonl');
  if (intact) {
    const kept = loadUsersIndex(cache, entry.sha256, types, b, file);
    if (kept) {
      // (A whole-file check, natively: cheap, and a kept index is a hint, never proof.)
      if (!isUtf8(b)) throw notUtf8(b, file);
      return kept;
    }
  }
  const records = yield* parseRecordsSteps<UserRecord>(b, file, 'user', types);
  if (intact) {
    const byId = yield* UserTable.indexSteps(b, records, file, types);
    if (byId) storeUsersIndex(cache, entry.sha256, types, byId);
  }
  return yield* UserTable.ofSteps(records, file);
}

