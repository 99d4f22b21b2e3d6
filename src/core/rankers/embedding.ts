import { join } from 'node:path';
import { UserError, shown, shownName } from '../errors';
import { suggest } from '../expr/suggest';
import { readFileSync } from 'node:fs';
import { recordLineOf } from '../slice/events';
import type { Slice } from '../slice/reader';
import type { ItemRecord, UserRecord } from '../slice/types';
import { readArtifact, shapeError } from './artifacts';
import type { Ranker, RankerInfo, ScoreRequest } from './types';

/** The keys an embedding artifact may have; any other is reported (a misspelt "itms" left every item without a vector). */
const ARTIFACT_KEYS = ['format', 'name', 'version', 'dim', 'users', 'items'];

/** The artifact's top-level keys the ranker does not read, as warnings (as the linear ranker's). */
function unknownKeys(a: Record<string, unknown>): string[] {
  return Object.keys(a)
    .filter((k) => !ARTIFACT_KEYS.includes(k))
    .map((k) => {
      const near = suggest(k, ARTIFACT_KEYS);
      return `the artifact's key "${shownName(k)}" is not one the embedding ranker reads, and is ignored${near === undefined ? '' : `; did you mean "${near}"?`}`;
    });
}

function vectors(path: string, field: string, raw: unknown, dim: number): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  if (raw === undefined) return out;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw shapeError(path, field, `"${field}" must be an object of id → vector`);
  for (const [id, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!Array.isArray(v) || v.length !== dim || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      throw shapeError(path, `${field}.${shownName(id)}`, `vector must hold ${dim} finite numbers`, `Every vector has length "dim" (${dim}).`);
    }
    out.set(id, Float64Array.from(v as number[]));
  }
  return out;
}

/**
 * The `embedding` of a slice record as a vector of `dim`; undefined when it has none (null or
 * absent: the cold-start case). Anything else that is not `dim` finite numbers is an error naming
 * the file, line, id and the expected dimension, rather than NaN scores or a silently unused vector.
 */
function sliceVector(slice: Slice, file: 'items.jsonl' | 'users.jsonl', rec: ItemRecord | UserRecord, dim: number): Float64Array | undefined {
  const v: unknown = rec.embedding;
  if (v === undefined || v === null) return undefined;
  const kind = file === 'items.jsonl' ? 'item' : 'user';
  const fail = (field: string, problem: string): never => {
    let line: number | undefined;
    try {
      line = recordLineOf(readFileSync(join(slice.dir, file), 'utf8'), rec.id);
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
  private readonly users: Map<string, Float64Array>;
  private readonly items: Map<string, Float64Array>;

  constructor(path: string, slice?: Slice) {
    const { value: a, sha256 } = readArtifact(path, 'embedding');
    const dim = a['dim'];
    if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1) throw shapeError(path, 'dim', '"dim" must be a positive integer');
    this.dim = dim;
    this.users = vectors(path, 'users', a['users'], dim);
    this.items = vectors(path, 'items', a['items'], dim);
    if (slice) {
      // Only vectors the artifact lacks are read: a slice is immutable, so its embeddings of another
      // model (another dim) must not stop a replay with an artifact that covers every id.
      // The records the replay uses: a repeated id keeps its first record (docs/slice-format.md), so a
      // later one's vector is never read — as it is never read anywhere else.
      for (const u of slice.userById.values()) {
        const v = this.users.has(u.id) ? undefined : sliceVector(slice, 'users.jsonl', u, dim);
        if (v) this.users.set(u.id, v);
      }
      for (const it of slice.itemById.values()) {
        const v = this.items.has(it.id) ? undefined : sliceVector(slice, 'items.jsonl', it, dim);
        if (v) this.items.set(it.id, v);
      }
    }
    this.info = { kind: 'embedding', artifact: path, artifactSha256: sha256 };
    // No user (or no item) vector at all: every score is 0 and the replay serves the recorded order,
    // which reads as a working model (the same result as the recorded ranker) rather than as none.
    const missing = [this.users.size === 0 ? 'user' : '', this.items.size === 0 ? 'item' : ''].filter(Boolean);
    this.warnings = [
      ...unknownKeys(a),
      ...(slice && missing.length
        ? [`no ${missing.join(' and no ')} vectors — neither in the artifact's "${missing.map((m) => `${m}s`).join('"/"')}" nor as "embedding" in the slice's ${missing.map((m) => `${m}s.jsonl`).join('/')} — so every score is 0 and the recorded order is served`]
        : []),
    ].map((w) => `embedding ranker ${path}: ${w}`);
  }

  score(req: ScoreRequest): Float64Array {
    const out = new Float64Array(req.rows.length);
    const u = this.users.get(req.event.user);
    if (!u) return out;
    req.rows.forEach((r, i) => {
      const v = this.items.get(r.item);
      if (!v) return;
      let s = 0;
      for (let d = 0; d < this.dim; d++) s += (u[d] ?? 0) * (v[d] ?? 0);
      out[i] = s;
    });
    return out;
  }
}
