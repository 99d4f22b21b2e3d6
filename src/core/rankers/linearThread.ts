import { packOnThread } from './packThread';
import { repeatedKeys } from '../slice/manifest';
import { MAX_REPEATS } from './artifacts';

/**
 * A linear artifact read on a thread of its own, as an embedding artifact is (embeddingThread.ts):
 * reading, hashing, JSON.parse and the repeated-key scan of a hashed-feature model of a million
 * weights (~20 MB) held the thread that asked ~3.5 s, and in the editor that is the extension host's.
 * Handed back cheaply: the weights as one Float64Array (moved, not copied) and the names as one
 * string with their end offsets (a million names as an array of strings took ~0.3 s of the caller's
 * thread to receive, one string ~10 ms). Only a well-formed artifact comes back: for anything the
 * synchronous loader refuses (not UTF-8, not JSON, a weight that is no finite number, a "bias" or
 * "sigmoid" of the wrong type…) it says "fallback" and the caller reads the file itself, for the
 * very error — the thread never words an error of its own.
 */
export interface PackedLinear {
  sha256: string;
  /** The artifact's top-level keys, in order (for the unknown-key warnings). */
  keys: string[];
  /** Its "version", as written (a string or a number; anything else is left out). */
  version: unknown;
  /** Its "bias" and "sigmoid", checked (undefined: the key is left out). */
  bias: number | undefined;
  sigmoid: boolean | undefined;
  /** Every weight's name, one after another; the i-th is names.slice(ends[i - 1] ?? 0, ends[i]). */
  names: string;
  ends: Uint32Array;
  /** The weights, in the weights object's key order. */
  weights: Float64Array;
  /** The first MAX_REPEATS keys (as many as the warnings list) written twice in one object (repeatedKeys), and how many there are. */
  repeats: { field: string; line: number }[];
  repeatCount: number;
}

// Our own code, passed as source text so every bundle (CLI, adapter, extension host) can start it
// without shipping a second file. It never sees user input as code. (`__name` is what the test
// runner's transpiler wraps named functions in.)
const SOURCE = `
var __name = (f) => f;
const repeatedKeys = (${repeatedKeys.toString()});
const { workerData, parentPort } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { isUtf8 } = require('node:buffer');
const plain = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
function run() {
  const bytes = readFileSync(workerData.path);
  if (!isUtf8(bytes)) return undefined;
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return undefined;
  let a;
  try { a = JSON.parse(text); } catch { return undefined; }
  if (!plain(a) || !plain(a.weights)) return undefined;
  const bias = a.bias;
  if (bias !== undefined && (typeof bias !== 'number' || !Number.isFinite(bias))) return undefined;
  const sigmoid = a.sigmoid;
  if (sigmoid !== undefined && typeof sigmoid !== 'boolean') return undefined;
  const list = Object.keys(a.weights);
  const weights = new Float64Array(list.length);
  const ends = new Uint32Array(list.length);
  let end = 0;
  for (let i = 0; i < list.length; i++) {
    const w = a.weights[list[i]];
    if (typeof w !== 'number' || !Number.isFinite(w)) return undefined;
    weights[i] = w;
    end += list[i].length;
    ends[i] = end;
  }
  const names = list.join('');
  const keys = Object.keys(a);
  const version = typeof a.version === 'string' || typeof a.version === 'number' ? a.version : undefined;
  a = undefined;
  const repeats = repeatedKeys(text, Infinity);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), keys, version, bias, sigmoid, names, ends, weights, repeats: repeats.slice(0, ${MAX_REPEATS}), repeatCount: repeats.length };
}
let out;
try { out = run(); } catch { out = undefined; }
if (out) parentPort.postMessage(out, [out.weights.buffer, out.ends.buffer]);
else parentPort.postMessage('fallback');
`;

/** The linear artifact at `path`, read on a thread of its own; undefined when the caller must read it itself (see above). */
export function packLinear(path: string): Promise<PackedLinear | undefined> {
  return packOnThread<PackedLinear>(SOURCE, path);
}
