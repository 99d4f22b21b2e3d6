import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmp } from '../helpers';
import { EXIT } from '../../src/cli/exitCodes';
import { TOOL_VERSION } from '../../src/core/version';

// A bug in recreplay, made on purpose: a module preloaded into the CLI's process (main thread only:
// a preload runs in worker threads too) throws where the CLI's code would.
const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const SLICE = join(ROOT, 'examples/slices/cold-start.slice');

const BUGS = {
  // Inside the command: the CLI's catch.
  caught: `process.hrtime.bigint = () => { throw new TypeError('boom inside'); };`,
  // Where no caller catches it: a timer's callback, a promise nobody awaits.
  uncaught: `setTimeout(() => { throw new RangeError('boom in a callback'); }, 0);`,
  rejected: `setTimeout(() => { Promise.reject(new Error('boom in a promise')); }, 0);`,
};

function crash(bug: keyof typeof BUGS, tmpDir: string, ...args: string[]) {
  const preload = join(tmp(), 'bug.js');
  writeFileSync(preload, `if (require('node:worker_threads').isMainThread) { ${BUGS[bug]} }\n`);
  const r = spawnSync(process.execPath, ['-r', preload, CLI, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, TMPDIR: tmpDir }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('a bug exits 70 with one short line saying what, and where the details are: a crash report with the stack, the version and the command', () => {
  for (const [bug, what] of [['caught', 'TypeError: boom inside'], ['uncaught', 'RangeError: boom in a callback'], ['rejected', 'Error: boom in a promise']] as const) {
    const dir = tmp();
    const r = crash(bug, dir, 'run', SLICE, '--json');
    // Uncaught ones exited 1 with Node's dump: the code of "--break never held".
    assert.equal(r.code, EXIT.INTERNAL, `${bug}: ${r.err}`);
    assert.equal(r.out, '');
    const [files, report] = [readdirSync(dir), `${bug}: ${r.err}`];
    assert.equal(files.length, 1, report);
    const file = join(dir, files[0] as string);
    assert.equal(r.err, `recreplay: internal error (a bug in recreplay, not a problem with your input): ${what}\n  The details are in ${file}: please report the bug with that file.\n`);
    const details = readFileSync(file, 'utf8');
    assert.match(details, new RegExp(`^recreplay ${TOOL_VERSION.replaceAll('.', '\\.')}, Node v`));
    assert.match(details, /command: recreplay "run" ".*cold-start\.slice" "--json"/);
    assert.match(details, new RegExp(`${what}\\n    at `));
  }
});

test('a bug whose crash report cannot be written (no temp folder) prints the details on stderr instead', () => {
  const r = crash('uncaught', join(tmp(), 'not-there'), 'info', SLICE);
  assert.equal(r.code, EXIT.INTERNAL, r.err);
  assert.match(r.err, /^recreplay: internal error \(a bug in recreplay, not a problem with your input\): RangeError: boom in a callback\n {2}Please report the bug with these details:\nrecreplay .*\ncommand: recreplay "info" .*\n[^]*RangeError: boom in a callback\n {4}at /);
});
