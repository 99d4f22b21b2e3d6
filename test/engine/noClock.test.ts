import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';

// The determinism contract (docs/engine.md): no wall clock and no global RNG in the engine. Lint
// enforces it; these are the ways in it must catch, each on a line of its own.

const REPO = join(__dirname, '..', '..');

/** Each a way to read the clock or draw at random; the replay's folders refuse every one. */
const CLOCK_AND_RNG = [
  'export const x = Date.now();',
  'const now = Date.now; export const x = now();',
  'export const x = Date();',
  'export const x = new Date();',
  'export const x = new Date;',
  'export const x = new globalThis.Date();',
  'export const x = globalThis.Date.now();',
  'export const x = performance.now();',
  'export const x = performance.timeOrigin;',
  'export const x = globalThis.performance.now();',
  'export const x = process.hrtime();',
  'export const x = process.hrtime.bigint();',
  'export const x = process.uptime();',
  'export const x = Math.random();',
  "export const x = Math['random']();",
  'const { random } = Math; export const x = random();',
  'export const x = globalThis.Math.random();',
];
const RANDOM_BYTES = [
  "import { randomBytes } from 'node:crypto'; export const x = randomBytes(4);",
  "import { randomUUID } from 'crypto'; export const x = randomUUID();",
  "import * as c from 'node:crypto'; export const x = c.createHash('sha1');",
  "import { createHash } from 'node:crypto'; export const x = (createHash as unknown as { randomInt(n: number): number }).randomInt(3);",
  'export const x = globalThis.crypto.getRandomValues(new Uint8Array(2));',
  'export const x = crypto.randomUUID();',
  "export const x = Date.parse('2025-07-21T09:12:03');",
];
/** What stays allowed: times from data, and hashing. */
const ALLOWED = [
  'export const x = new Date(0).toISOString();',
  'export const x = Date.UTC(2025, 6, 21);',
  "import { createHash } from 'node:crypto'; export const x = createHash('sha256').update('a').digest('hex');",
  'export const x = Math.max(1, 2);',
];

async function problems(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: REPO });
  const [result] = await eslint.lintText(code, { filePath: join(REPO, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId?.startsWith('no-restricted')).map((m) => m.message);
}

test('lint refuses every way to the wall clock or a global RNG in the engine, rankers and metrics (Date() as a function, globalThis.Math.random, process.hrtime, crypto random bytes, Date.parse...)', async () => {
  for (const dir of ['src/core/engine', 'src/core/rankers', 'src/core/metrics']) {
    for (const code of [...CLOCK_AND_RNG, ...RANDOM_BYTES]) {
      assert.notDeepEqual(await problems(`${dir}/probe.ts`, code), [], `${dir}: not refused: ${code}`);
    }
    for (const code of ALLOWED) assert.deepEqual(await problems(`${dir}/probe.ts`, code), [], `${dir}: refused: ${code}`);
  }
  assert.notDeepEqual(await problems('src/core/random.ts', CLOCK_AND_RNG[0] as string), []);
});

test('the rest of the core may draw random bytes (temp names, the index key), but reads no clock and no global RNG either', async () => {
  for (const code of CLOCK_AND_RNG) assert.notDeepEqual(await problems('src/core/slice/probe.ts', code), [], `not refused: ${code}`);
  assert.deepEqual(await problems('src/core/slice/probe.ts', RANDOM_BYTES[0] as string), []);
});
