import { packOnThread } from './packThread';
import { repeatedKeys } from '../slice/manifest';

/**
 * An embedding artifact read on a thread of its own: reading, hashing and JSON.parse of a 150 MB
 * artifact took ~2 s of the thread that asked, and in the editor that is the extension host's.
 * The thread packs every vector into one Float64Array per side (handed over, not copied) with its
 * ids in order. Only a well-formed artifact comes back packed: for anything else (not UTF-8, not
 * JSON, a vector of the wrong length…) it says "fallback" and the caller reads the file itself,
 * for the very error the synchronous loader gives — the thread never words an error of its own.
 */
export interface PackedArtifact {
  sha256: string;
  dim: number;
  /** The artifact's top-level keys, in order (for the unknown-key warnings). */
  keys: string[];
  /** Its "version", as written (a string or a number; anything else is left out by the caller). */
  version: unknown;
  users: { ids: string[]; data: Float64Array };
  items: { ids: string[]; data: Float64Array };
  /** Keys written twice in one object (repeatedIds), at most REPEATS_COLLECTED. */
  repeats: { field: string; line: number }[];
}

/** How many repeated keys repeatedIds collects, at most (an artifact written twice over would list every id). */
export const REPEATS_COLLECTED = 1000;

/**
 * Keys the artifact's text writes twice in one object — an id given two vectors, of which JSON.parse
 * keeps the last without a word. A full scan (manifest.ts repeatedKeys) holds every key of an
 * object, ~50 MB for a million ids, so it runs only when the text has more arrays than the vectors
 * parsed: every vector is one "[", and a repeated id's first vector is one more.
 */
export function repeatedIds(src: string | Buffer, vectors: number, scan: (text: string, max: number) => { field: string; line: number }[], max: number): { field: string; line: number }[] {
  // (Self-contained: the thread makes its own from this source text, so nothing from outside but its arguments.)
  const next = (from: number): number => (typeof src === 'string' ? src.indexOf('[', from) : src.indexOf(0x5b, from));
  let arrays = 0;
  for (let i = next(0); i !== -1 && arrays <= vectors; i = next(i + 1)) arrays++;
  if (arrays <= vectors) return [];
  let text = typeof src === 'string' ? src : src.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return scan(text, max);
}

// Our own code, passed as source text so every bundle (CLI, adapter, extension host) can start it
// without shipping a second file. It never sees user input as code.
// Functions passed as their source text take nothing from outside but their arguments (\`__name\`
// is what the test runner's transpiler wraps named functions in).
const SOURCE = `
var __name = (f) => f;
const repeatedKeys = (${repeatedKeys.toString()});
const repeatedIds = (${repeatedIds.toString()});
const { workerData, parentPort } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { isUtf8 } = require('node:buffer');
function run() {
  const bytes = readFileSync(workerData.path);
  if (!isUtf8(bytes)) return undefined;
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let a;
  try { a = JSON.parse(text); } catch { return undefined; }
  text = undefined;
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return undefined;
  const dim = a.dim;
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1) return undefined;
  const side = (raw) => {
    if (raw === undefined) return { ids: [], data: new Float64Array(0) };
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
    const ids = Object.keys(raw);
    const data = new Float64Array(ids.length * dim);
    for (let i = 0; i < ids.length; i++) {
      const v = raw[ids[i]];
      if (!Array.isArray(v) || v.length !== dim) return undefined;
      for (let d = 0; d < dim; d++) {
        const x = v[d];
        if (typeof x !== 'number' || !Number.isFinite(x)) return undefined;
        data[i * dim + d] = x;
      }
    }
    return { ids, data };
  };
  const users = side(a.users);
  const items = users && side(a.items);
  if (!items) return undefined;
  const repeats = repeatedIds(bytes, users.ids.length + items.ids.length, repeatedKeys, ${REPEATS_COLLECTED});
  return { repeats, sha256: createHash('sha256').update(bytes).digest('hex'), dim, keys: Object.keys(a), version: typeof a.version === 'string' || typeof a.version === 'number' ? a.version : undefined, users, items };
}
let out;
try { out = run(); } catch { out = undefined; }
if (out) parentPort.postMessage(out, [out.users.data.buffer, out.items.data.buffer]);
else parentPort.postMessage('fallback');
`;

/** The artifact at `path`, packed on a thread of its own; undefined when the caller must read it itself (see above). */
export function packArtifact(path: string): Promise<PackedArtifact | undefined> {
  return packOnThread<PackedArtifact>(SOURCE, path);
}
