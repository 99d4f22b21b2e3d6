// Freezes a one-event slice with overwrite and kills itself (SIGKILL, as kill -9 would) at one
// step of putting it in place (writerCrash.test.ts). usage: crashChild.ts TARGET NAME PHASE
//   aside    right after the old slice was moved aside
//   install  just before the new slice is renamed into place
//   done     right after it was, before the old slice is removed
import { createRequire } from 'node:module';
import { syncBuiltinESMExports } from 'node:module';

const [target, name, phase] = process.argv.slice(2) as [string, string, string];
const fs = createRequire(__filename)('node:fs') as typeof import('node:fs');
const rename = fs.renameSync;
const die = () => process.kill(process.pid, 'SIGKILL');
fs.renameSync = (from, to) => {
  const installing = String(to) === target && String(from).includes('.tmp-') && !/-old\d*$/.test(String(from));
  if (phase === 'install' && installing) die();
  rename(from, to);
  if ((phase === 'aside' && /-old\d*$/.test(String(to))) || (phase === 'done' && installing)) die();
};
syncBuiltinESMExports();

// Loaded after the patch, so the writer's renames go through it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { writeSlice } = require('../../src/core/slice/writer') as typeof import('../../src/core/slice/writer');
writeSlice(target, { manifest: { name, description: 'crash', source: { kind: 'synthetic', generator: 'test/slice/crashChild.ts' }, seed: 1 }, events: [{ id: 'e1', t: '2025-07-21T09:00:00Z', user: 'u1', candidates: [{ item: 'a' }], served: ['a'] }], items: [{ id: 'a' }] }, { frozenAt: '2025-08-01T00:00:00Z', overwrite: true });
process.stdout.write('not killed\n');
