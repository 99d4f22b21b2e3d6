import { UserError } from '../errors';
import { TOOL_NAME, TOOL_VERSION } from '../version';
import { validateManifest } from './manifest';
import { SLICE_FORMAT, type FeatureType, type FileEntry, type SliceManifest } from './types';

/** The manifest a caller gives writeSlice: what the writer computes or defaults is left out or optional. */
export type ManifestInput = Omit<SliceManifest, 'format' | 'files' | 'frozenAt' | 'clock' | 'schema' | 'redaction' | 'faults' | 'versions'> &
  Partial<Pick<SliceManifest, 'schema' | 'redaction' | 'faults' | 'versions'>> & {
    /** Default: the first event's time, in UTC; either part may be given alone. */
    clock?: Partial<SliceManifest['clock']>;
  };

/** A schema with no feature typed yet. */
export function emptySchema(): SliceManifest['schema'] {
  return { user: {}, item: {}, context: {}, candidate: {} };
}

function inferType(v: unknown): FeatureType | undefined {
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  return undefined;
}

/** Types the features of one record into `schema` (as inferred for a manifest that gives none). */
export function noteFeatureTypes(schema: Record<string, FeatureType>, features: Record<string, unknown> | undefined): void {
  if (!features) return;
  for (const k in features) {
    // A feature that is not always a number is not typed one: the reader refuses a string where the
    // schema says "number", so typing it by its first value could write a slice that does not open.
    // Own entries only: a feature named "constructor" or "toString" is a feature like any other.
    const was = Object.hasOwn(schema, k) ? schema[k] : undefined;
    if (was === undefined || was === 'number') {
      const t = inferType(features[k]);
      // defineProperty: "__proto__" is a feature name like any other, not the object's prototype.
      if (t) Object.defineProperty(schema, k, { value: t, enumerable: true, writable: true, configurable: true });
    }
  }
}

/** A valid freeze time and clock start, standing in for what is checked separately or known only later. */
const SOME_TIME = '1970-01-01T00:00:00Z';

/** The manifest as written: the caller's, with what the writer computed and fills in. */
export function assemble(m: ManifestInput, frozenAt: string, firstT: string | undefined, inferred: SliceManifest['schema'], files: FileEntry[]): SliceManifest {
  return {
    format: SLICE_FORMAT,
    ...m,
    frozenAt,
    // The first event's time unless given (a window may start earlier, never later).
    clock: { start: m.clock?.start ?? firstT ?? frozenAt, timezone: m.clock?.timezone ?? 'UTC' },
    versions: { code: { name: TOOL_NAME, version: TOOL_VERSION }, ...(m.versions ?? {}) },
    schema: m.schema ?? inferred,
    files,
    redaction: m.redaction ?? { identifiers: 'as recorded', dropped: [] },
    faults: m.faults ?? [],
  };
}

const INVALID = 'manifest is invalid — ';

/**
 * validateManifest, with its errors said about what the caller gave — the `frozenAt` option or a
 * field of the manifest it passed — rather than a slice.json that is not written yet.
 */
export function validateInput(manifest: SliceManifest, about: 'frozenAt' | 'manifest'): void {
  try {
    validateManifest(manifest, 'slice.json');
  } catch (e) {
    if (!(e instanceof UserError) || !e.message.startsWith(INVALID)) throw e;
    const rest = e.message.slice(INVALID.length);
    const field = e.where.field ?? '(root)';
    // A timestamp's hint (add a timezone) stands; the general one spoke of editing slice.json.
    const general = e.hint === undefined || e.hint.includes('slice.json');
    if (about === 'frozenAt') {
      throw new UserError(`the frozenAt option ${rest.replace(/^frozenAt:? /, '')}`, { field: 'frozenAt' }, general ? 'Pass the time of the freeze as an RFC 3339 timestamp with a timezone, e.g. 2025-07-21T09:12:03Z.' : e.hint, e.code);
    }
    const name = field === '(root)' ? 'manifest' : `manifest.${field}`;
    throw new UserError(`the manifest given to writeSlice is invalid — ${rest}`, { field: name }, general ? `Fix ${name} in what you pass to writeSlice (see docs/slice-format.md); nothing was written.` : e.hint, e.code);
  }
}

/**
 * Checks what can be checked of the manifest before a single event is read: the frozenAt option,
 * then the caller's manifest with stand-ins for what the writer computes (files, schema, clock start).
 */
export function checkManifestInput(m: ManifestInput, frozenAt: string): void {
  const bad = notJson(m);
  if (bad !== undefined) {
    const name = bad.path ? `manifest.${bad.path}` : 'manifest';
    throw new UserError(`the manifest given to writeSlice is invalid — ${name} is ${bad.what}, which JSON cannot hold (slice.json would read ${bad.reads})`, { field: name }, `Give ${name} a finite number, a string, a boolean, null, an array or an object (see docs/slice-format.md); nothing was written.`);
  }
  const good: ManifestInput = { name: 'x', description: 'x', source: { kind: 'logs' }, seed: 0, clock: { start: SOME_TIME } };
  const files = (): FileEntry[] => [{ path: 'events.jsonl', sha256: '0'.repeat(64), bytes: 0, records: 0 }];
  validateInput(assemble(good, frozenAt, undefined, emptySchema(), files()), 'frozenAt');
  validateInput(assemble(m, SOME_TIME, undefined, emptySchema(), files()), 'manifest');
}

/**
 * The first value of the caller's manifest that JSON cannot hold as it is — a number that is not
 * finite (JSON.stringify writes null: {"budgetMs": Infinity} made a slice that never opened), a
 * BigInt (JSON.stringify throws, after every event was read), a function or a symbol (left out
 * silently) — with its path; undefined when there is none. Walked without recursion.
 */
export function notJson(value: unknown): { path: string; what: string; reads: string } | undefined {
  const stack: { v: unknown; path: string }[] = [{ v: value, path: '' }];
  const seen = new Set<object>();
  while (stack.length) {
    const { v, path } = stack.pop() as { v: unknown; path: string };
    if (typeof v === 'number' && !Number.isFinite(v)) return { path, what: String(v), reads: 'null' };
    if (typeof v === 'bigint') return { path, what: `a BigInt (${v}n)`, reads: 'nothing: the write fails' };
    if (typeof v === 'function' || typeof v === 'symbol') return { path, what: `a ${typeof v}`, reads: 'it as absent, or null in a list' };
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    // (A value met twice is checked once; a cycle is JSON.stringify's to refuse.)
    seen.add(v);
    // A Date, a Buffer: what toJSON gives is what is written.
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function') continue;
    // Pushed last first: the first bad value in the order of the text is the one named.
    const kids = Array.isArray(v) ? v.map((x, i) => ({ v: x as unknown, path: `${path}[${i}]` })) : Object.entries(v).map(([k, x]) => ({ v: x as unknown, path: path ? `${path}.${k}` : k }));
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i] as { v: unknown; path: string });
  }
  return undefined;
}
