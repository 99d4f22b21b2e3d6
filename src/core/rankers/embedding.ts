import { join } from 'node:path';
import { UserError, shown, shownName } from '../errors';
import { suggest } from '../expr/suggest';
import { readFileSync } from 'node:fs';
import { recordLine } from '../slice/events';
import type { Slice } from '../slice/reader';
import type { ItemRecord, UserRecord } from '../slice/types';
import { artifactThreads, checkArtifactFile, readArtifact, repeatWarnings, shapeError } from './artifacts';
import { REPEATS_COLLECTED, packArtifact, repeatedIds } from './embeddingThread';
import { repeatedKeys } from '../slice/manifest';
import type { Ranker, RankerInfo, ScoreRequest } from './types';
import { RECORDS_PER_STEP, StepsCancelled, runSteps, runStepsAsync, type StepRunner, type Steps } from '../steps';

/** The keys an embedding artifact may have; any other is reported (a misspelt "itms" left every item without a vector). */
const ARTIFACT_KEYS = ['format', 'name', 'version', 'dim', 'users', 'items'];

/**
 * The artifact's "version" as the ranker's info gives it (so the trace header and run record name
 * it, as they do a linear artifact's): text, or a finite number as text; it was left out.
 */
function artifactVersion(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
}

/** The artifact's top-level keys the ranker does not read, as warnings (as the linear ranker's). */
function unknownKeys(keys: readonly string[]): string[] {
  return keys
    .filter((k) => !ARTIFACT_KEYS.includes(k))
    .map((k) => {
      const near = suggest(k, ARTIFACT_KEYS);
      return `the artifact's key "${shownName(k)}" is not one the embedding ranker reads, and is ignored${near === undefined ? '' : `; did you mean "${near}"?`}`;
    });
}

/**
 * The warning for an artifact whose `kind` vectors match none of the slice's ids (a table with no
 * vector at all is said by the "no … vectors" warning); none when some id is covered.
 */
function foreignIds(kind: 'user' | 'item', size: number, fromArtifact: number, artifactExample: string | undefined, c: { covered: number; total: number; example: string | undefined }): string[] {
  if (size === 0 || c.total === 0 || c.covered > 0 || artifactExample === undefined) return [];
  return [
    `the artifact's ${fromArtifact} ${kind} vector${fromArtifact === 1 ? ' is' : 's are'} for none of the slice's ${c.total} ${kind}s (the artifact has ids like "${shownName(artifactExample)}", the slice's ${kind}s.jsonl ids like "${shownName(c.example ?? '')}"), so every score is 0 and the recorded order is served: use the artifact made for this slice, or write its "${kind}s" keys as the slice's ids`,
  ];
}

/**
 * Vectors by id, packed: one Float64Array of `dim` numbers per id, in the order ids were added
 * (a million ids each with an array of its own took 2.7 s to build and ~100 bytes apiece more).
 */
class VectorTable {
  private readonly index = new Map<string, number>();
  private data: Float64Array;

  constructor(readonly dim: number) {
    // Grown as vectors come: a huge "dim" is found wrong by its first vector, not by a failed allocation.
    this.data = new Float64Array(0);
  }

  /** A table of vectors packed already (ids in order, `dim` numbers each), indexed in slices of work. */
  static *packed(dim: number, ids: readonly string[], data: Float64Array): Steps<VectorTable> {
    const t = new VectorTable(dim);
    t.data = data;
    for (let i = 0; i < ids.length; i++) {
      if (i % RECORDS_PER_STEP === RECORDS_PER_STEP - 1) yield;
      t.index.set(ids[i] as string, i);
    }
    return t;
  }

  get size(): number {
    return this.index.size;
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  /** The first id added, if any (an example for a message). */
  firstId(): string | undefined {
    for (const id of this.index.keys()) return id;
    return undefined;
  }

  /** Offset of the id's vector in `values`, or -1. */
  offsetOf(id: string): number {
    const i = this.index.get(id);
    return i === undefined ? -1 : i * this.dim;
  }

  get values(): Float64Array {
    return this.data;
  }

  /** Adds a vector (numbers already checked) for an id not there yet. */
  add(id: string, v: ArrayLike<number>): void {
    const at = this.index.size * this.dim;
    if (at + this.dim > this.data.length) {
      const grown = new Float64Array(Math.max(this.data.length * 2, at + this.dim, 64 * Math.min(this.dim, 64)));
      grown.set(this.data);
      this.data = grown;
    }
    for (let d = 0; d < this.dim; d++) this.data[at + d] = v[d] as number;
    this.index.set(id, this.index.size);
  }
}

/** The artifact's `field` (users or items) into `out`, in slices of work. */
function* vectors(path: string, field: string, raw: unknown, out: VectorTable): Steps<void> {
  if (raw === undefined) return;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw shapeError(path, field, `"${field}" must be an object of id → vector`);
  const dim = out.dim;
  let n = 0;
  // for…in, not Object.entries: no array of a million pairs made first. (A JSON object has no inherited enumerable keys.)
  for (const id in raw) {
    if (++n % RECORDS_PER_STEP === 0) yield;
    const v = (raw as Record<string, unknown>)[id];
    const problem = vectorProblem(v, dim);
    if (problem !== undefined) {
      // What is wrong with it, as for a slice's vector: "must hold 768 finite numbers" did not say which of 768 was null, nor that every vector had 384.
      throw shapeError(path, `${field}.${shownName(id)}`, `vector must hold ${dim} finite numbers, but ${problem}`, `Every vector has length "dim" (${dim}) and holds numbers only (NaN written as null is not one): fix the vector, leave the id out, or set "dim" to the vectors' length.`);
    }
    out.add(id, v as number[]);
  }
}

/** What keeps `v` from being a vector of `dim` finite numbers, or undefined when it is one. */
function vectorProblem(v: unknown, dim: number): string | undefined {
  if (!Array.isArray(v)) return `it is ${shown(v)}, not an array`;
  if (v.length !== dim) return `it has ${v.length}`;
  for (let d = 0; d < dim; d++) {
    const x: unknown = v[d];
    if (typeof x !== 'number' || !Number.isFinite(x)) return `it holds ${shown(x)} at [${d}]`;
  }
  return undefined;
}

/**
 * The `embedding` of a slice record as a vector of `dim`; undefined when it has none (null or
 * absent: the cold-start case). Anything else that is not `dim` finite numbers is an error naming
 * the file, line, id and the expected dimension, rather than NaN scores or a silently unused vector.
 */
function sliceVector(slice: Slice, file: 'items.jsonl' | 'users.jsonl', rec: ItemRecord | UserRecord, dim: number, indexOf: () => number | undefined): Float64Array | undefined {
  const v: unknown = rec.embedding;
  if (v === undefined || v === null) return undefined;
  const kind = file === 'items.jsonl' ? 'item' : 'user';
  const fail = (field: string, problem: string): never => {
    let line: number | undefined;
    try {
      const i = indexOf();
      line = i === undefined ? undefined : recordLine(readFileSync(join(slice.dir, file)), i);
    } catch {
      // The file went away meanwhile: the error still names it and the id.
    }
    throw new UserError(
      `embedding of ${kind} ${JSON.stringify(rec.id)} ${problem}; the embedding ranker's dim is ${dim}`,
      { file: join(slice.dir, file), ...(line !== undefined ? { line } : {}), field },
      `Every ${kind} embedding used must hold ${dim} finite numbers: fix it, give the ${kind}'s vector in the artifact's "${kind}s" (the artifact's vector is used first), or use an artifact whose "dim" matches the slice.`,
    );
  };
  if (!Array.isArray(v)) fail('embedding', `must be an array of numbers, got ${shown(v)}`);
  const arr = v as unknown[];
  if (arr.length !== dim) fail('embedding', `has ${arr.length} values`);
  const out = new Float64Array(dim);
  for (let d = 0; d < dim; d++) {
    const x = arr[d];
    if (typeof x !== 'number' || !Number.isFinite(x)) fail(`embedding[${d}]`, `holds ${shown(x)} at [${d}], not a finite number`);
    out[d] = x as number;
  }
  return out;
}

/**
 * Dot product of user and item vectors. Vectors come from the artifact
 * ({"dim", "users": {id: [...]}, "items": {id: [...]}}), else from the slice's users.jsonl /
 * items.jsonl `embedding` fields (checked against "dim" when taken). A candidate without a
 * vector scores 0 — the cold-start symptom the debugger shows.
 */
export class EmbeddingRanker implements Ranker {
  readonly info: RankerInfo;
  readonly warnings: readonly string[];
  private readonly dim: number;
  private readonly users: VectorTable;
  private readonly items: VectorTable;

  private constructor(info: RankerInfo, warnings: readonly string[], users: VectorTable, items: VectorTable) {
    this.info = info;
    this.warnings = warnings;
    this.dim = users.dim;
    this.users = users;
    this.items = items;
  }

  /** Loads the artifact (and the slice's vectors it lacks) at once. */
  static load(path: string, slice?: Slice): EmbeddingRanker {
    return runSteps(EmbeddingRanker.loadSteps(path, slice));
  }

  /**
   * Loads in slices of work (see steps.ts): over a million items and users, the vectors of the
   * artifact and of the slice took ~8 s in one piece. (Parsing the artifact's JSON is one piece.)
   */
  static *loadSteps(path: string, slice?: Slice): Steps<EmbeddingRanker> {
    const { value: a, sha256, text } = readArtifact(path, 'embedding');
    yield;
    const dim = a['dim'];
    if (dim === undefined) {
      // A linear model's artifact given as embedding:PATH is the likely mistake, not a forgotten "dim".
      const linear = Object.hasOwn(a, 'weights') && !Object.hasOwn(a, 'users') && !Object.hasOwn(a, 'items');
      throw shapeError(path, 'dim', 'embedding artifact needs "dim", the length of its vectors', linear ? 'This artifact has "weights": it is a linear model\'s, so give it as linear:PATH.' : 'Write it beside the vectors, e.g. {"dim": 16, "users": {"u1": [...]}, "items": {"i1": [...]}}.');
    }
    if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1) {
      throw shapeError(path, 'dim', `"dim" must be a positive integer, got ${shown(dim)}`, 'Write the length of the vectors, e.g. "dim": 16.');
    }
    const users = new VectorTable(dim);
    const items = new VectorTable(dim);
    yield* vectors(path, 'users', a['users'], users);
    yield* vectors(path, 'items', a['items'], items);
    yield;
    const repeats = repeatedIds(text, users.size + items.size, repeatedKeys, REPEATS_COLLECTED);
    return yield* EmbeddingRanker.finish(path, sha256, Object.keys(a), artifactVersion(a['version']), users, items, repeats, slice);
  }

  /**
   * Loads with the artifact read, hashed, parsed and packed on a thread of its own (embeddingThread.ts),
   * the rest a slice of work per pause of `runner`; an artifact the thread does not take (anything
   * but a well-formed one) is loaded as loadSteps does, for its very error.
   */
  static async loadAsync(path: string, slice: Slice | undefined, runner?: StepRunner): Promise<EmbeddingRanker> {
    // A small artifact costs less to read here (a slice of work per pause) than a thread costs to start.
    if (checkArtifactFile(path, 'embedding') < artifactThreads.from) return runStepsAsync(EmbeddingRanker.loadSteps(path, slice), runner);
    const p = await packArtifact(path);
    if (runner?.cancelled?.()) throw new StepsCancelled();
    if (!p) return runStepsAsync(EmbeddingRanker.loadSteps(path, slice), runner);
    return runStepsAsync(
      (function* () {
        const users = yield* VectorTable.packed(p.dim, p.users.ids, p.users.data);
        const items = yield* VectorTable.packed(p.dim, p.items.ids, p.items.data);
        return yield* EmbeddingRanker.finish(path, p.sha256, p.keys, artifactVersion(p.version), users, items, p.repeats, slice);
      })(),
      runner,
    );
  }

  /** The slice's vectors the artifact lacks, the warnings, the ranker. */
  private static *finish(path: string, sha256: string, keys: readonly string[], version: string | undefined, users: VectorTable, items: VectorTable, repeats: readonly { field: string; line: number }[], slice?: Slice): Steps<EmbeddingRanker> {
    const dim = users.dim;
    // How many of the slice's users and items have a vector (artifact or slice), for the warning below.
    const coverage = { users: { covered: 0, total: 0, example: undefined as string | undefined }, items: { covered: 0, total: 0, example: undefined as string | undefined } };
    const artifactIds = { users: users.size, items: items.size, user: users.firstId(), item: items.firstId() };
    if (slice) {
      // Only vectors the artifact lacks are read: a slice is immutable, so its embeddings of another
      // model (another dim) must not stop a replay with an artifact that covers every id.
      // The records the replay uses: a repeated id keeps its first record (docs/slice-format.md), so a
      // later one's vector is never read — as it is never read anywhere else.
      let n = 0;
      for (const u of slice.userById.values()) {
        if (++n % RECORDS_PER_STEP === 0) yield;
        if (users.has(u.id)) {
          if (coverage.users.covered++ === 0) coverage.users.example = u.id;
        } else {
          const v = sliceVector(slice, 'users.jsonl', u, dim, () => slice.userById.indexOf(u.id));
          if (v) {
            users.add(u.id, v);
            coverage.users.covered++;
          } else if (coverage.users.example === undefined) coverage.users.example = u.id;
        }
        coverage.users.total++;
      }
      for (const it of slice.itemById.values()) {
        if (++n % RECORDS_PER_STEP === 0) yield;
        if (items.has(it.id)) {
          if (coverage.items.covered++ === 0) coverage.items.example = it.id;
        } else {
          const v = sliceVector(slice, 'items.jsonl', it, dim, () => slice.items.indexOf(it));
          if (v) {
            items.add(it.id, v);
            coverage.items.covered++;
          } else if (coverage.items.example === undefined) coverage.items.example = it.id;
        }
        coverage.items.total++;
      }
    }
    // No user (or no item) vector at all: every score is 0 and the replay serves the recorded order,
    // which reads as a working model (the same result as the recorded ranker) rather than as none.
    const missing = [users.size === 0 ? 'user' : '', items.size === 0 ? 'item' : ''].filter(Boolean);
    const warnings = [
      ...repeatWarnings(repeats, REPEATS_COLLECTED),
      ...unknownKeys(keys),
      ...(slice && missing.length
        ? [`no ${missing.join(' and no ')} vectors — neither in the artifact's "${missing.map((m) => `${m}s`).join('"/"')}" nor as "embedding" in the slice's ${missing.map((m) => `${m}s.jsonl`).join('/')} — so every score is 0 and the recorded order is served`]
        : []),
      // Vectors there are, but for none of the slice's ids (another pseudonymisation, another slice's
      // artifact): every score was 0 and the recorded order served, without a word.
      ...(slice ? foreignIds('user', users.size, artifactIds.users, artifactIds.user, coverage.users) : []),
      ...(slice ? foreignIds('item', items.size, artifactIds.items, artifactIds.item, coverage.items) : []),
    ].map((w) => `embedding ranker ${path}: ${w}`);
    return new EmbeddingRanker({ kind: 'embedding', artifact: path, artifactSha256: sha256, ...(version ? { version } : {}) }, warnings, users, items);
  }

  score(req: ScoreRequest): Float64Array {
    const out = new Float64Array(req.rows.length);
    const uo = this.users.offsetOf(req.event.user);
    if (uo < 0) return out;
    const u = this.users.values;
    const v = this.items.values;
    const dim = this.dim;
    for (let i = 0; i < req.rows.length; i++) {
      const io = this.items.offsetOf((req.rows[i] as { item: string }).item);
      if (io < 0) continue;
      let s = 0;
      for (let d = 0; d < dim; d++) s += (u[uo + d] as number) * (v[io + d] as number);
      out[i] = s;
    }
    return out;
  }
}
