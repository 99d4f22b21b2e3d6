import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Slice } from '../../src/core/slice/reader';
import { IntegrityError, UserError } from '../../src/core/errors';
import { instantHint } from '../../src/core/time';
import type { SliceManifest } from '../../src/core/slice/types';
import { eventLine, rawSlice } from '../helpers';

/** Slice.open of a raw slice whose manifest `patch` changed: the UserError it throws. */
function openError(patch: (m: SliceManifest & Record<string, unknown>) => void): UserError {
  const dir = rawSlice(eventLine('e1', '2025-01-01T00:00:00Z') + '\n', (m) => patch(m as SliceManifest & Record<string, unknown>));
  try {
    Slice.open(dir).close();
  } catch (e) {
    assert.ok(e instanceof UserError, String(e));
    assert.ok(e.where.file?.endsWith('slice.json'), e.where.file);
    return e;
  }
  assert.fail('the manifest was accepted');
}

test('pipeline.stageBudgetMs takes only the six stages: a misspelt one is refused with the field and the stage names', () => {
  const e = openError((m) => (m.pipeline = { k: 4, budgetMs: 100, stageBudgetMs: { scor: 5 } as never }));
  assert.equal(e.where.field, 'pipeline.stageBudgetMs.scor');
  assert.match(e.message, /pipeline\.stageBudgetMs\.scor: is not a field here \(allowed: retrieve, features, score, rerank, serve, outcome\)/);
  const dir = rawSlice(eventLine('e1', '2025-01-01T00:00:00Z') + '\n', (m) => (m.pipeline = { k: 4, budgetMs: 100, stageBudgetMs: { score: 5, outcome: 1 } }));
  Slice.open(dir).close();
});

test('manifest errors say what was expected: the constant, the allowed values', () => {
  const format = openError((m) => (m.format = 'recreplay.slice/2' as never));
  assert.equal(format.where.field, 'format');
  assert.match(format.message, /format: must be "recreplay\.slice\/1", got "recreplay\.slice\/2"/);
  const kind = openError((m) => (m.source = { kind: 'log' as never }));
  assert.equal(kind.where.field, 'source.kind');
  assert.match(kind.message, /source\.kind: must be one of "logs", "synthetic", "hybrid", got "log"/);
});

test('a manifest timestamp without a timezone gets the hint an event\'s "t" gets, not the schema\'s regex', () => {
  for (const [field, patch, value] of [
    ['frozenAt', (m: SliceManifest) => (m.frozenAt = '2025-07-21T09:12:03'), '2025-07-21T09:12:03'],
    ['clock.start', (m: SliceManifest) => (m.clock.start = 'July 21, 2025'), 'July 21, 2025'],
    ['source.window.to', (m: SliceManifest) => (m.source.window = { from: '2025-07-21T09:00:00Z', to: '2025-07-21T10:00:00' }), '2025-07-21T10:00:00'],
  ] as const) {
    const e = openError(patch);
    assert.equal(e.where.field, field);
    assert.match(e.message, new RegExp(`${field.replace(/\./g, '\\.')}: must be an RFC 3339 timestamp with a timezone \\(Z or ±HH:MM\\), got "${value}"`));
    assert.doesNotMatch(e.message, /\\d|must match pattern/);
    assert.equal(e.hint, instantHint(value));
  }
});

test('manifest field paths are written one way everywhere: array indexes in brackets', () => {
  const bytes = openError((m) => ((m.files[1] as { bytes: number }).bytes = -1));
  assert.equal(bytes.where.field, 'files[1].bytes');
  assert.match(bytes.message, /files\[1\]\.bytes: must be >= 0/);
  const chunk = openError((m) => ((m.files[0] as SliceManifest['files'][number]).chunks = { size: 4096, sha256: ['nope'] }));
  assert.equal(chunk.where.field, 'files[0].chunks.sha256[0]');
  assert.match(chunk.message, /files\[0\]\.chunks\.sha256\[0\]: must be a sha256 \(64 lowercase hex digits\), got "nope"/);
  const missing = openError((m) => delete (m.files[0] as Partial<SliceManifest['files'][number]>).sha256);
  assert.equal(missing.where.field, 'files[0].sha256');
  assert.match(missing.message, /files\[0\]\.sha256: is missing/);
});

test('a record or byte count past 2^53 is refused as an invalid manifest (exit 3), not read as a modified file (exit 4): 1e308 is an "integer" to JSON', () => {
  for (const field of ['records', 'bytes'] as const) {
    const e = openError((m) => Object.assign(m.files[0] as object, { [field]: 1e308 }));
    assert.ok(!(e instanceof IntegrityError), `${field}: ${e.message}`);
    assert.equal(e.where.field, `files[0].${field}`);
    assert.match(e.message, new RegExp(`files\\[0\\]\\.${field}: must be <= 9007199254740991`));
  }
});

test('a manifest value nested thousands of levels deep (an unknown field) is refused, named by its field: info --json overflowed the stack showing it', () => {
  let deep: unknown = [];
  for (let i = 0; i < 1000; i++) deep = [deep];
  const e = openError((m) => (m['zz'] = deep));
  assert.equal(e.where.field, 'zz');
  assert.match(e.message, /manifest is invalid — it holds a value nested more than 64 levels deep/);
  assert.match(e.hint ?? '', /remove that field/);
  // Deep inside a field of the format, the same; 64 levels is still read (with a warning for the unknown field).
  const inFaults = openError((m) => (m.faults = [{ kind: 'x', note: deep } as never]));
  assert.equal(inFaults.where.field, 'faults');
  let ok: unknown = 1;
  for (let i = 0; i < 63; i++) ok = { a: ok };
  const dir = rawSlice(eventLine('e1', '2025-01-01T00:00:00Z') + '\n', (m) => ((m as unknown as Record<string, unknown>)['zz'] = ok));
  const s = Slice.open(dir);
  assert.ok(s.warnings.some((w) => /zz/.test(w)), s.warnings.join('\n'));
  s.close();
});

test('a slice.json larger than a manifest holds (16 MiB) is refused at open without being parsed, as the editor refuses it (the CLI opened what the Slices view refused)', () => {
  const e = openError((m) => (m.description = 'd'.repeat(17 * 2 ** 20)));
  assert.match(e.message, /^slice\.json is 17\.0 MiB, more than a manifest holds \(16 MiB at most\)$/);
  assert.match(e.hint ?? '', /Re-freeze the slice/);
});
