import { featureReader, type CandidateRow, type FeatureReader } from '../engine/rows';
import { shown, shownName } from '../errors';
import { artifactThreads, checkArtifactFile, readArtifact, repeatWarnings, shapeError } from './artifacts';
import { packLinear } from './linearThread';
import { repeatedKeys } from '../slice/manifest';
import { linearWarnings } from './linearWarnings';
import type { Slice } from '../slice/reader';
import type { FeatureValue } from '../slice/types';
import type { Ranker, RankerInfo, ScoreRequest } from './types';
import { RECORDS_PER_STEP, StepsCancelled, runSteps, runStepsAsync, type StepRunner, type Steps } from '../steps';

/** Where a weight's feature comes from, resolved once when the artifact loads. */
interface Term {
  weight: number;
  /** The reader for every term but plain ones. */
  read?: FeatureReader;
  /** For one-hot weights written `name=value`. */
  equals?: string;
  /**
   * Set for the common case, read inline in the scoring loop: a numeric weight on a candidate
   * feature (the candidate's recorded value, else the item's), with no closure call per value.
   */
  plain?: string;
  /** The feature a one-hot term reads, when it is a candidate's (else item's) feature by its plain name (see byName). */
  base?: string;
  /** The name of a weight read through `read` that is still a candidate's (else item's) feature by that name ("price.eur"). */
  key?: string;
}

/**
 * Whether featureReader reads `name` as a candidate's feature, else the item's, by that very name:
 * no user./context./online. scope, and no name objects inherit (those read own fields only).
 */
function candidateFeature(name: string): boolean {
  const dot = name.indexOf('.');
  const scope = dot > 0 ? name.slice(0, dot) : '';
  if (scope === 'user' || scope === 'context' || scope === 'online') return false;
  return !(name.slice(dot + 1) in Object.prototype || name in Object.prototype);
}

/**
 * The terms of a wide artifact by what a candidate's feature looks them up by: a plain weight by
 * its name, a one-hot term by "name=value". A row's score then costs the features it has, not the
 * weights the artifact has (1,000,000 hashed features were 20,000,000 lookups per event: hours for
 * a slice). The rest (scoped, inherited names) are read for every row, as the plain loop does.
 */
interface ByName {
  plain: Map<string, number>;
  oneHot: Map<string, number>;
  rest: number[];
}

/** Where the weight `w` on `name` comes from (see Term). */
function term(name: string, w: number): Term {
  const eq = name.indexOf('=');
  if (eq > 0) {
    const base = name.slice(0, eq);
    return { weight: w, read: featureReader(base), equals: name.slice(eq + 1), ...(candidateFeature(base) ? { base } : {}) };
  }
  // The fast path reads `features[name]`: a name objects inherit (constructor, toString) goes through featureReader, which reads own fields only.
  if (!name.includes('.') && !(name in Object.prototype)) return { weight: w, plain: name };
  return { weight: w, read: featureReader(name), ...(candidateFeature(name) ? { key: name } : {}) };
}

/** What a LinearRanker is made of, once its artifact is read and checked. */
interface Loaded {
  info: RankerInfo;
  warnings: readonly string[];
  terms: Term[];
  byName: ByName | undefined;
  bias: number;
  sigmoid: boolean;
}

/** An artifact read and checked (on this thread or another), as the parts of a ranker. */
interface Checked {
  sha256: string;
  /** The artifact's top-level keys, in order. */
  keys: readonly string[];
  version: unknown;
  bias: number;
  sigmoid: boolean;
  names: readonly string[];
  terms: Term[];
  /** Keys written twice (repeatedKeys): some of them, and how many there are. */
  repeats: readonly { field: string; line: number }[];
  repeatCount: number;
}

/** The index by name, info and warnings of a checked artifact, in slices of work (the same on both loaders). */
function* assemble(path: string, slice: Slice | undefined, c: Checked): Steps<Loaded> {
  const by = c.terms.length > LinearRanker.wideFrom ? yield* byName(c.terms) : undefined;
  // "version": 12 is as much a version as "12" (it was left out of the run record).
  const v = c.version;
  const version = typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
  const info: RankerInfo = { kind: 'linear', artifact: path, artifactSha256: c.sha256, ...(version ? { version } : {}) };
  // No weight at all: every candidate scores the bias, and ties keep the recorded order (the embedding ranker says so of its vectors).
  const none = c.names.length === 0 ? ['"weights" is empty, so every candidate scores the bias alone and the recorded order is served'] : [];
  const odd = slice ? yield* linearWarnings(c.keys, c.names, slice.manifest.schema) : [];
  const warnings = [...repeatWarnings(c.repeats, Infinity, c.repeatCount), ...none, ...odd].map((w) => `linear ranker ${path}: ${w}`);
  return { info, warnings, terms: c.terms, byName: by, bias: c.bias, sigmoid: c.sigmoid };
}

/**
 * Linear model: score = bias + Σ weight·feature, optionally through a sigmoid. Missing
 * features count as 0, booleans as 0/1; a weight named `name=value` is a one-hot term on a
 * string feature. Artifact: {"weights": {...}, "bias": 0, "sigmoid": false, "name", "version"}.
 */
export class LinearRanker implements Ranker {
  readonly info: RankerInfo;
  readonly warnings: readonly string[];
  private readonly terms: Term[];
  /** Set for an artifact of more than LinearRanker.wideFrom weights: see ByName. */
  private readonly byName: ByName | undefined;
  private readonly bias: number;
  /**
   * From how many weights a row is scored by its own features (ByName) instead of weight by
   * weight. Either way the score is the same double: the same terms are added in the same order.
   */
  static wideFrom = 64;
  /** The rows of a wide artifact are read by their features when the first row of the event has at most 1/wideRowShare as many as there are weights (see fewFeatures). */
  static wideRowShare = 8;
  private readonly sigmoid: boolean;

  /** `slice`, when given, is what the weights are checked against (see warnings). `loaded`: built already (loadAsync). */
  constructor(path: string, slice?: Slice, loaded?: Loaded) {
    if (loaded === undefined) {
      const { value: a, sha256, text } = readArtifact(path, 'linear');
      const weights = a['weights'];
      if (typeof weights !== 'object' || weights === null || Array.isArray(weights)) {
        // An embedding artifact given as linear:PATH is the likely mistake when "weights" is missing.
        const embedding = weights === undefined && (Object.hasOwn(a, 'dim') || Object.hasOwn(a, 'users') || Object.hasOwn(a, 'items'));
        throw shapeError(
          path,
          'weights',
          `linear artifact needs "weights": an object of feature name → number${weights === undefined ? '' : `, got ${shown(weights)}`}`,
          embedding ? 'This artifact has vectors ("dim", "users", "items"): it is an embedding model\'s, so give it as embedding:PATH.' : 'Example: {"weights": {"ctr_7d": 4.0}, "bias": -1}',
        );
      }
      // The names listed once (a million-key object is listed in its key order at a cost, each time).
      const names = Object.keys(weights);
      const terms = names.map((name) => {
        const w = (weights as Record<string, unknown>)[name];
        if (typeof w !== 'number' || !Number.isFinite(w)) {
          throw shapeError(path, `weights.${shownName(name)}`, `weight must be a finite number, got ${shown(w)}`, 'Write every weight as a JSON number, e.g. {"weights": {"ctr_7d": 4.0}}, or leave the feature out.');
        }
        return term(name, w);
      });
      // Only a key left out takes the default: "bias": null (what pandas writes for a NaN) was a bias of 0, without a word.
      const bias = a['bias'] === undefined ? 0 : a['bias'];
      if (typeof bias !== 'number' || !Number.isFinite(bias)) {
        throw shapeError(path, 'bias', `bias must be a finite number, got ${shown(bias)}`, 'Write the bias as a JSON number, e.g. "bias": -1, or leave the key out for a bias of 0.');
      }
      const sig = a['sigmoid'] === undefined ? false : a['sigmoid'];
      if (typeof sig !== 'boolean') throw shapeError(path, 'sigmoid', `"sigmoid" must be true or false, got ${shown(sig)}`, 'Write "sigmoid": true for scores through 1 / (1 + e^-s), or leave the key out for the plain sum.');
      const repeats = repeatedKeys(text, Infinity);
      loaded = runSteps(assemble(path, slice, { sha256, keys: Object.keys(a), version: a['version'], bias, sigmoid: sig, names, terms, repeats, repeatCount: repeats.length }));
    }
    this.info = loaded.info;
    this.warnings = loaded.warnings;
    this.terms = loaded.terms;
    this.byName = loaded.byName;
    this.bias = loaded.bias;
    this.sigmoid = loaded.sigmoid;
  }

  /**
   * Loads with the artifact read, hashed, parsed, scanned and checked on a thread of its own
   * (linearThread.ts), the terms, the index by name and the warnings a slice of work per pause of
   * `runner`; an artifact the thread does not take (anything the constructor refuses) is read here
   * as the constructor reads it, for its very error.
   */
  static async loadAsync(path: string, slice: Slice | undefined, runner?: StepRunner): Promise<LinearRanker> {
    // A small artifact (most are) costs less to read here than a thread costs to start.
    if (checkArtifactFile(path, 'linear') < artifactThreads.from) return new LinearRanker(path, slice);
    const p = await packLinear(path);
    if (runner?.cancelled?.()) throw new StepsCancelled();
    if (!p) return new LinearRanker(path, slice);
    const loaded = await runStepsAsync(
      (function* () {
        const n = p.weights.length;
        const names: string[] = new Array<string>(n);
        const terms: Term[] = new Array<Term>(n);
        for (let i = 0; i < n; i++) {
          if (i % RECORDS_PER_STEP === RECORDS_PER_STEP - 1) yield;
          const name = p.names.slice(i === 0 ? 0 : p.ends[i - 1], p.ends[i]);
          names[i] = name;
          terms[i] = term(name, p.weights[i] as number);
        }
        return yield* assemble(path, slice, { ...p, bias: p.bias ?? 0, sigmoid: p.sigmoid ?? false, names, terms });
      })(),
      runner,
    );
    return new LinearRanker(path, slice, loaded);
  }

  score(req: ScoreRequest): Float64Array {
    const rows = req.rows;
    const out = new Float64Array(rows.length);
    // An event's candidates have much the same features: its first row says how all are read.
    const by = this.byName !== undefined && rows.length > 0 && this.fewFeatures(rows[0] as CandidateRow) ? this.byName : undefined;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as CandidateRow;
      const s = by !== undefined ? this.sumByName(row, req, by) : this.sum(row, req);
      out[i] = this.sigmoid ? 1 / (1 + Math.exp(-s)) : s;
    }
    return out;
  }

  /** bias + Σ weight·feature for one row, weight by weight. */
  private sum(row: CandidateRow, req: ScoreRequest): number {
    const terms = this.terms;
    let s = this.bias;
    const own = row.rec.features;
    // Terms in the weights object's key order (integer-like names first, then as written: what
    // JSON.parse keeps), the same on every path, so the sum is the same double whichever path reads a value.
    for (let j = 0; j < terms.length; j++) {
      const t = terms[j] as Term;
      let v;
      if (t.plain !== undefined) {
        // Same resolution as featureReader: a value the candidate records (even null) wins.
        v = own !== undefined ? own[t.plain] : undefined;
        // The item record is read only when the candidate lacks the value (it is a cache miss away).
        if (v === undefined) v = row.itemRec?.features?.[t.plain];
      } else {
        v = (t.read as FeatureReader)(row, req);
        if (t.equals !== undefined) {
          if (v !== undefined && v !== null && String(v) === t.equals) s += t.weight;
          continue;
        }
      }
      if (typeof v === 'number') s += t.weight * v;
      else if (v === true) s += t.weight;
    }
    return s;
  }

  /**
   * Whether the rows of a wide artifact are read by their features (sumByName): when this row has
   * few beside the weights. A row with a good share of the weights' features is read weight by
   * weight, which costs less per value (100 weights and 100 features: 31 µs an event, against 83 µs
   * by name; 1,000 weights and 20 features: 930 µs against 190 µs).
   */
  private fewFeatures(row: CandidateRow): boolean {
    const limit = this.terms.length / LinearRanker.wideRowShare;
    let n = 0;
    const own = row.rec.features;
    if (own !== undefined && own !== null) for (const _ in own) if (++n > limit) return false;
    const item = row.itemRec?.features;
    if (item !== undefined && item !== null) for (const _ in item) if (++n > limit) return false;
    return true;
  }

  /** Term places met by the row being read by name, and what each adds (by place); see sumByName. */
  private met = new Int32Array(64);
  private adds: Float64Array | undefined;

  /**
   * bias + Σ weight·feature for one row of a wide artifact: the row's features are looked up among
   * the weights (ByName), the terms they meet collected with their place in the weights, and added
   * in that order — the terms, values and order of sum(), so the same double.
   */
  private sumByName(row: CandidateRow, req: ScoreRequest, by: ByName): number {
    const terms = this.terms;
    const adds = (this.adds ??= new Float64Array(terms.length));
    let count = 0;
    const put = (j: number, v: number) => {
      if (count === this.met.length) {
        const grown = new Int32Array(this.met.length * 2);
        grown.set(this.met);
        this.met = grown;
      }
      this.met[count++] = j;
      adds[j] = v;
    };
    // What a candidate-or-item value adds through the terms named by its feature (plain and one-hot).
    const meet = (k: string, v: FeatureValue) => {
      const j = by.plain.get(k);
      if (j !== undefined) {
        const w = (terms[j] as Term).weight;
        if (typeof v === 'number') put(j, w * v);
        else if (v === true) put(j, w);
      }
      if (v === null || by.oneHot.size === 0) return;
      const h = by.oneHot.get(`${k}=${String(v)}`);
      // "a=b" valued "c" and "a" valued "b=c" read alike: the term's own feature decides.
      if (h !== undefined && (terms[h] as Term).base === k) put(h, (terms[h] as Term).weight);
    };
    const own = row.rec.features;
    // A value the candidate records (even null) wins; the item's counts where the candidate has none.
    if (own !== undefined && own !== null) {
      for (const k in own) {
        const v = own[k];
        if (v !== undefined) meet(k, v);
      }
    }
    const item = row.itemRec?.features;
    if (item !== undefined && item !== null) {
      for (const k in item) {
        const v = item[k];
        if (v !== undefined && (own === undefined || own === null || own[k] === undefined)) meet(k, v);
      }
    }
    for (const j of by.rest) {
      const t = terms[j] as Term;
      const v = (t.read as FeatureReader)(row, req);
      if (t.equals !== undefined) {
        if (v !== undefined && v !== null && String(v) === t.equals) put(j, t.weight);
      } else if (typeof v === 'number') put(j, t.weight * v);
      else if (v === true) put(j, t.weight);
    }
    // Each place is met once at most (a name is the candidate's or the item's, one value each): sorted
    // as numbers (a typed array's own sort), they give the order of the weights.
    const places = this.met.subarray(0, count).sort();
    let s = this.bias;
    for (let i = 0; i < count; i++) s += adds[places[i] as number] as number;
    return s;
  }
}

/** The terms of a wide artifact by name (see ByName), in slices of work. */
function* byName(terms: readonly Term[]): Steps<ByName> {
  const by: ByName = { plain: new Map(), oneHot: new Map(), rest: [] };
  for (let j = 0; j < terms.length; j++) {
    if (j % RECORDS_PER_STEP === RECORDS_PER_STEP - 1) yield;
    const t = terms[j] as Term;
    const name = t.plain ?? t.key;
    if (name !== undefined) by.plain.set(name, j);
    else if (t.base !== undefined) by.oneHot.set(`${t.base}=${t.equals as string}`, j);
    else by.rest.push(j);
  }
  return by;
}
