import { rmSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ensureDir, removeCreatedDirs, syncFolder, writeExclusive } from '../dirs';
import { UserError, shown } from '../errors';
import { markMine } from './deadFreezes';
import { checkEvent, parseRecords, timeOf } from './events';
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, sha256 } from './hashing';
import { HashingFileWriter } from './hashingFileWriter';
import { checkInside, manifestWarnings, windowsOnlyProblem } from './manifest';
import { assemble, checkManifestInput, emptySchema, noteFeatureTypes, validateInput, type ManifestInput } from './manifestInput';
import { OffsetIndex, cacheDir, storeIndex } from './offsetIndex';
import { lineOf, recordLines } from './recordLines';
import { install, makeTemp, prepareTarget, refuseInsideSlice } from './sliceInstall';
import type { EventRecord, FileEntry, ItemRecord, SliceManifest, UserRecord } from './types';
import { DEFAULT_PIPELINE, MAX_MANIFEST_BYTES } from './types';
import { EventChecks, repeatedIds } from './writeWarnings';
import { UserTable, lazyUsers, storeUsersIndex } from './userTable';

/** What a caller supplies; the writer fills format, files, hashes, counts, clock and defaults. */
export interface SliceInput {
  manifest: ManifestInput;
  events: Iterable<EventRecord>;
  items?: ItemRecord[];
  users?: UserRecord[];
  /** Extra files under artifacts/ (relative name → content). */
  artifacts?: Record<string, string | Uint8Array>;
}

export interface WriteOptions {
  /** ISO time of the freeze; taken from the caller because the core has no wall clock. */
  frozenAt: string;
  overwrite?: boolean;
  chunkSize?: number;
  cacheDir?: string;
}

function isIterable(v: unknown): v is Iterable<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

/** What writeSlice wrote, and what it noticed. */
export interface WriteResult {
  dir: string;
  manifest: SliceManifest;
  /**
   * What the slice holds that a replay accepts but reads in a way worth knowing (repeated ids,
   * served items that are not candidates, …), and what was tidied or found beside the target
   * (an old slice a killed freeze had moved aside): one sentence each, with the first record
   * (`events:17`), counting the rest. The core prints nothing: the caller shows them.
   */
  warnings: string[];
}

/**
 * Writes a slice folder atomically: everything goes to a temp folder beside the target, which
 * is renamed into place only when complete. Items and users are checked as the reader checks
 * them, events (shape, finite numbers, time order) as they stream through; an error names the
 * file (events, items, users), the record number and the field. Returns the path, the manifest
 * written and warnings about records a replay accepts but that are inconsistent.
 */
export function writeSlice(outDir: string, input: SliceInput, opts: WriteOptions): WriteResult {
  const dir = resolve(outDir);
  refuseInsideSlice(dir);
  if (!isIterable(input.events)) throw new UserError(`events must be an iterable of event records (an array or a generator), got ${shown(input.events)}`, { field: 'events' }, 'Pass an array or a generator function\'s result; an async iterable must be collected first.');
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new UserError(`chunk size ${chunkSize} is not a whole number of bytes from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE} (1 GiB)`, { field: 'chunkSize' }, `Leave it out for the default (${DEFAULT_CHUNK_SIZE} bytes).`);
  }
  checkManifestInput(input.manifest, opts.frozenAt);
  const artifacts = checkArtifacts(input.artifacts);
  // The temp folder beside the target takes its name and 17 characters more, an old slice moved aside 4 more (see install).
  const nameBytes = Buffer.byteLength(basename(dir));
  if (nameBytes + TEMP_SUFFIX > NAME_MAX) {
    throw new UserError(`the slice's folder name is ${nameBytes} bytes long: the writer works in a folder beside it named so with ${TEMP_SUFFIX} bytes more, and a name holds ${NAME_MAX} bytes at most`, { file: dir }, `Use a folder name of ${NAME_MAX - TEMP_SUFFIX} bytes or fewer; nothing was written.`, 'E_PATH');
  }
  const warnings = prepareTarget(dir, opts.overwrite);
  const createdParents = ensureDir(dirname(dir), 'slice\'s parent folder');
  // A name no other writer has, marked as this process's.
  let tmp: string;
  try {
    tmp = io(() => makeTemp(dir));
  } catch (e) {
    removeCreatedDirs(createdParents);
    throw writeError(e, dir);
  }
  let w: HashingFileWriter | undefined;
  try {
    io(() => markMine(tmp));
    const itemLines = recordLines(input.items ?? [], 'items', input.manifest.schema?.item);
    const userLines = recordLines(input.users ?? [], 'users', input.manifest.schema?.user);
    for (const [rows, file] of [[itemLines.rows, 'items'], [userLines.rows, 'users']] as const) {
      const repeated = repeatedIds(rows, file);
      if (repeated !== undefined) warnings.push(repeated);
    }
    const inferred = emptySchema();
    const files: FileEntry[] = [];
    const events = io(() => new HashingFileWriter(join(tmp, 'events.jsonl'), chunkSize));
    w = events;
    const offsets: number[] = [0];
    const users = userLines.rows.length > 0 ? new Set(userLines.rows.map((r) => r.id)) : undefined;
    const checks = new EventChecks(new Set(itemLines.rows.map((r) => r.id)), input.manifest.pipeline?.k ?? DEFAULT_PIPELINE.k, users);
    let id = '';
    // A hash match is confirmed against the earlier line as written.
    const sameId = (earlier: number) => (JSON.parse(io(() => events.readBack(offsets[earlier - 1] as number, offsets[earlier] as number))) as { id?: unknown }).id === id;
    const earlier = (evId: string) => {
      id = evId;
      return checks.ids.seen(evId, offsets.length - 1, sameId);
    };
    let n = 0;
    let lastT = -Infinity;
    let firstT: string | undefined;
    let lastIso = '';
    let byteLen = 0;
    // The events the manifest's known faults name, to say a fault that names none (a typo, another slice's id).
    const faultIds = new Set((input.manifest.faults ?? []).map((f) => f.event));
    const faultSeen = new Set<string>();
    for (const given of input.events) {
      n++;
      const text = lineOf(given, 'events', n);
      const ev = checkEvent(JSON.parse(text), 'events', n, false, input.manifest.schema?.candidate, input.manifest.schema?.context);
      const t = timeOf(ev.t);
      if (t < lastT) throw new UserError(`event ${ev.id} is out of time order (${ev.t} is before the previous event)`, { file: 'events', line: n, field: 't' }, 'Sort events by "t" before freezing.');
      lastT = t;
      lastIso = ev.t;
      if (firstT === undefined) {
        firstT = ev.t;
      }
      noteFeatureTypes(inferred.context, ev.context);
      for (const c of ev.candidates) noteFeatureTypes(inferred.candidate, c.features);
      const line = text + '\n';
      io(() => events.write(line));
      byteLen += Buffer.byteLength(line);
      offsets.push(byteLen);
      checks.check(ev, n, earlier);
      if (faultIds.has(ev.id)) faultSeen.add(ev.id);
    }
    if (n === 0) throw new UserError('no events to freeze', { field: 'events' }, 'A slice needs at least one event.', 'E_EMPTY');
    const ev = io(() => events.close());
    files.push({ path: 'events.jsonl', sha256: ev.sha256, bytes: ev.bytes, records: n, chunks: { size: chunkSize, sha256: ev.chunks } });
    // Folders made under the temp folder (artifacts/…): their entries are flushed too, deepest first.
    const folders = new Set<string>();
    const small = (name: string, content: string | Buffer, records?: number) => {
      checkInside(name, join(dir, 'slice.json'));
      const p = join(tmp, name);
      io(() => {
        ensureDir(dirname(p));
        writeExclusive(p, content, { sync: true });
      });
      for (let d = dirname(p); d.length > tmp.length; d = dirname(d)) folders.add(d);
      const bytes = typeof content === 'string' ? Buffer.byteLength(content) : content.length;
      files.push({ path: name, sha256: sha256(content), bytes, ...(records !== undefined ? { records } : {}) });
    };
    for (const it of itemLines.rows) noteFeatureTypes(inferred.item, it.features);
    for (const u of userLines.rows) noteFeatureTypes(inferred.user, u.features);
    small('items.jsonl', itemLines.text, itemLines.rows.length);
    small('users.jsonl', userLines.text, userLines.rows.length);
    for (const [name, content] of artifacts) small(`artifacts/${name}`, content);
    const m = input.manifest;
    const start = m.clock?.start;
    if (start !== undefined && firstT !== undefined && timeOf(start) > timeOf(firstT)) {
      throw new UserError(`clock.start ${start} is after the first event (${firstT})`, { field: 'clock.start' }, 'Leave clock.start out (it is then the first event\'s time), or give the start of the window the events were taken from.');
    }
    const manifest = assemble(m, opts.frozenAt, firstT, inferred, files);
    validateInput(manifest, 'manifest');
    const manifestText = JSON.stringify(manifest, null, 2) + '\n';
    const manifestBytes = Buffer.byteLength(manifestText);
    // What the editor and a look before opening read at most: a larger one was written, then refused there.
    if (manifestBytes > MAX_MANIFEST_BYTES) {
      const hashes = files[0]?.chunks?.sha256.length ?? 0;
      throw new UserError(`slice.json would be ${(manifestBytes / 2 ** 20).toFixed(1)} MiB, more than a manifest may hold (${MAX_MANIFEST_BYTES / 2 ** 20} MiB); ${hashes} chunk hashes of events.jsonl take ${((hashes * 70) / 2 ** 20).toFixed(1)} MiB of it`, { field: 'manifest' }, `Freeze with a larger chunkSize (${chunkSize} bytes now; each chunk has a hash in the manifest), or shorten the manifest's description and faults; nothing was written.`);
    }
    io(() => writeExclusive(join(tmp, 'slice.json'), manifestText, { sync: true }));
    // Every file is on disk, and every folder's entries, before the slice is renamed into place and
    // an old one it replaces removed: unflushed, a power cut after the freeze could leave the new
    // slice's files empty with the old slice already gone.
    for (const d of [...folders].sort((a, b) => b.length - a.length)) syncFolder(d);
    syncFolder(tmp);
    const manifestHash = sha256(manifestText);
    warnings.push(...io(() => install(tmp, dir, opts.overwrite === true, manifestHash)));
    // (The slice's own entry was flushed by install; the entries of the parents made for it here.)
    for (const made of createdParents) syncFolder(dirname(made));
    // The offset index is built at freeze and cached so the first open never scans the file.
    storeIndex(manifestHash, new OffsetIndex(Float64Array.from(offsets)), opts.cacheDir);
    keepUsersIndex(userLines.text, manifest, opts.cacheDir);
    warnings.push(...checks.warnings(), ...manifestWarnings(manifest));
    // One sentence, however many (5,000 faults naming no event were 5,000 warnings): the first named, the rest counted.
    const unseen = manifest.faults.map((f, i) => ({ f, i })).filter(({ f }) => !faultSeen.has(f.event));
    const first = unseen[0];
    if (first !== undefined) {
      const more = unseen.length > 1 ? ` (and ${unseen.length - 1} more ${unseen.length === 2 ? 'fault' : 'faults'} name no event of the slice)` : '';
      warnings.push(`faults[${first.i}].event ${shown(first.f.event)} is not the id of an event in the slice — the ${shown(first.f.kind)} fault is listed, but no event has that id${more}; give the id of the event where it shows`);
    }
    // Events outside the window the manifest says they were taken from: the window, or the events, are not what they seem.
    const win = manifest.source.window;
    const outside = (win?.from !== undefined && firstT !== undefined && timeOf(firstT) < timeOf(win.from)) || (win?.to !== undefined && lastT > timeOf(win.to));
    if (outside) warnings.push(`the events run from ${firstT} to ${lastIso}, outside source.window (${win?.from ?? '…'} to ${win?.to ?? '…'}) — give the window the logs were taken from`);
    return { dir, manifest, warnings };
  } catch (e) {
    w?.release();
    rmSync(tmp, { recursive: true, force: true });
    removeCreatedDirs(createdParents);
    throw writeError(e, dir);
  }
}

/** Longest file name most file systems hold (bytes), and what the writer's temp and moved-aside folders add to the slice's name. */
const NAME_MAX = 255;
/** Half of a UTF-16 pair without its other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const TEMP_SUFFIX = '.tmp-'.length + 12 + '-old'.length + 2;

/**
 * The artifacts, checked before a single event is read, sorted by name: each a plain relative path
 * under artifacts/ of names a file system holds, with a string or bytes; no two that one disk
 * would take for one file (a name and a folder of it, two names that differ only by case — one
 * on macOS and Windows — or only in Unicode normalisation — one on macOS), no text that UTF-8 cannot hold as it is (a lone surrogate).
 */
function checkArtifacts(given: SliceInput['artifacts']): [string, string | Buffer][] {
  if (given === undefined) return [];
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new UserError(`artifacts must be an object of name → content, got ${shown(given)}`, { field: 'artifacts' }, 'Pass e.g. { "model.json": "{…}" }, or leave artifacts out.');
  }
  const out: [string, string | Buffer][] = [];
  const byLower = new Map<string, string>();
  for (const name of Object.keys(given).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const field = `artifacts.${name}`;
    // A plain relative name under artifacts/: "../events.jsonl" would overwrite a file already hashed.
    const parts = name.split(/[\\/]/);
    if (name === '' || isAbsolute(name) || parts.some((p) => p === '' || p === '.' || p === '..')) {
      throw new UserError(`artifact name ${shown(name)} is not a plain relative path inside artifacts/`, { field }, 'Name artifacts like "model.json" or "v2/weights.json" (no "..", ".", empty or absolute parts).');
    }
    if (name.includes('\0') || name.includes('\\')) {
      throw new UserError(`artifact name ${shown(name)} holds a ${name.includes('\0') ? 'NUL character' : 'backslash'}, which a manifest path may not`, { field }, 'Name artifacts like "model.json" or "v2/weights.json", with "/" between folders.');
    }
    const windows = windowsOnlyProblem(name);
    if (windows !== undefined) throw new UserError(`artifact name ${shown(name)} ${windows}`, { field }, 'Name artifacts like "model.json" or "v2/weights.json": a slice opens on every system.');
    const long = parts.find((p) => Buffer.byteLength(p) > NAME_MAX);
    if (long !== undefined) throw new UserError(`artifact name ${shown(name)} has a part of ${Buffer.byteLength(long)} bytes; a file system holds ${NAME_MAX} at most`, { field }, 'Use shorter names.');
    const content: unknown = (given as Record<string, unknown>)[name];
    if (typeof content !== 'string' && !(content instanceof Uint8Array)) {
      throw new UserError(`artifact ${shown(name)} is ${shown(content)}: an artifact's content is a string or a Buffer`, { field }, 'Pass text as a string (JSON.stringify an object first), bytes as a Buffer.');
    }
    if (typeof content === 'string' && LONE_SURROGATE.test(content)) {
      throw new UserError(`artifact ${shown(name)} holds a lone surrogate (half of a UTF-16 pair), which UTF-8 cannot hold: it would be written as U+FFFD and read back changed`, { field }, 'Pass binary content as a Buffer, or fix the text.');
    }
    // macOS also takes names that differ only in Unicode normalisation ("é" as one code point or as
    // "e" and a combining accent) for one file: the one written last would be both.
    const lower = name.normalize('NFC').toLowerCase();
    const twin = byLower.get(lower);
    if (twin !== undefined) {
      const how = twin.toLowerCase() === name.toLowerCase() ? 'only by case: on macOS and Windows' : 'only in Unicode normalisation (or that and case): on macOS';
      throw new UserError(`artifacts ${shown(twin)} and ${shown(name)} differ ${how} one would overwrite the other`, { field }, 'Give artifacts names that differ by more than case or normalisation.');
    }
    byLower.set(lower, name);
    out.push([name, typeof content === 'string' ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength)]);
  }
  // A name that is also another's folder ("a" and "a/b"): one disk cannot hold both.
  for (const [name] of out) {
    const folder = [...byLower.keys()].find((k) => k.startsWith(name.normalize('NFC').toLowerCase() + '/'));
    if (folder !== undefined) throw new UserError(`artifact ${shown(name)} is a file, and ${shown(byLower.get(folder))} needs a folder of that name`, { field: `artifacts.${name}` }, 'Rename one of them.');
  }
  return out;
}

/** Errors raised by the writer's own file operations (not by the caller's events, e.g. a generator reading its input). */
const ioErrors = new WeakSet<object>();

/** Runs a file operation of the writer, marking what it throws as the writer's (see writeError). */
function io<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (typeof e === 'object' && e !== null) ioErrors.add(e);
    throw e;
  }
}

/**
 * A system error of the writer's own file operations (a full disk, a folder made read-only) as one
 * that names the slice. What an install that failed could not put back stays in the message.
 */
function writeError(e: unknown, dir: string): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (e instanceof UserError || !(e instanceof Error) || !ioErrors.has(e) || typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return e;
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  const kept = /; what was at .* is kept at .*$/.exec(e.message)?.[0];
  const reason = full ? 'the disk is full' : e.message.replace(kept ?? '', '');
  const where = kept ? 'the old slice was moved aside (named above): put it back once the disk has room' : 'nothing was written there';
  return new UserError(`cannot write the slice ${dir}: ${reason}${kept ?? ''}`, { file: dir }, full ? `Free space on that disk, or freeze to a folder on another one; ${where}.` : `Freeze to a folder you can write to; ${where}.`, 'E_PATH');
}

/**
 * Keeps the index of the users.jsonl just written, checked whole, so its first open reads it by id
 * (see UserTable): it is parsed here as the reader parses it, against the manifest's feature types.
 */
function keepUsersIndex(buf: Buffer, manifest: SliceManifest, cache = cacheDir()): void {
  const entry = manifest.files.find((f) => f.path === 'users.jsonl');
  // (Past lazyUsers.below a file is never read lazily: no index to keep, and no second parse.)
  if (!entry || buf.length === 0 || buf.length >= lazyUsers.below) return;
  try {
    const records = parseRecords<UserRecord>(buf, 'users.jsonl', 'user', manifest.schema.user);
    const byId = UserTable.index(buf, records, 'users.jsonl', manifest.schema.user);
    if (byId) storeUsersIndex(cache, entry.sha256, manifest.schema.user, byId);
  } catch {
    // No index kept: the reader parses it whole, and says what is wrong. The slice is in place already:
    // nothing here may fail the freeze.
  }
}
