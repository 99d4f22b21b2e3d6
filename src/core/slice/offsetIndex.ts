import { closeSync, existsSync, lstatSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { cacheTemp, ensureDir, removeQuietly, sweepDeadTemps, writeExclusive } from '../dirs';
import { MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from './hashing';

/**
 * Byte offsets of the lines of events.jsonl: offsets[n-1] is where event n starts and
 * offsets[count] is the end of the data. Float64 holds exact integers up to 2^53, so files
 * beyond 4 GiB are fine. Cached on disk keyed by the manifest's hash, built once.
 */
export class OffsetIndex {
  constructor(readonly offsets: Float64Array) {}

  get count(): number {
    return this.offsets.length - 1;
  }

  /** Byte range [start, end) of event n (1-based), without the newline. */
  range(n: number): [number, number] {
    const start = this.offsets[n - 1];
    const next = this.offsets[n];
    if (start === undefined || next === undefined) throw new RangeError(`event ${n} is outside 1..${this.count}`);
    return [start, next - 1];
  }
}

/** Incrementally collects line offsets from consecutive buffers of a file. */
export class OffsetCollector {
  private list: number[] = [0];
  private chunks: Float64Array[] = [];
  private lastEnd = 0;

  /** Feeds the next buffer, which starts at byte `base` of the file. */
  feed(buf: Buffer, base: number): void {
    let i = buf.indexOf(10);
    while (i !== -1) {
      this.list.push(base + i + 1);
      if (this.list.length >= 65536) {
        this.chunks.push(Float64Array.from(this.list));
        this.list = [];
      }
      i = buf.indexOf(10, i + 1);
    }
    this.lastEnd = base + buf.length;
  }

  /** The finished index; a last line without a trailing newline still counts. */
  finish(): OffsetIndex {
    const tailStart = this.list.length ? this.list[this.list.length - 1] : this.chunks[this.chunks.length - 1]?.at(-1);
    if (tailStart !== undefined && this.lastEnd > tailStart) this.list.push(this.lastEnd + 1);
    const total = this.chunks.reduce((s, c) => s + c.length, 0) + this.list.length;
    const out = new Float64Array(total);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    out.set(this.list, o);
    return new OffsetIndex(out);
  }
}

/** Where indexes are cached: $RECREPLAY_CACHE_DIR, else $XDG_CACHE_HOME/recreplay, else ~/.cache/recreplay. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['RECREPLAY_CACHE_DIR']) return env['RECREPLAY_CACHE_DIR'];
  const base = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'recreplay');
}

function indexPath(manifestSha: string, dir: string): string {
  return join(dir, `index-${manifestSha}.f64`);
}

/**
 * Loads a cached index for this key (a manifest hash, or a modifiedIndexKey), or undefined.
 * `expectedCount` -1: any number of events (a modified file's count is its own).
 */
export function loadCachedIndex(manifestSha: string, expectedCount: number, fileBytes: number, dir = cacheDir()): OffsetIndex | undefined {
  const p = indexPath(manifestSha, dir);
  if (!existsSync(p)) return undefined;
  let buf: Buffer;
  try {
    buf = readFileSync(p);
  } catch {
    // An index file that cannot be read (EACCES, a folder in its place) is rebuilt like a damaged one.
    return undefined;
  }
  // The offsets, then their seal (see sealOf): a file this user's runs did not write for this key
  // — damaged, edited, copied from elsewhere, of another version — is rebuilt, never trusted.
  if (buf.length % 8 !== 0 || buf.length < SEAL_BYTES + 8) return undefined;
  const body = buf.subarray(0, buf.length - SEAL_BYTES);
  const seal = sealOf(manifestSha, body, dir);
  if (seal === undefined || !seal.equals(buf.subarray(buf.length - SEAL_BYTES))) return undefined;
  const arr = new Float64Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
  if (expectedCount >= 0 && arr.length !== expectedCount + 1) return undefined;
  // A damaged or foreign cache file is rebuilt, never trusted: offsets start at 0, rise, and end
  // where the file does (one past it when the last line has no newline).
  return isIndexOf(arr, fileBytes) ? new OffsetIndex(arr) : undefined;
}

/** Whether `offsets` can be the line index of a file of `fileBytes` bytes. */
export function isIndexOf(offsets: Float64Array, fileBytes: number): boolean {
  if (offsets[0] !== 0) return false;
  const last = offsets[offsets.length - 1] as number;
  if (last !== fileBytes && last !== fileBytes + 1) return false;
  for (let i = 1; i < offsets.length; i++) {
    const o = offsets[i] as number;
    // Every line holds at least its newline; (a NaN fails this too).
    if (!(o > (offsets[i - 1] as number)) || !Number.isInteger(o)) return false;
  }
  return true;
}

/**
 * The cache key of the index of an events.jsonl that does not match its manifest (a slice replayed
 * with force): its size and modification time name that very state of the file, so an index built
 * once is found again, and a file changed since (or restored) is indexed anew.
 */
export function modifiedIndexKey(manifestSha: string, eventsPath: string, state?: { size: number; mtimeMs: number; ctimeMs: number }): string | undefined {
  // (`state`: the file as an open slice's descriptor sees it, rather than whatever the path holds now.)
  const st = state ?? statSync(eventsPath, { throwIfNoEntry: false });
  // Which copy of the slice (copies share the manifest): each keeps its own index, not the other's.
  const where = createHash('sha256').update(resolve(eventsPath)).digest('hex').slice(0, 16);
    // The ctime too: an edit whose modification time was set back afterwards is another file.
  return st ? `${manifestSha}-modified-${where}-${st.size}-${Math.round(st.mtimeMs * 1000)}-${Math.round(st.ctimeMs * 1000)}` : undefined;
}

/** Removes a cached index found stale, so the next open rebuilds it; a cache that cannot be written is not an error. */
export function dropIndex(key: string, dir = cacheDir()): void {
  try {
    rmSync(indexPath(key, dir), { force: true });
  } catch {
    // (A folder in its place, a read-only cache: loadCachedIndex's checks still stand guard.)
  }
}

/** Stores an index atomically (temp file + rename); a cache that cannot be written is not an error. */
export function storeIndex(manifestSha: string, index: OffsetIndex, dir = cacheDir()): void {
  const p = indexPath(manifestSha, dir);
  const body = Buffer.from(index.offsets.buffer, index.offsets.byteOffset, index.offsets.byteLength);
  // Not stored (no key to seal with, a read-only home, a full disk) only costs a rebuild next time.
  if (!storeSealed(p, manifestSha, body, dir)) return;
  // One index per manifest for a modified file: the one of an earlier state of it (another size or
  // modification time) is of no use any more, and would pile up with every edit.
  const m = /^(.*-modified-[0-9a-f]{16})-/.exec(manifestSha);
  if (!m) return;
  try {
    const mine = basename(p);
    for (const f of readdirSync(dir)) {
      if (f !== mine && f.startsWith(`index-${m[1]}-`) && f.endsWith('.f64')) rmSync(join(dir, f), { force: true });
    }
  } catch {
    // Old indexes left: they are ignored (another key) and go with the next store.
  }
}

/** Chunk hashes of an events.jsonl (as a manifest's `chunks`). */
export interface ChunkHashes {
  size: number;
  sha256: string[];
}

function chunksPath(manifestSha: string, dir: string): string {
  return join(dir, `chunks-${manifestSha}.json`);
}

/** What chunk hashes are sealed under: not the index's key, so neither can pass for the other. */
const chunksSealKey = (manifestSha: string) => `chunks:${manifestSha}`;

/**
 * Keeps the chunk hashes worked out for the events.jsonl of a manifest that has none, from bytes
 * that matched the manifest's whole-file sha256: later opens check that file chunk by chunk as it
 * is read, as for any slice, instead of reading it whole at every open (seconds at a million
 * events, on the editor's thread). Sealed as indexes are; a cache that cannot be written is not an error.
 */
export function storeDerivedChunks(manifestSha: string, chunks: ChunkHashes, dir = cacheDir()): void {
  storeSealed(chunksPath(manifestSha, dir), chunksSealKey(manifestSha), Buffer.from(JSON.stringify(chunks)), dir);
}

/**
 * Writes `body` and its seal (under `sealKey`) to the cache file `p` atomically (temp file +
 * rename). False when nothing was stored: no key to seal with, or a cache that cannot be written —
 * which is not an error, and leaves no part-written temp file behind (they piled up on a full disk,
 * taking the little room left).
 */
function storeSealed(p: string, sealKey: string, body: Uint8Array, dir: string): boolean {
  let tmp: string | undefined;
  try {
    ensureDir(dir, 'index cache');
    tmp = cacheTemp(p);
    // Temp files of runs killed while they wrote to the cache (8 bytes an event each) pile up otherwise.
    sweepDeadTemps(dir);
    const seal = sealOf(sealKey, body, dir, true);
    if (seal === undefined) return false;
    writeExclusive(tmp, Buffer.concat([body, seal]));
    renameSync(tmp, p);
    return true;
  } catch (e) {
    if (tmp !== undefined && (e as NodeJS.ErrnoException).code !== 'EEXIST') removeQuietly(tmp);
    return false;
  }
}

/**
 * Keeps `body` in the cache folder as the file `name`, sealed under `sealKey` (see sealOf): what
 * loadSealed gives back only when this user's runs wrote it under that key. A cache that cannot be
 * written is not an error (false).
 */
export function storeSealedFile(name: string, sealKey: string, body: Uint8Array, dir = cacheDir()): boolean {
  return storeSealed(join(dir, name), sealKey, body, dir);
}

/** The body of the cache file `name` when it is sealed under `sealKey` by this user's runs; undefined otherwise (none, cut short, edited, another key). */
export function loadSealedFile(name: string, sealKey: string, dir = cacheDir()): Buffer | undefined {
  return loadSealed(join(dir, name), sealKey, dir);
}

function loadSealed(p: string, sealKey: string, dir: string): Buffer | undefined {
  let buf: Buffer;
  try {
    if (!existsSync(p)) return undefined;
    buf = readFileSync(p);
  } catch {
    return undefined;
  }
  if (buf.length <= SEAL_BYTES) return undefined;
  const body = buf.subarray(0, buf.length - SEAL_BYTES);
  const seal = sealOf(sealKey, body, dir);
  if (seal === undefined || !seal.equals(buf.subarray(buf.length - SEAL_BYTES))) return undefined;
  return body;
}

/** The chunk hashes storeDerivedChunks kept for this manifest, for a file of `fileBytes`; undefined when none, or not sealed by this user's runs, or of another shape. */
export function loadDerivedChunks(manifestSha: string, fileBytes: number, dir = cacheDir()): ChunkHashes | undefined {
  const body = loadSealed(chunksPath(manifestSha, dir), chunksSealKey(manifestSha), dir);
  if (body === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const c = v as Partial<ChunkHashes> | null;
  if (typeof c !== 'object' || c === null || !Number.isInteger(c.size) || (c.size as number) < MIN_CHUNK_SIZE || (c.size as number) > MAX_CHUNK_SIZE || !Array.isArray(c.sha256)) return undefined;
  if (c.sha256.length !== Math.ceil(fileBytes / (c.size as number)) || !c.sha256.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))) return undefined;
  return { size: c.size as number, sha256: c.sha256 as string[] };
}

const SEAL_BYTES = 32;

/**
 * The seal of a cached index: an HMAC-SHA256 of its key (the manifest's hash) and offsets, under a
 * random key kept in the cache folder, readable by this user only. Shape checks alone (rising
 * offsets, the right count, ending at the file's size) let an edited index through, and a seek then
 * read event 2 as event 3; a sealed one is exactly what a run of this user wrote for this manifest.
 * Undefined without a key (none, and `create` false or impossible).
 */
function sealOf(manifestSha: string, body: Uint8Array, dir: string, create = false): Buffer | undefined {
  const key = cacheKey(dir, create);
  return key && createHmac('sha256', key).update(manifestSha).update('\n').update(body).digest();
}

const keys = new Map<string, Buffer>();

/**
 * The key file as this user's own: a regular file (not a link: its target's bytes would be a key
 * someone else chose), and on POSIX owned by this user and readable by nobody else. Anything else
 * is not a key to seal with.
 */
function ownKeyFile(p: string): boolean {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(p, { throwIfNoEntry: false });
  } catch {
    // A cache folder under a file (ENOTDIR), one that may not be looked into: no key.
    return false;
  }
  if (st === undefined || !st.isFile()) return false;
  if (process.platform === 'win32') return true;
  return (st.mode & 0o077) === 0 && (process.getuid === undefined || st.uid === process.getuid());
}

/** 32 random bytes written to `p` through a temp file created exclusively (never through a link planted at its name), 0600. */
function replaceKey(p: string): Buffer | undefined {
  const fresh = randomBytes(32);
  const tmp = cacheTemp(p);
  try {
    writeExclusive(tmp, fresh, { mode: 0o600 });
    renameSync(tmp, p);
    return fresh;
  } catch {
    removeQuietly(tmp);
    return undefined;
  }
}

/** The cache folder's sealing key (made once, 0600), or undefined when there is none to read or make. */
function cacheKey(dir: string, create: boolean): Buffer | undefined {
  const p = join(dir, 'index.key');
  const known = keys.get(p);
  if (known) return known;
  let key: Buffer | undefined;
  if (!existsSync(p) && create) {
    try {
      ensureDir(dir, 'index cache');
      // Exclusive ('wx'): two runs making it at once agree on the first one's.
      const fd = openSync(p, 'wx', 0o600);
      try {
        writeSync(fd, randomBytes(32));
      } finally {
        closeSync(fd);
      }
    } catch {
      // Made by another run meanwhile (read below), or a cache that cannot be written.
    }
  }
  if (ownKeyFile(p)) {
    try {
      key = readFileSync(p);
    } catch {
      return undefined;
    }
  }
  // Cut short by a crash, written by something else, a link, another user's or readable by others:
  // replaced, or no index here would ever be trusted again and every open would read the whole
  // file. A run racing this one may seal with the key it read; its indexes are then rebuilt once.
  if ((key === undefined || key.length !== 32) && create && existsSync(dir)) key = replaceKey(p);
  if (key === undefined || key.length !== 32) return undefined;
  keys.set(p, key);
  return key;
}
