import { createReadStream, existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../../core/errors';
import { OffsetCollector, loadCachedIndex, loadDerivedChunks, modifiedIndexKey, storeDerivedChunks, storeIndex } from '../../core/slice/offsetIndex';
import { MAX_MANIFEST_BYTES, MISMATCH, Slice, UNLISTED, fileKind, manifestBytesAt, parseManifest, unlistedFiles, type VerifyReport } from '../../core/slice/reader';
import { ChunkHasher, FileChecker, readWhole, sha256 } from '../../core/slice/hashing';
import type { FileEntry, SliceManifest } from '../../core/slice/types';
import { StepsCancelled } from '../../core/steps';

/** What is known about a slice's integrity. */
export type SliceStatus =
  | { kind: 'unchecked' }
  /** Small files match; events.jsonl is checked chunk by chunk as it is read. */
  | { kind: 'ok' }
  /** A full Verify Slice found every file intact. */
  | { kind: 'verified' }
  | { kind: 'modified'; files: string[]; missing: string[] }
  | { kind: 'error'; message: string };

export interface Cancellation {
  readonly isCancellationRequested: boolean;
}

/** One `NAME.slice` folder of the workspace. */
export class SliceEntry {
  private opened: Slice | undefined;
  private opening: Promise<Slice> | undefined;
  /** Set by close(): an open still indexing when the entry was dropped (a refresh) closes what it opened. */
  private closedWhileOpening = false;
  status: SliceStatus;

  constructor(
    readonly dir: string,
    /** The manifest as read at discovery; undefined with `manifestError` when it is broken. */
    readonly manifest: SliceManifest | undefined,
    readonly manifestError: string | undefined,
    /** The error that `manifestError` describes: opening throws it as it is (it names the file already). */
    private readonly manifestFailure?: UserError,
  ) {
    // A manifest that cannot be read is known from the start: not "not checked yet".
    this.status = manifestError !== undefined ? { kind: 'error', message: manifestError } : { kind: 'unchecked' };
  }

  get name(): string {
    return this.manifest?.name ?? basename(this.dir, '.slice');
  }

  /** Event count from the manifest (known before the slice is opened). */
  get eventCount(): number | undefined {
    return this.manifest?.files.find((f) => f.path === 'events.jsonl')?.records;
  }

  get eventsPath(): string {
    return join(this.dir, 'events.jsonl');
  }

  /** The opened slice, if it was opened. */
  get slice(): Slice | undefined {
    return this.opened;
  }

  /**
   * Opens the slice for browsing: the offset index is built off the main thread the first time
   * (streamed, cancellable) so even a million-event slice never blocks the editor; later opens
   * load the cached index. A modified slice still opens (`force`) and says so in `status`.
   */
  open(token?: Cancellation, onProgress?: (fraction: number) => void): Promise<Slice> {
    if (this.opened) return Promise.resolve(this.opened);
    if (!this.opening) this.closedWhileOpening = false;
    this.opening ??= (async () => {
      try {
        // The description names slice.json (and the field) already: never add the file again.
        if (this.manifestError) throw this.manifestFailure ?? new UserError(this.manifestError);
        await warmIndex(this.dir, token, onProgress);
        // Cancelled while indexing: opening now would read events.jsonl synchronously on the editor's thread.
        if (token?.isCancellationRequested) throw new IndexingCancelled(this.dir);
        // Its catalogue and users hashed and parsed a slice of work per turn of the event loop:
        // a million items took seconds of the editor's thread.
        let s: Slice;
        try {
          // Dropped meanwhile (the list was refreshed) stops it too: nothing would ever use it.
          s = await Slice.openAsync(this.dir, { force: true, trustCachedIndex: true }, { cancelled: () => (token?.isCancellationRequested ?? false) || this.closedWhileOpening });
        } catch (e) {
          throw e instanceof StepsCancelled ? new IndexingCancelled(this.dir) : e;
        }
        if (this.closedWhileOpening) {
          // Dropped meanwhile (the list was refreshed): nothing would ever close this one.
          s.close();
          throw new IndexingCancelled(this.dir);
        }
        this.opened = s;
        if (s.modified.size) this.status = { kind: 'modified', files: [...s.modified], missing: [] };
        else if (this.status.kind === 'unchecked' || this.status.kind === 'error') this.status = { kind: 'ok' };
        return s;
      } catch (e) {
        if (!(e instanceof IndexingCancelled)) this.status = { kind: 'error', message: e instanceof UserError ? e.describe() : String(e instanceof Error ? e.message : e) };
        throw e;
      } finally {
        this.opening = undefined;
      }
    })();
    return this.opening;
  }

  /**
   * Takes in what reading the opened slice found since: events.jsonl is checked chunk by chunk as
   * it is read, so a chunk that does not match its hash shows up only then (in `slice.modified`).
   * True when the status changed (the slice's node must be redrawn).
   */
  noteReads(): boolean {
    const found = [...(this.opened?.modified ?? [])];
    const st = this.status;
    const known = st.kind === 'modified' ? st.files : [];
    const files = [...known, ...found.filter((f) => !known.includes(f))];
    if (files.length === known.length) return false;
    this.status = { kind: 'modified', files, missing: st.kind === 'modified' ? st.missing : [] };
    return true;
  }

  /** Records the result of a full verification. */
  setVerified(report: VerifyReport): void {
    this.status = report.ok ? { kind: 'verified' } : { kind: 'modified', files: report.modified, missing: report.missing };
  }

  close(): void {
    this.opened?.close();
    this.opened = undefined;
    if (this.opening) this.closedWhileOpening = true;
  }
}

/** Reads slice.json of a folder into an entry; a broken manifest gives an entry that says why. */
export function readEntry(dir: string): SliceEntry {
  const file = join(dir, 'slice.json');
  try {
    // As opening the slice checks it first: a regular file inside the folder, of a manifest's size
    // (a link to /dev/zero held the extension host for seconds and GBs; a named pipe, forever).
    const kind = fileKind(dir, file);
    if (kind !== 'file') throw new UserError(`slice.json is ${kind}`, { file }, 'A slice folder holds its manifest as a regular file: re-freeze the slice.');
    const size = statSync(file).size;
    if (size > MAX_MANIFEST_BYTES) throw new UserError(`slice.json is ${(size / 2 ** 20).toFixed(0)} MiB, more than a manifest holds (${MAX_MANIFEST_BYTES / 2 ** 20} MiB at most)`, { file }, 'Re-freeze the slice.');
    // As opening the slice reads it (a byte-order mark, a file it may not read, no events.jsonl listed).
    return new SliceEntry(dir, parseManifest(readWhole(file), file), undefined);
  } catch (e) {
    const failure = e instanceof UserError ? e : new UserError((e as Error).message, { file });
    return new SliceEntry(dir, undefined, failure.describe(), failure);
  }
}

/** The slice folder of a path inside it (`…/x.slice/events.jsonl` → `…/x.slice`), or undefined. */
export function sliceDirOf(path: string): string | undefined {
  let p = path;
  for (let i = 0; i < 3; i++) {
    if (p.endsWith('.slice') && existsSync(join(p, 'slice.json'))) return p;
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  return undefined;
}

/** The user cancelled the indexing of a slice being opened: not an error of the slice. */
export class IndexingCancelled extends Error {
  constructor(readonly dir: string) {
    super(`indexing ${dir} was cancelled`);
  }
}

/** What warmIndex needs from slice.json, or undefined when it has nothing to do (the core reports a broken manifest). */
function indexTarget(dir: string): { manifestSha: string; entry: FileEntry } | undefined {
  const bytes = manifestBytesAt(dir);
  if (!bytes) return undefined;
  let manifest: SliceManifest;
  try {
    // As opening reads it (a byte-order mark is fine): a manifest read differently here would skip
    // warming the index, and opening would then build it synchronously on the editor's thread.
    manifest = parseManifest(bytes, join(dir, 'slice.json'));
  } catch {
    return undefined;
  }
  const entry = manifest.files.find((f) => f.path === 'events.jsonl');
  if (!entry) return undefined;
  return { manifestSha: sha256(bytes), entry };
}

/**
 * Whether opening the slice would build its offset index (a synchronous read of all of
 * events.jsonl) because none is cached: then warmIndex first, off the editor's thread.
 */
export function needsIndex(dir: string, whole = false): boolean {
  return needsIndexOf(dir, indexTarget(dir), whole);
}

/** `whole`: for a forced launch, which needs the file read once unless it is known modified (see warmIndex). */
function needsIndexOf(dir: string, t: { manifestSha: string; entry: FileEntry } | undefined, whole = false): boolean {
  const path = join(dir, 'events.jsonl');
  const st = statSync(path, { throwIfNoEntry: false });
  if (t === undefined || !st) return false;
  // As Slice.open decides: a modified file's own index first, then the frozen file's, for a file of the frozen size only.
  const modified = modifiedIndexKey(t.manifestSha, path);
  if (modified !== undefined && loadCachedIndex(modified, -1, st.size)) return false;
  if (whole) return true;
  // A manifest without chunk hashes: the open would check the file whole (on the editor's thread,
  // a block per turn) unless chunk hashes were worked out for it before: read here, streamed, once.
  if (!t.entry.chunks && st.size === t.entry.bytes && !loadDerivedChunks(t.manifestSha, st.size)) return true;
  return !(st.size === t.entry.bytes && loadCachedIndex(t.manifestSha, t.entry.records ?? -1, st.size));
}

/**
 * Builds and caches the offset index of events.jsonl by streaming it (the core's Slice.open would
 * read it synchronously), verifying the whole-file hash on the way as the core does before it
 * caches an index. No-op when the index is cached already. With `whole` (a forced launch) it reads
 * the file even when the frozen file's index is cached, so that a modified file gets an index of its
 * own (Slice.open takes it first); no-op once it has one.
 */
export async function warmIndex(dir: string, token?: Cancellation, onProgress?: (fraction: number) => void, whole = false): Promise<void> {
  const target = indexTarget(dir);
  if (!target) return;
  if (!needsIndexOf(dir, target, whole)) return;
  const { manifestSha, entry } = target;
  const path = join(dir, 'events.jsonl');
  // Not a regular file inside the folder: Slice.open says what is wrong; nothing to read here.
  if (fileKind(dir, path) !== 'file') return;
  const collector = new OffsetCollector();
  const checker = new FileChecker(entry);
  // Chunk hashes for a manifest that has none (see needsIndexOf), kept when the file is intact.
  const chunks = entry.chunks ? undefined : new ChunkHasher();
  let offset = 0;
  // Read through one open file, whose state is taken before and after: a file saved meanwhile (by
  // another process) gets no index from bytes of two states — stored under the new state's key, a
  // wrong one refused every forced open of it, for good.
  const fh = await open(path, 'r');
  try {
    const before = await fh.stat();
    const buf = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) break;
      const part = buf.subarray(0, bytesRead);
      collector.feed(part, offset);
      checker.update(part);
      chunks?.update(part);
      offset += bytesRead;
      onProgress?.(entry.bytes ? Math.min(1, offset / entry.bytes) : 0);
      if (token?.isCancellationRequested) return;
    }
    const after = await fh.stat();
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || after.ctimeMs !== before.ctimeMs || offset !== after.size) return;
    const index = collector.finish();
    // An index of the exact bytes the manifest describes is cached for the manifest; one of a
    // modified file under that file's own key (Slice.open finds it, and reports the file modified).
    const intact = checker.finish() === undefined;
    if (intact && (entry.records === undefined || index.count === entry.records)) storeIndex(manifestSha, index);
    if (intact && chunks) storeDerivedChunks(manifestSha, chunks.finish());
    else if (!intact) {
      const key = modifiedIndexKey(manifestSha, path, after);
      if (key) storeIndex(key, index);
    }
  } finally {
    await fh.close();
  }
}

/**
 * Full integrity check, streamed and cancellable (the core's verify() reads synchronously): every
 * file's sha256 against the manifest. Undefined when cancelled.
 */
export async function verifyAsync(dir: string, manifest: SliceManifest, token?: Cancellation, onProgress?: (fraction: number, file: string) => void): Promise<VerifyReport | undefined> {
  const modified: string[] = [];
  const missing: string[] = [];
  const reasons: Record<string, string> = {};
  const total = manifest.files.reduce((s, f) => s + (f.bytes || 0), 0) || 1;
  let done = 0;
  for (const f of manifest.files) {
    const p = join(dir, f.path);
    // A folder where a file should be is as good as missing (as `recreplay verify` reports it).
    const kind = fileKind(dir, p);
    if (kind !== 'file') {
      missing.push(f.path);
      reasons[f.path] = kind;
      continue;
    }
    const checker = new FileChecker(f);
    const stream = createReadStream(p, { highWaterMark: 4 << 20 });
    try {
      for await (const chunk of stream) {
        checker.update(chunk as Buffer);
        done += (chunk as Buffer).length;
        onProgress?.(Math.min(1, done / total), f.path);
        if (token?.isCancellationRequested) return undefined;
      }
    } catch (e) {
      throw new UserError(`cannot read ${f.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: p }, 'Check the file\'s permissions, or restore it from the original slice.');
    } finally {
      stream.destroy();
    }
    const why = checker.finish();
    if (why) {
      modified.push(f.path);
      reasons[f.path] = MISMATCH[why];
    }
  }
  // As `recreplay verify` and opening the slice see it: a catalogue or user file the manifest does not list.
  for (const name of unlistedFiles(dir, manifest)) {
    modified.push(name);
    reasons[name] = UNLISTED;
  }
  return { ok: modified.length === 0 && missing.length === 0, modified, missing, reasons };
}
