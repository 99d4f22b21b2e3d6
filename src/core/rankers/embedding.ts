import type { Slice } from '../slice/reader';
import { readArtifact, shapeError } from './artifacts';
import type { Ranker, RankerInfo, ScoreRequest } from './types';

function vectors(path: string, field: string, raw: unknown, dim: number): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  if (raw === undefined) return out;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw shapeError(path, field, `"${field}" must be an object of id → vector`);
  for (const [id, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!Array.isArray(v) || v.length !== dim || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      throw shapeError(path, `${field}.${id}`, `vector must hold ${dim} finite numbers`, `Every vector has length "dim" (${dim}).`);
    }
    out.set(id, Float64Array.from(v as number[]));
  }
  return out;
}

/**
 * Dot product of user and item vectors. Vectors come from the artifact
 * ({"dim", "users": {id: [...]}, "items": {id: [...]}}), else from the slice's users.jsonl /
 * items.jsonl `embedding` fields. A candidate without a vector scores 0 — the cold-start
 * symptom the debugger shows.
 */
export class EmbeddingRanker implements Ranker {
  readonly info: RankerInfo;
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
    for (const u of slice?.users ?? []) if (!this.users.has(u.id) && u.embedding?.length === dim) this.users.set(u.id, Float64Array.from(u.embedding));
    for (const it of slice?.items ?? []) if (!this.items.has(it.id) && it.embedding?.length === dim) this.items.set(it.id, Float64Array.from(it.embedding));
    this.info = { kind: 'embedding', artifact: path, artifactSha256: sha256 };
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
