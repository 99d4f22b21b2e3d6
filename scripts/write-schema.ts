/**
 * `npm run schema`: writes what is derived from the schema in the core —
 * schemas/slice.schema.json (VS Code validates slice.json with it) and
 * src/core/slice/manifestValidator.js, the schema's validator compiled ahead of time by Ajv
 * (compiling it at start-up cost every CLI command, debug session and extension host ~40 ms).
 * test/slice/schema.test.ts fails when either is out of date.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifestValidatorSource } from './manifestValidatorSource';
import { MANIFEST_SCHEMA } from '../src/core/slice/manifestSchema';

function write(out: string, text: string): void {
  writeFileSync(out + '.tmp', text);
  renameSync(out + '.tmp', out);
  console.log(`wrote ${out}`);
}

const root = join(__dirname, '..');
write(join(root, 'schemas', 'slice.schema.json'), JSON.stringify(MANIFEST_SCHEMA, null, 2) + '\n');
write(join(root, 'src', 'core', 'slice', 'manifestValidator.js'), manifestValidatorSource());
