/** Writes schemas/slice.schema.json from the schema in the core (`npm run schema`). */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_SCHEMA } from '../src/core/slice/manifestSchema';

const out = join(__dirname, '..', 'schemas', 'slice.schema.json');
writeFileSync(out + '.tmp', JSON.stringify(MANIFEST_SCHEMA, null, 2) + '\n');
renameSync(out + '.tmp', out);
console.log(`wrote ${out}`);
