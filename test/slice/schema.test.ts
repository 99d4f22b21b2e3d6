import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_SCHEMA } from '../../src/core/slice/manifestSchema';
import { validateManifest } from '../../src/core/slice/manifest';
import { manifestValidatorSource } from '../../scripts/manifestValidatorSource';

const ROOT = join(__dirname, '..', '..');

test('the shipped schemas/slice.schema.json is the core schema (run `npm run schema` after changing it)', () => {
  assert.deepEqual(JSON.parse(readFileSync(join(ROOT, 'schemas/slice.schema.json'), 'utf8')), MANIFEST_SCHEMA);
});

test('the compiled validator src/core/slice/manifestValidator.js is the core schema\'s (run `npm run schema` after changing it)', () => {
  assert.equal(readFileSync(join(ROOT, 'src/core/slice/manifestValidator.js'), 'utf8'), manifestValidatorSource());
});

test('package.json validates slice.json files with the shipped schema', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.deepEqual(pkg.contributes.jsonValidation, [{ fileMatch: '*.slice/slice.json', url: './schemas/slice.schema.json' }]);
});

test('every example manifest passes the schema', () => {
  for (const name of ['cold-start', 'latency-cascade']) {
    const m = JSON.parse(readFileSync(join(ROOT, `examples/slices/${name}.slice/slice.json`), 'utf8'));
    assert.equal(validateManifest(m, name).name, name);
  }
});
