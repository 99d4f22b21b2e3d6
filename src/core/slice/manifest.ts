import { UserError, shown, shownName } from '../errors';
import { instantHint, parseInstant } from '../time';
import { suggest } from '../expr/suggest';
// The schema's validator, compiled ahead of time from manifestSchema.ts (`npm run schema`).
import validateSchema from './manifestValidator';
import { MANIFEST_SCHEMA, SHA256_PATTERN, TIMESTAMP_PATTERN } from './manifestSchema';
import { isAbsolute, normalize, posix, resolve, relative, sep } from 'node:path';
import type { ErrorObject } from 'ajv';
import type { SliceManifest } from './types';

/** Validates a parsed manifest; the error names the field and what was expected. */
export function validateManifest(value: unknown, file: string): SliceManifest {
  const deep = tooDeep(value, MAX_MANIFEST_DEPTH);
  if (deep !== undefined) {
    // Named by its top-level field (the path down to it is the same index or key, dozens of times).
    const field = /^[^.[]*/.exec(deep)?.[0] || deep;
    throw new UserError(`manifest is invalid — it holds a value nested more than ${MAX_MANIFEST_DEPTH} levels deep`, { file, field }, 'No field of the format nests that deep: remove that field, or re-freeze the slice.');
  }
  if (!validateSchema(value)) {
    const errs = validateSchema.errors ?? [];
    const first = errs[0];
    const field = first ? describePath(first.instancePath, first.params) : '(root)';
    const lines = errs.slice(0, 5).map((e) => `${describePath(e.instancePath, e.params)}: ${explain(e, value)}`);
    // A timestamp gets the hint an event's "t" gets (a missing timezone is the usual mistake).
    const hint = first?.keyword === 'pattern' && first.params['pattern'] === TIMESTAMP_PATTERN ? instantHint(valueAt(value, first.instancePath)) : 'Fix the field in slice.json (see docs/slice-format.md), or re-freeze the slice.';
    throw new UserError(`manifest is invalid — ${lines.join('; ')}`, { file, field }, hint);
  }
  const m = value as unknown as SliceManifest;
  const seen = new Map<string, number>();
  m.files.forEach((f, i) => {
    checkInside(f.path, file, `files[${i}].path`);
    // "./items.jsonl" is items.jsonl: the reader finds files by their plain name.
    const path = posix.normalize(f.path);
    const before = seen.get(path);
    if (before !== undefined) {
      throw new UserError(`manifest is invalid — files[${i}].path ${shown(f.path)} names the same file as files[${before}].path ${shown(m.files[before]?.path)}`, { file, field: `files[${i}].path` }, 'List each file once; re-freeze the slice.');
    }
    seen.set(path, i);
    f.path = path;
    // Only events.jsonl is read (and checked) in chunks; chunk hashes on another file were checked
    // as if its bytes had changed: the manifest is what is wrong.
    if (f.chunks && path !== 'events.jsonl') {
      throw new UserError(`manifest is invalid — files[${i}].chunks: only events.jsonl is hashed in chunks, not ${shown(f.path)}`, { file, field: `files[${i}].chunks` }, `Remove "chunks" from the entry of ${shown(f.path)} (its "sha256" covers it whole), or re-freeze the slice.`);
    }
    // One hash per chunk, the last one short: fewer would leave bytes no chunk hash covers.
    if (f.chunks) {
      const want = Math.ceil(f.bytes / f.chunks.size);
      if (f.chunks.sha256.length !== want) {
        throw new UserError(
          `manifest is invalid — files[${i}].chunks.sha256 has ${f.chunks.sha256.length} hashes, but ${f.bytes} bytes in chunks of ${f.chunks.size} need ${want}`,
          { file, field: `files[${i}].chunks.sha256` },
          'Re-freeze the slice: its writer computes one hash per chunk.',
        );
      }
    }
  });
  // The schema checks the form of timestamps; a real date (no Feb 30) is checked here.
  const times: [string, string | undefined][] = [
    ['frozenAt', m.frozenAt],
    ['clock.start', m.clock.start],
    ['source.window.from', m.source.window?.from],
    ['source.window.to', m.source.window?.to],
  ];
  for (const [field, t] of times) {
    if (t !== undefined && Number.isNaN(parseInstant(t))) throw new UserError(`manifest is invalid — ${field}: ${shown(t)} is not a valid date and time`, { file, field }, instantHint(t));
  }
  const win = m.source.window;
  if (win?.from !== undefined && win.to !== undefined && parseInstant(win.from) > parseInstant(win.to)) {
    throw new UserError(`manifest is invalid — source.window.from ${shown(win.from)} is after source.window.to ${shown(win.to)}`, { file, field: 'source.window' }, 'Give the window the logs were taken from, its start first; or re-freeze the slice.');
  }
  return m;
}

/**
 * Deepest nesting a manifest may have. The format's own fields go 4 levels down; a value nested
 * thousands of levels deep (an unknown field, kept with a warning) overflowed the stack of every
 * JSON.stringify that showed the manifest (`info --json` crashed).
 */
export const MAX_MANIFEST_DEPTH = 64;

/** The path of the first value nested deeper than `max` in `value` (walked without recursion), or undefined. */
export function tooDeep(value: unknown, max: number): string | undefined {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 0, path: '' }];
  while (stack.length) {
    const { v, depth, path } = stack.pop() as { v: unknown; depth: number; path: string };
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return path || '(root)';
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, depth: depth + 1, path: `${path}[${i}]` }));
    else for (const [k, x] of Object.entries(v)) stack.push({ v: x, depth: depth + 1, path: path ? `${path}.${k}` : k });
  }
  return undefined;
}

/** At most this many unknown fields are named one by one (a manifest could repeat one in every fault). */
const MAX_FIELD_WARNINGS = 10;

/**
 * The fields of a manifest that the format does not define, as warnings: they are not refused (a
 * newer writer may add fields), but they are ignored, so a misspelt optional one — "pipline",
 * "stageBudgetMS" is refused by the schema, "source.windw" is not — would otherwise change the
 * replay silently. Objects whose keys are names (versions, the feature schemas) are left alone.
 */
export function manifestWarnings(value: unknown): string[] {
  const found: string[] = [];
  unknownFields(value, MANIFEST_SCHEMA, [], found);
  const tz = (value as { clock?: { timezone?: unknown } } | null)?.clock?.timezone;
  if (typeof tz === 'string' && !knownTimeZone(tz)) {
    found.push(`slice.json: clock.timezone ${shown(tz)} is not a time zone this machine knows (an IANA name such as "Europe/Berlin", "UTC", or an offset such as "+02:00"); it is shown as written, and a replay does not use it`);
  }
  const out = found.slice(0, MAX_FIELD_WARNINGS);
  if (found.length > MAX_FIELD_WARNINGS) out.push(`and ${found.length - MAX_FIELD_WARNINGS} more fields the format does not know`);
  return out;
}

/**
 * Keys written twice in one object of a JSON text (JSON.parse keeps the last, silently): each
 * repeat's path (`files[0].sha256`) and line. `text` is JSON that parsed; at most `max` of them.
 */
export function repeatedKeys(text: string, max = MAX_FIELD_WARNINGS): { field: string; line: number }[] {
  const out: { field: string; line: number }[] = [];
  const stack: { keys: Set<string> | undefined; path: string; key: string; index: number }[] = [];
  const child = (): string => {
    const top = stack[stack.length - 1];
    if (top === undefined) return '';
    if (top.keys === undefined) return `${top.path}[${top.index}]`;
    return top.path ? `${top.path}.${top.key}` : top.key;
  };
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) line++;
    else if (c === 0x22) {
      let j = i + 1;
      let escaped = false;
      for (; j < text.length && text.charCodeAt(j) !== 0x22; j++) {
        if (text.charCodeAt(j) === 0x5c) {
          escaped = true;
          j++;
        }
      }
      let k = j + 1;
      while (k < text.length && (text[k] === ' ' || text[k] === '\t' || text[k] === '\r' || text[k] === '\n')) k++;
      const top = stack[stack.length - 1];
      if (top?.keys !== undefined && text.charCodeAt(k) === 0x3a) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (top.keys.has(key)) {
          if (out.length < max) out.push({ field: top.path ? `${top.path}.${key}` : key, line });
        } else top.keys.add(key);
        top.key = key;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) stack.push({ keys: c === 0x7b ? new Set() : undefined, path: child(), key: '', index: 0 });
    else if (c === 0x7d || c === 0x5d) stack.pop();
    else if (c === 0x2c) {
      const top = stack[stack.length - 1];
      if (top !== undefined && top.keys === undefined) top.index++;
    }
  }
  return out;
}

/** Whether the zone is an offset (Z, ±HH:MM) or one Intl knows (IANA names and their aliases, "UTC"). */
function knownTimeZone(tz: string): boolean {
  // The usual ones without Intl: its first time zone lookup loads ICU's zone data (~16 ms of every open).
  if (/^(?:[Zz]|UTC|GMT|Etc\/UTC|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/.test(tz)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

interface SchemaNode {
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: unknown;
  readonly items?: SchemaNode;
  readonly [keyword: string]: unknown;
}

function unknownFields(v: unknown, schema: SchemaNode, path: string[], out: string[]): void {
  if (Array.isArray(v)) {
    if (schema.items) v.forEach((x, i) => unknownFields(x, schema.items as SchemaNode, [...path, `[${i}]`], out));
    return;
  }
  if (typeof v !== 'object' || v === null || !schema.properties) return;
  const props = schema.properties;
  const known = Object.keys(props);
  const where = path.length ? path.join('').replace(/^\./, '') : '';
  for (const k of Object.keys(v)) {
    if (Object.hasOwn(props, k)) unknownFields((v as Record<string, unknown>)[k], props[k] as SchemaNode, [...path, `.${shownName(k)}`], out);
    else if (schema.additionalProperties === undefined) {
      const near = suggest(k, known);
      const field = where ? `${where}.${shownName(k)}` : shownName(k);
      out.push(`slice.json: "${field}" is not a field of ${where ? `"${where}"` : 'the manifest'}, so it is ignored${near === undefined ? '' : `; did you mean "${near}"?`}`);
    }
  }
}

/** The segments of a JSON pointer (Ajv's instancePath), unescaped. */
function segments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** A field as the other manifest errors and the events' errors write it: `files[1].chunks.sha256`. */
function describePath(instancePath: string, params: Record<string, unknown>): string {
  const child = params['missingProperty'] ?? params['additionalProperty'];
  const parts = typeof child === 'string' ? [...segments(instancePath), child] : segments(instancePath);
  // A key of the input can be megabytes long: each is cut as shown cuts a value.
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? shownName(p) : `.${shownName(p)}`)).join('') || '(root)';
}

function valueAt(root: unknown, instancePath: string): unknown {
  let v = root;
  for (const s of segments(instancePath)) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[s] : undefined;
  return v;
}

/** What an Ajv error means, in the manifest's terms: the expected value, not the schema's regex. */
function explain(e: ErrorObject, root: unknown): string {
  const got = () => shown(valueAt(root, e.instancePath));
  switch (e.keyword) {
    case 'required':
      return 'is missing';
    case 'const':
      return `must be ${shown(e.params['allowedValue'])}, got ${got()}`;
    case 'enum':
      return `must be one of ${(e.params['allowedValues'] as unknown[]).map(shown).join(', ')}, got ${got()}`;
    case 'pattern':
      if (e.params['pattern'] === TIMESTAMP_PATTERN) return `must be an RFC 3339 timestamp with a timezone (Z or ±HH:MM), got ${got()}`;
      if (e.params['pattern'] === SHA256_PATTERN) return `must be a sha256 (64 lowercase hex digits), got ${got()}`;
      break;
    case 'additionalProperties': {
      // The object's schema (schemaPath ends in /additionalProperties) says which fields it allows.
      let schema: unknown = MANIFEST_SCHEMA;
      for (const s of segments(e.schemaPath.replace(/^#/, '')).slice(0, -1)) schema = (schema as Record<string, unknown> | undefined)?.[s];
      const allowed = Object.keys((schema as { properties?: object } | undefined)?.properties ?? {});
      const key = e.params['additionalProperty'];
      const near = typeof key === 'string' ? suggest(key, allowed) : undefined;
      return `is not a field here${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}${near === undefined ? '' : `; did you mean "${near}"?`}`;
    }
  }
  return e.message ?? 'invalid';
}

/**
 * What makes a path that is fine here a wrong one on Windows, or undefined. A slice opens on every
 * system: on Windows "C:x" is x in the current folder of drive C (outside the slice), "events.jsonl:s"
 * a hidden stream of the file, and "artifacts/con.json" the console, whatever follows the dot.
 */
export function windowsOnlyProblem(path: string): string | undefined {
  if (path.includes(':')) return 'holds a colon: on Windows "C:name" is a file outside the slice folder and "name:x" a hidden stream of a file';
  const device = path.split('/').find((part) => /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i.test(part.trimEnd()));
  if (device !== undefined) return `has a part, ${shown(device)}, that Windows keeps for a device: reading it there reads the device, not a file`;
  return undefined;
}

/**
 * A manifest path must name a file inside the slice folder: relative, no `..` escape, not the
 * folder itself, "/" between folders (a backslash is one on Windows only), no NUL, no colon and no
 * Windows device name (a slice opens on every system). Each refusal
 * says which of these it is (a "." was said to escape the folder, as a NUL or a backslash was).
 */
export function checkInside(path: string, manifestFile: string, field = 'files'): void {
  const refuse = (why: string) => new UserError(`path ${shown(path)} ${why}`, { file: manifestFile, field }, 'A manifest path names a file inside the slice folder, relative to it, with "/" between folders, e.g. "events.jsonl" or "artifacts/ranker.json".');
  if (path.includes('\0')) throw refuse('holds a NUL character, which no file name may');
  if (path.includes('\\')) throw refuse('holds a backslash: a manifest path separates folders with "/" (a backslash separates them on Windows only)');
  const windows = windowsOnlyProblem(path);
  if (windows !== undefined) throw refuse(windows);
  const root = resolve('/slice');
  const rel = relative(root, resolve(root, path));
  if (isAbsolute(path) || normalize(path).split('/').includes('..') || rel.startsWith('..') || rel.split(sep).includes('..')) throw refuse('escapes the slice folder');
  if (rel === '') throw refuse('names the slice folder itself, not a file in it');
}
