import { UserError } from '../errors';
import { instantHint, parseInstant } from '../time';
// The schema's validator, compiled ahead of time from manifestSchema.ts (`npm run schema`).
import validateSchema from './manifestValidator';
import { isAbsolute, normalize, posix, resolve, relative, sep } from 'node:path';
import type { SliceManifest } from './types';

/** Validates a parsed manifest; the error names the field and what was expected. */
export function validateManifest(value: unknown, file: string): SliceManifest {
  if (!validateSchema(value)) {
    const errs = validateSchema.errors ?? [];
    const first = errs[0];
    const field = first ? describePath(first.instancePath, first.params) : '(root)';
    const lines = errs.slice(0, 5).map((e) => `${describePath(e.instancePath, e.params)}: ${e.message ?? 'invalid'}`);
    throw new UserError(`manifest is invalid — ${lines.join('; ')}`, { file, field }, 'Fix the field in slice.json (see docs/slice-format.md), or re-freeze the slice.');
  }
  const m = value as unknown as SliceManifest;
  const seen = new Map<string, number>();
  m.files.forEach((f, i) => {
    checkInside(f.path, file);
    // "./items.jsonl" is items.jsonl: the reader finds files by their plain name.
    const path = posix.normalize(f.path);
    const before = seen.get(path);
    if (before !== undefined) {
      throw new UserError(`manifest is invalid — files[${i}].path "${f.path}" names the same file as files[${before}].path "${m.files[before]?.path}"`, { file, field: `files[${i}].path` }, 'List each file once; re-freeze the slice.');
    }
    seen.set(path, i);
    f.path = path;
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
    if (t !== undefined && Number.isNaN(parseInstant(t))) throw new UserError(`manifest is invalid — ${field}: ${JSON.stringify(t)} is not a valid date and time`, { file, field }, instantHint(t));
  }
  return m;
}

function describePath(instancePath: string, params: Record<string, unknown>): string {
  const base = instancePath.replace(/^\//, '').replace(/\//g, '.') || '(root)';
  const missing = params['missingProperty'];
  return typeof missing === 'string' ? (base === '(root)' ? missing : `${base}.${missing}`) : base;
}

/** A manifest path must stay inside the slice folder: relative, no `..` escape. */
export function checkInside(path: string, manifestFile: string): void {
  const bad = isAbsolute(path) || path.includes('\0') || normalize(path).split(/[\\/]/).includes('..');
  const root = resolve('/slice');
  const rel = relative(root, resolve(root, path));
  if (bad || rel.startsWith('..') || rel.split(sep).includes('..')) {
    throw new UserError(`path "${path}" escapes the slice folder`, { file: manifestFile, field: 'files' }, 'Manifest paths must be relative to the slice folder, e.g. "events.jsonl".');
  }
}
