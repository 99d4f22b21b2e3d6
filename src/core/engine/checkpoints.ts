import { createHash } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readSync, readdirSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pidRuns } from '../dirs';
import { UserError } from '../errors';

const TYPED = { Int32Array, Float64Array, Uint32Array, Uint8Array, Float32Array, Int8Array, Int16Array, Uint16Array } as const;
type TypedName = keyof typeof TYPED;
type Typed = InstanceType<(typeof TYPED)[TypedName]>;

/**
 * A checkpoint as bytes without building it in memory first: a JSON header in which every typed
 * array is replaced by its type, length and byte offset (numbers JSON cannot hold — ±Infinity,
 * NaN, -0 — are written as strings), then the raw bytes of the arrays. Objects with a "$ta" or
 * "$num" key of their own are not supported (the engine's state has none).
 */
export function packCheckpoint(value: unknown): { header: Buffer; arrays: Typed[]; bytes: number } {
  const arrays: Typed[] = [];
  let at = 0;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const name = v.constructor.name as TypedName;
      if (!(name in TYPED)) throw new Error(`a checkpoint cannot hold a ${name}`);
      const t = v as Typed;
      arrays.push(t);
      const d = { $ta: name, n: t.length, at };
      at += t.byteLength;
      return d;
    }
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return { $num: Object.is(v, -0) ? '-0' : String(v) };
    return v;
  });
  const json = Buffer.from(text, 'utf8');
  const header = Buffer.allocUnsafe(4 + json.length);
  header.writeUInt32LE(json.length, 0);
  json.copy(header, 4);
  return { header, arrays, bytes: header.length + at };
}

/** The value packCheckpoint wrote (typed arrays as fresh copies). */
export function unpackCheckpoint(buf: Buffer): unknown {
  const len = buf.readUInt32LE(0);
  const base = 4 + len;
  return JSON.parse(buf.toString('utf8', 4, base), (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null) return v;
    const d = v as { $ta?: TypedName; n?: number; at?: number; $num?: string };
    if (typeof d.$ta === 'string' && typeof d.n === 'number' && typeof d.at === 'number') {
      const Ctor = TYPED[d.$ta];
      const out = new Ctor(d.n);
      new Uint8Array(out.buffer).set(buf.subarray(base + d.at, base + d.at + out.byteLength));
      return out;
    }
    if (typeof d.$num === 'string') return d.$num === '-0' ? -0 : Number(d.$num);
    return v;
  });
}

/**
 * Spill folders live in one folder of their own under the spill root (reading the whole temp folder,
 * which can hold tens of thousands of entries, took 36 ms), named `<pid>-XXXXXX`: the pid tells a
 * live run's from a dead one's.
 */
const SPILL_PARENT = 'recreplay-checkpoints';
const SPILL_FILE = 'checkpoints.bin';

/**
 * The spill parent under `root`: one per user (`recreplay-checkpoints-UID`), made private (0700). One
 * found there that is not this user's own private folder — another user made it first, to watch or
 * swap the spill folders in it, or it is a link — is not used: a private folder of this run's own
 * takes its place (not swept after a crash, but never shared).
 */
function spillParent(root: string): string {
  const uid = process.getuid?.();
  const parent = join(root, spillParentName());
  // Not recursive: a spill root that does not exist is a reason to keep checkpoints in memory.
  try {
    mkdirSync(parent, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  if (uid === undefined) return parent;
  const st = lstatSync(parent);
  if (st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0) return parent;
  // Private parents of earlier runs that fell back too: what killed runs left in them is swept (a
  // folder someone else planted would otherwise leave every crashed session's spill file behind).
  const prefix = `${SPILL_PARENT}-${uid}-`;
  for (const name of readdirSync(root)) {
    if (!name.startsWith(prefix)) continue;
    const p = join(root, name);
    const s = lstatSync(p, { throwIfNoEntry: false });
    if (!s?.isDirectory() || s.uid !== uid || (s.mode & 0o077) !== 0) continue;
    sweepStaleSpills(p);
    try {
      rmdirSync(p);
    } catch {
      // A live run's folder is in it.
    }
  }
  return mkdtempSync(join(root, prefix));
}

/** The name of this user's spill parent under a spill root (see spillParent). */
export function spillParentName(): string {
  const uid = process.getuid?.();
  return uid === undefined ? SPILL_PARENT : `${SPILL_PARENT}-${uid}`;
}

/** Spill parents swept in this process: once each is enough. */
const swept = new Set<string>();

/** Spill folders of this process not yet disposed: taken away when the process exits without disposing them. */
const liveSpills = new Set<string>();
let exitHookSet = false;

function removeLiveSpills(): void {
  for (const d of liveSpills) {
    rmSync(d, { recursive: true, force: true });
    try {
      rmdirSync(dirname(d));
    } catch {
      // Another run's folder is in it, or it is gone.
    }
  }
  liveSpills.clear();
}

/**
 * Removes spill folders in `root` (the spill parent) left by processes that no longer run (killed, so they never
 * disposed them). Best effort: a folder it cannot read or remove stays.
 */
export function sweepStaleSpills(root: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return 0;
  }
  for (const name of names) {
    const m = /^(\d+)-/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidRuns(pid)) continue;
    try {
      rmSync(join(root, name), { recursive: true, force: true });
      removed++;
    } catch {
      // Not ours to remove after all (permissions): leave it.
    }
  }
  return removed;
}

/**
 * Digest of a checkpoint's bytes, to tell a spill file changed under the replay (cut short, then
 * written past the cut, reads back zeros) from an intact one. Not for security: sha1 is native and
 * streams over the parts as they are written, about 0.3 ms for 400 KB, next to nothing beside the
 * 500 events between two checkpoints.
 */
function digestOf(parts: readonly Uint8Array[]): Buffer {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** A checkpoint that cannot be read back: the user can step forward or restart, and should know which file failed. */
function damaged(n: number, file: string, reason: string): UserError {
  return new UserError(
    `the checkpoint before event ${n} in ${file} is damaged (${reason})`,
    {},
    'Something outside the replay changed the spill file: step forward instead, or restart the session.',
    'E_CHECKPOINT',
  );
}

/**
 * Checkpoints keyed by event number, written straight from the live state into one append-only
 * file, so memory does not grow with the slice (1M events / every 500 = 2,000 checkpoints of
 * catalogue-sized state) and taking one allocates next to nothing: serialising each into a
 * buffer first churned megabyte-sized allocations that fragmented the heap and grew RSS over a
 * long replay. If the file cannot be written (no space, no permission), checkpoints stay in memory.
 * Each spilled checkpoint's digest stays in memory and is checked when it is read: the file is
 * outside the replay's control, and a damaged one must fail a seek, never restore wrong state.
 */
export class CheckpointStore {
  private readonly where = new Map<number, { offset: number; length: number; digest: Buffer }>();
  private readonly inMemory = new Map<number, Buffer>();
  private fd: number | undefined;
  private dir: string | undefined;
  private spillFailed = false;
  private end = 0;
  private inMemoryBytes = 0;
  /** Bytes of checkpoints kept in memory (when the spill file cannot be written) before they are thinned (256 MiB; tests lower it). */
  static memoryBudget = 256 * 1024 ** 2;

  constructor(private readonly spillRoot = tmpdir()) {}

  has(n: number): boolean {
    return this.where.has(n) || this.inMemory.has(n);
  }

  /** Stores the state taken before event n ran (typed arrays may be live views: they are copied out now). */
  /** (Returns the checkpoint's bytes; 0 when one was there already.) */
  put(n: number, value: unknown): number {
    if (this.has(n)) return 0;
    const { header, arrays, bytes } = packCheckpoint(value);
    if (!this.spillFailed) {
      try {
        const digest = this.write(header, arrays);
        this.where.set(n, { offset: this.end, length: bytes, digest });
        this.end += bytes;
        return bytes;
      } catch {
        this.spillFailed = true;
      }
    }
    const data = Buffer.concat([header, ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))]);
    this.inMemory.set(n, data);
    this.inMemoryBytes += data.length;
    // Over the budget, every other checkpoint goes (the first stays): seeks re-execute further from
    // the one before, but memory stops growing with the slice, as the spill file would have.
    if (this.inMemoryBytes > CheckpointStore.memoryBudget) {
      const keys = [...this.inMemory.keys()].sort((a, b) => a - b);
      for (let i = 1; i < keys.length; i += 2) {
        const k = keys[i] as number;
        this.inMemoryBytes -= (this.inMemory.get(k) as Buffer).length;
        this.inMemory.delete(k);
      }
    }
    return bytes;
  }

  /** Appends the parts at the end and returns their digest. */
  private write(header: Buffer, arrays: Typed[]): Buffer {
    if (this.fd === undefined) {
      // Another run disposing its store takes the shared parent away when it is empty: made again
      // when it went between its making and this folder's (runs in parallel lost their spill file).
      for (let tries = 0; this.dir === undefined; tries++) {
        const parent = spillParent(this.spillRoot);
        if (!swept.has(parent)) {
          swept.add(parent);
          sweepStaleSpills(parent);
        }
        try {
          this.dir = mkdtempSync(join(parent, `${process.pid}-`));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || tries >= 4) throw e;
        }
      }
      liveSpills.add(this.dir);
      if (!exitHookSet) {
        exitHookSet = true;
        process.on('exit', removeLiveSpills);
      }
      // Made here, never opened through a link: the folder is new and private, and 'wx+' fails on anything there.
      this.fd = openSync(join(this.dir, SPILL_FILE), 'wx+', 0o600);
    }
    let pos = this.end;
    const parts = [header, ...arrays].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    for (const part of parts) {
      let done = 0;
      while (done < part.length) done += writeSync(this.fd, part, done, part.length - done, pos + done);
      pos += part.length;
    }
    return digestOf(parts);
  }

  /** The event number of the nearest checkpoint at or before event n, without reading it. */
  nearestAt(n: number): number | undefined {
    let best = -1;
    for (const k of this.where.keys()) if (k <= n && k > best) best = k;
    for (const k of this.inMemory.keys()) if (k <= n && k > best) best = k;
    return best < 0 ? undefined : best;
  }

  /** The nearest checkpoint at or before event n. */
  nearest(n: number): { n: number; data: unknown } | undefined {
    const at = this.nearestAt(n);
    return at === undefined ? undefined : { n: at, data: this.read(at) };
  }

  /** The checkpoint taken before event n (which must exist); a UserError naming the spill file when it was damaged. */
  read(n: number): unknown {
    const mem = this.inMemory.get(n);
    if (mem) return unpackCheckpoint(mem);
    const loc = this.where.get(n);
    if (!loc || this.fd === undefined) throw new Error(`no checkpoint before event ${n}`);
    const file = this.file as string;
    const buf = Buffer.allocUnsafe(loc.length);
    try {
      // The size first: a cut file is the likely damage, and the reason then says so plainly.
      const size = fstatSync(this.fd).size;
      const end = loc.offset + loc.length;
      if (size < end) throw damaged(n, file, `the file was cut short: it is ${size} bytes, the checkpoint ends at byte ${end}`);
      let got = 0;
      while (got < loc.length) {
        const r = readSync(this.fd, buf, got, loc.length - got, loc.offset + got);
        if (r === 0) throw damaged(n, file, `the file was cut short while it was read, at byte ${loc.offset + got}`);
        got += r;
      }
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw damaged(n, file, `it cannot be read: ${(e as Error).message}`);
    }
    if (!digestOf([buf]).equals(loc.digest)) throw damaged(n, file, 'its bytes differ from those written');
    try {
      return unpackCheckpoint(buf);
    } catch (e) {
      // Bytes that match their digest but do not unpack are a bug of packCheckpoint; say where all the same.
      throw damaged(n, file, `it does not unpack: ${(e as Error).message}`);
    }
  }

  /** Path of the spill file, once one was made. */
  get file(): string | undefined {
    return this.dir === undefined ? undefined : join(this.dir, SPILL_FILE);
  }

  get size(): number {
    return this.where.size + this.inMemory.size;
  }

  /** Deletes the spill file. */
  dispose(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    if (this.dir) {
      rmSync(this.dir, { recursive: true, force: true });
      liveSpills.delete(this.dir);
      // The shared parent goes too when no other run uses it.
      try {
        rmdirSync(dirname(this.dir));
      } catch {
        // Not empty (another run spills there) or gone: leave it.
      }
    }
    this.fd = undefined;
    this.dir = undefined;
    this.where.clear();
    this.inMemory.clear();
    this.inMemoryBytes = 0;
    this.end = 0;
  }
}
