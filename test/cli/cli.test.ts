import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { BASE_MANIFEST, eventLine, fixture, makeSlice, rawSlice, tmp } from '../helpers';
import { writeSlice } from '../../src/core/slice/writer';
import { EXIT } from '../../src/cli/exitCodes';
import { TOOL_VERSION } from '../../src/core/version';
import { MACHINE } from '../../src/core/dirs';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const EX = join(ROOT, 'examples');

// scripts/test.mjs builds dist/ first when it is older than the sources. A hang fails, not blocks.
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('info prints the manifest, counts, versions and hash status', () => {
  const r = cli('info', join(EX, 'slices/cold-start.slice'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /events\s+650/);
  assert.match(r.out, /model=home-linear@12/);
  assert.match(r.out, /hash status\s+(intact \(every file verified\)|small files intact; events\.jsonl not checked)/);
  const j = JSON.parse(cli('info', join(EX, 'slices/cold-start.slice'), '--json').out);
  assert.equal(j.events, 650);
});

test('info never calls an events.jsonl it did not check intact (its index cached, a digit changed since); it shows the time span of the events, and finds a change where it reads them', () => {
  const dir = makeSlice(40, { chunkSize: 2048 });
  // The writer cached the index; info reads the first and last events only, so it checks their chunks.
  const first = cli('info', dir).out;
  assert.match(first, /hash status\s+small files intact; events\.jsonl checked in part \(info reads its first and last events/);
  const events = readFileSync(join(dir, 'events.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { t: string });
  assert.match(first, new RegExp(`time span\\s+${(events[0] as { t: string }).t} … ${(events[39] as { t: string }).t}`));
  assert.deepEqual(JSON.parse(cli('info', dir, '--json').out).span, { first: events[0]?.t, last: events[39]?.t });
  // With no cached index, info builds it, reading every byte: then it is verified.
  rmSync(join(process.env['RECREPLAY_CACHE_DIR'] as string, `index-${createHash('sha256').update(readFileSync(join(dir, 'slice.json'))).digest('hex')}.f64`));
  assert.match(cli('info', dir).out, /hash status\s+intact \(every file verified\)/);
  const p = join(dir, 'events.jsonl');
  const text = readFileSync(p, 'utf8');
  // A digit changed in a chunk info does not read: not found by info, which does not call the file intact.
  const mid = text.indexOf('"e20"');
  writeFileSync(p, text.slice(0, mid) + '"e29"' + text.slice(mid + 5));
  const r = cli('info', dir);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /hash status\s+small files intact; events\.jsonl checked in part/);
  assert.equal(JSON.parse(cli('info', dir, '--json').out).eventsVerified, false);
  // verify reads it all and finds it.
  assert.match(cli('verify', dir).out, /modified: events\.jsonl \(its sha256 differs\)/);
  // A change in the last event's chunk: info reads it, and says so.
  writeFileSync(p, text.slice(0, text.lastIndexOf('"e40"')) + '"e41"' + text.slice(text.lastIndexOf('"e40"') + 5));
  const last = cli('info', dir);
  assert.equal(last.code, 0, last.err);
  assert.match(last.out, /hash status\s+modified \(events\.jsonl\)/);
});

test('verify: exit 0 when intact, 4 and the modified file when not', () => {
  const dir = makeSlice(20);
  assert.equal(cli('verify', dir).code, 0);
  const p = join(dir, 'users.jsonl');
  writeFileSync(p, readFileSync(p, 'utf8').replace('"u1"', '"u7"'));
  const r = cli('verify', dir);
  assert.equal(r.code, 4);
  assert.match(r.out, /modified: users\.jsonl/);
  const run = cli('run', dir);
  assert.equal(run.code, 4);
  assert.match(run.err, /users\.jsonl/);
  assert.match(run.err, /--force/);
  assert.doesNotMatch(run.err, /at .*\.js:\d+/, 'no stack trace');
  assert.equal(cli('run', dir, '--force').code, 0);
});

test('verify reports a missing file (or a folder in its place) as not intact, with the JSON report', () => {
  const dir = makeSlice(20);
  rmSync(join(dir, 'users.jsonl'));
  const r = cli('verify', dir, '--json');
  assert.equal(r.code, 4, r.err);
  assert.deepEqual(JSON.parse(r.out), { ok: false, modified: [], missing: ['users.jsonl'], reasons: { 'users.jsonl': 'missing' }, warnings: [] });
  mkdirSync(join(dir, 'users.jsonl'));
  // Listed as --json lists it: missing (not "modified").
  assert.equal(cli('verify', dir).out.trim(), 'missing: users.jsonl (a folder)');
  const run = cli('run', dir);
  assert.equal(run.code, 3);
  assert.match(run.err, /missing or not files: users\.jsonl \(a folder, not a file\)/);
});

test('--help after a command prints the usage and exits 0 (it is not an unknown option)', () => {
  for (const args of [['run', '--help'], ['info', '-h'], ['verify', '--help'], ['run', join(EX, 'slices/cold-start.slice'), '--help']]) {
    const r = cli(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
    assert.match(r.out, /^recreplay .* replay recommender slices deterministically\n\nUsage:/, args.join(' '));
    assert.equal(r.err, '');
  }
  const d = cli('dap', '--help');
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /^Usage: recreplay dap \[--port N\]/);
});

test('each command\'s help lists every option it takes, with its default (dap --help listed none of them)', () => {
  const options = (text: string) => [...text.matchAll(/^ {2}(--[\w-]+)(?: [A-Z]+)? +(.*(?:\n {10,}.*)*)/gm)].map((m) => [m[1] as string, (m[2] as string).replace(/\s+/g, ' ')] as const);
  const h = cli('--help').out;
  const run = options(h.slice(h.indexOf('Run options:'), h.indexOf('Info and verify options:')));
  const infoVerify = options(h.slice(h.indexOf('Info and verify options:'), h.indexOf('Exit codes')));
  const dap = options(cli('dap', '--help').out);
  // What each command's parser takes (help aside), as the usage errors name them.
  const takes = { run: ['--ranker', '--seed', '--trace', '--checkpoint-every', '--force', '--json', '--break'], info: ['--json'], dap: ['--port', '--host', '--log', '--verbose'] };
  for (const [listed, names] of [[run, takes.run], [infoVerify, takes.info], [dap, takes.dap]] as const) {
    assert.deepEqual(listed.map(([n]) => n), names);
    for (const [name, text] of listed) assert.match(text, /\(default[ :]/, `${name}: ${text}`);
  }
  // Each is an option the command takes: none of them is an unknown option.
  for (const [name] of infoVerify) assert.notEqual(cli('verify', join(EX, 'slices/cold-start.slice'), name).code, EXIT.USAGE);
  assert.match(Object.fromEntries(run)['--seed'] as string, /0 to 4294967295/);
  assert.match(Object.fromEntries(dap)['--host'] as string, /default: 127\.0\.0\.1/);
});

test('--help lists every exit code (as docs/cli.md does); no arguments prints the usage and exits 2; --version', () => {
  const h = cli('--help');
  assert.equal(h.code, 0, h.err);
  const codes = h.out.slice(h.out.indexOf('Exit codes'));
  for (const [name, code] of Object.entries(EXIT)) assert.match(codes, new RegExp(`(^|\\D)${code}(\\D|$)`), `exit code ${code} (${name}) in --help`);
  const docs = readFileSync(join(ROOT, 'docs/cli.md'), 'utf8');
  for (const code of Object.values(EXIT)) assert.match(docs, new RegExp(`^\\| (\\d+, )*${code}(, \\d+)* \\|`, 'm'), `exit code ${code} in docs/cli.md`);
  const none = cli();
  assert.equal(none.code, 2);
  // On stderr, as every usage error: stdout is for results (it was on stdout).
  assert.equal(none.err, h.out);
  assert.equal(none.out, '');
  const v = cli('--version');
  assert.deepEqual([v.code, v.out], [0, `${TOOL_VERSION}\n`]);
});

test('run --json prints one object with events, metrics and traceSha256, equal across runs', () => {
  const a = JSON.parse(cli('run', join(EX, 'slices/latency-cascade.slice'), '--ranker', 'linear:examples/rankers/search-linear.json', '--json').out);
  const b = JSON.parse(cli('run', join(EX, 'slices/latency-cascade.slice'), '--ranker', 'linear:examples/rankers/search-linear.json', '--json').out);
  assert.equal(a.events, 900);
  assert.match(a.traceSha256, /^[0-9a-f]{64}$/);
  assert.equal(a.traceSha256, b.traceSha256);
  assert.equal(typeof a.metrics['hit_rate@10'], 'number');
});

test('bad input: clear messages and exit codes, never a stack trace', () => {
  const aFile = join(tmp(), 'a-file');
  writeFileSync(aFile, 'x');
  const folderManifest = join(tmp(), 'f.slice');
  mkdirSync(join(folderManifest, 'slice.json'), { recursive: true });
  const cases: [string[], number, RegExp][] = [
    [['run', 'nowhere.slice'], 3, /no slice\.json/],
    [['run', join(EX, 'slices/cold-start.slice'), '--ranker', 'xgboost'], 3, /unknown ranker "xgboost"/],
    [['run', join(EX, 'slices/cold-start.slice'), '--ranker', 'linear:missing.json'], 3, /linear artifact not found/],
    [['run', join(EX, 'slices/cold-start.slice'), '--seed=-1'], 2, /--seed must be a whole number from 0 to 4294967295, got "-1"/],
    [['run', join(EX, 'slices/cold-start.slice'), '--seed', '1.5'], 2, /--seed must be a whole number/],
    [['run', join(EX, 'slices/cold-start.slice'), '--seed', '4294967296'], 2, /--seed must be a whole number from 0 to 4294967295/],
    [['run', join(EX, 'slices/cold-start.slice'), '--checkpoint-every', '0'], 2, /--checkpoint-every must be a whole number from 1/],
    [['run', join(EX, 'slices/cold-start.slice'), 'c.features.fresh == 1'], 2, /run takes one slice folder, got also "c\.features\.fresh == 1"/],
    [['verify'], 2, /verify needs a slice folder/],
    [['run', join(EX, 'slices/cold-start.slice'), '--ranker', `linear:${tmp()}`], 3, /linear artifact is a folder/],
    [['run', join(EX, 'slices/cold-start.slice'), '--trace', aFile], 3, /cannot create the trace folder .*: .* is a file/],
    [['run', join(EX, 'slices/cold-start.slice'), '--trace', join(aFile, 'sub')], 3, /is a file/],
    [['run', folderManifest], 3, /slice\.json is a folder, not a file/],
    [['verify', aFile], 3, /no slice\.json in .*a-file/],
    [['frobnicate'], 2, /unknown command/],
    [['run', join(EX, 'slices/cold-start.slice'), '--ranker', 'popularity:foo'], 3, /ranker "popularity" takes no argument, got "popularity:foo"/],
    [['run', join(EX, 'slices/cold-start.slice'), '--bogus'], 2, /^recreplay: unknown option --bogus for run \(a slice folder whose name starts with "-" goes after "--"/],
    [['verify', 'a.slice', 'b.slice'], 2, /^recreplay: verify takes one slice folder, got also "b\.slice"\n/],
  ];
  // procfs answers ENOENT for a child of /proc: Node's recursive mkdir spins on it forever.
  if (existsSync('/proc/self')) cases.push([['run', join(EX, 'slices/cold-start.slice'), '--trace', '/proc/recreplay-test/out'], 3, /cannot create the trace folder/]);
  for (const [args, code, re] of cases) {
    const r = cli(...args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  }
});

test('a trace folder receives trace.jsonl and run.json, and a failed run leaves no half trace', () => {
  const out = tmp();
  const r = cli('run', join(EX, 'slices/cold-start.slice'), '--trace', out);
  assert.equal(r.code, 0, r.err);
  assert.ok(existsSync(join(out, 'trace.jsonl')) && existsSync(join(out, 'run.json')));
  // A slice modified deep inside fails mid-replay: no trace appears.
  const copy = join(tmp(), 'c.slice');
  cpSync(join(EX, 'slices/cold-start.slice'), copy, { recursive: true });
  const p = join(copy, 'events.jsonl');
  const text = readFileSync(p, 'utf8');
  const at = text.lastIndexOf('"cat_match":0');
  writeFileSync(p, text.slice(0, at) + '"cat_match":1' + text.slice(at + 13));
  const out2 = tmp();
  const bad = cli('run', copy, '--trace', out2);
  assert.equal(bad.code, 4, bad.err);
  assert.deepEqual(readdirSync(out2), [], 'no trace, no temp file, no run record');
  // Folders the run made for the trace go again when it fails.
  const parent = tmp();
  assert.equal(cli('run', copy, '--trace', join(parent, 'a', 'b')).code, 4);
  assert.deepEqual(readdirSync(parent), []);
});

/** Starts `recreplay run` on a long slice and resolves once its replay runs (the trace's temp file exists). */
async function startLongRun(dir: string, out: string) {
  const child = spawn(process.execPath, [CLI, 'run', dir, '--trace', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const io = { err: '' };
  child.stderr.on('data', (d) => (io.err += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const started = Date.now();
  while (!existsSync(out) || !readdirSync(out).some((f) => f.endsWith('.tmp'))) {
    if (Date.now() - started > 30_000) throw new Error(`the run never started: ${io.err}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return { child, io, exited };
}

test('Ctrl-C cancels a running replay: exit 130, no trace, nothing left in the trace folder', async () => {
  const dir = makeSlice(100_000);
  const out = tmp();
  const { child, io, exited } = await startLongRun(dir, out);
  child.kill('SIGINT');
  assert.equal(await exited, 130, io.err);
  assert.match(io.err, /cancelled; no trace was written/);
  assert.deepEqual(readdirSync(out), []);
  // A second Ctrl-C stops at once: still no temp file, and the folder the run made is gone.
  const parent = tmp();
  const run2 = await startLongRun(dir, join(parent, 'made'));
  run2.child.kill('SIGINT');
  run2.child.kill('SIGINT');
  assert.equal(await run2.exited, 130, run2.io.err);
  // (Two signals sent at once may arrive as one: then it is the first's message.)
  assert.match(run2.io.err, /stopped at once \(a second SIGINT\); no trace was written|cancelled; no trace was written/);
  assert.deepEqual(readdirSync(parent), []);
});

test('SIGTERM (a CI timeout, docker stop) cancels like Ctrl-C: exit 143, no trace, no temp file; SIGHUP exits 129', async () => {
  const dir = makeSlice(100_000);
  for (const [sig, code] of [['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    const parent = tmp();
    const out = join(parent, 'made');
    const { child, io, exited } = await startLongRun(dir, out);
    child.kill(sig);
    assert.equal(await exited, code, io.err);
    assert.match(io.err, new RegExp(`cancelled \\(${sig}\\); no trace was written`));
    assert.deepEqual(readdirSync(parent), [], 'the folder the run made is gone with its temp file');
  }
});

test('a trace folder that cannot take the trace or run record fails the run before it replays, and leaves what was there', () => {
  const src = join(EX, 'slices/cold-start.slice');
  for (const blocker of ['trace.jsonl', 'run.json']) {
    const out = tmp();
    writeFileSync(join(out, blocker === 'run.json' ? 'trace.jsonl' : 'run.json'), 'old\n');
    mkdirSync(join(out, blocker));
    const r = cli('run', src, '--trace', out);
    assert.equal(r.code, 3, r.err);
    assert.match(r.err, new RegExp(`cannot write .*${blocker.replace('.', '\\.')}: a folder is in its place`));
    assert.doesNotMatch(r.out, /replayed/, 'nothing was replayed');
    assert.deepEqual(readdirSync(out).sort(), ['run.json', 'trace.jsonl'], 'no temp file left');
    assert.equal(readFileSync(join(out, blocker === 'run.json' ? 'trace.jsonl' : 'run.json'), 'utf8'), 'old\n', 'the old file is untouched');
  }
});

test('a trace folder inside the slice is refused: a slice folder is never written to', () => {
  const dir = makeSlice(10);
  for (const out of [dir, join(dir, 'traces')]) {
    const r = cli('run', dir, '--trace', out);
    assert.equal(r.code, 3, r.err);
    assert.match(r.err, /is inside the slice/);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['events.jsonl', 'items.jsonl', 'slice.json', 'users.jsonl']);
  // Nor is another slice's folder, or a folder inside one: its verify would still say intact.
  const other = makeSlice(5);
  for (const [out, why] of [[other, /is a slice folder/], [join(other, 'traces'), /is inside the slice /]] as const) {
    const r = cli('run', dir, '--trace', out);
    assert.equal(r.code, 3, r.err);
    assert.match(r.err, why);
  }
  assert.deepEqual(readdirSync(other).sort(), ['events.jsonl', 'items.jsonl', 'slice.json', 'users.jsonl']);
});

test('a trace folder that reaches the slice through a symbolic link is refused too, both ways round', () => {
  const dir = makeSlice(10);
  const base = tmp();
  const linkToSlice = join(base, 'link-to-slice');
  symlinkSync(dir, linkToSlice);
  // --trace through a link to the slice; the slice through a link, --trace its real path; a dangling link.
  const dangling = join(base, 'dangling');
  symlinkSync(join(base, 'nowhere', 'x'), dangling);
  for (const [slice, out, why] of [[dir, linkToSlice, /is inside the slice/], [linkToSlice, join(dir, 'x'), /is inside the slice/], [dir, join(dangling, 'out'), /symbolic link that leads nowhere/]] as const) {
    const r = cli('run', slice, '--trace', out);
    assert.equal(r.code, 3, r.err);
    assert.match(r.err, why);
  }
  assert.deepEqual(readdirSync(dir).sort(), ['events.jsonl', 'items.jsonl', 'slice.json', 'users.jsonl']);
});

test('a slice.json saved with a UTF-8 byte-order mark opens', () => {
  const dir = makeSlice(10);
  const p = join(dir, 'slice.json');
  writeFileSync(p, '\uFEFF' + readFileSync(p, 'utf8'));
  const r = cli('run', dir, '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).events, 10);
});

test('the run record names the trace by its absolute path, whatever folder --trace was relative to', () => {
  const cwd = tmp();
  const r = spawnSync(process.execPath, [CLI, 'run', join(EX, 'slices/cold-start.slice'), '--trace', 'out', '--json'], { cwd, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.trace, join(cwd, 'out', 'trace.jsonl'));
  assert.equal(j.runRecord, join(cwd, 'out', 'run.json'));
  assert.equal(JSON.parse(readFileSync(join(cwd, 'out', 'run.json'), 'utf8')).trace.path, join(cwd, 'out', 'trace.jsonl'));
});

test('an empty --trace (an unset variable) is a usage error, not a run that writes nothing', () => {
  const r = cli('run', join(EX, 'slices/cold-start.slice'), '--trace', '');
  assert.equal(r.code, 2);
  assert.match(r.err, /--trace needs a folder, got an empty value/);
});

function trace(dir: string) {
  return readFileSync(join(dir, 'trace.jsonl'), 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l));
}

test('example cold start: new items get no exposure with the production ranker, and do with the fresh one', () => {
  const prod = JSON.parse(cli('run', join(EX, 'slices/cold-start.slice'), '--ranker', 'linear:examples/rankers/cold-start-linear.json', '--json').out);
  const fresh = JSON.parse(cli('run', join(EX, 'slices/cold-start.slice'), '--ranker', 'linear:examples/rankers/cold-start-fresh.json', '--json').out);
  assert.equal(prod.metrics['exposure_parity'], 0, 'group "new" never served');
  assert.ok(fresh.metrics['exposure_parity'] > 0.2);
  assert.ok(fresh.metrics['coverage@10'] > prod.metrics['coverage@10'] + 0.1);
});

test('example latency cascade: queue grows, score breaks its budget, fallback takes over, hit rate drops', () => {
  const out = tmp();
  const run = cli('run', join(EX, 'slices/latency-cascade.slice'), '--ranker', 'linear:examples/rankers/search-linear.json', '--trace', out, '--json');
  // Nothing on stderr: no warning from Node (e.g. about the trace file's descriptor) either.
  assert.equal(run.err, '');
  const r = JSON.parse(run.out);
  assert.ok(r.faults.over_budget.count > 100);
  assert.ok(r.faults.stage_over_budget.firstEvent < r.faults.over_budget.firstEvent, 'score breaks its own budget before the pipeline does');
  assert.ok(r.metrics['fallback_rate'] > 0.2);
  const lines = trace(out);
  const hr = (from: number, to: number) => {
    const hits = lines.slice(from - 1, to).map((l) => l.metrics.hit).filter((h: number | null) => h !== null);
    return hits.reduce((a: number, b: number) => a + b, 0) / hits.length;
  };
  const before = hr(1, 300);
  const during = hr(500, 750);
  assert.ok(before > 0.95, `hit rate before the surge ${before}`);
  assert.ok(during < before - 0.2, `hit rate during the surge ${during} vs ${before}`);
  assert.ok(lines.slice(500, 750).every((l) => l.stages.serve.fallback || l.stages.score.ms <= 60));
});

test('run --seed N replays with seed N: another trace than the slice seed, the same one for the same N, N in the run record; --checkpoint-every K in the run record', () => {
  const dir = makeSlice(150); // the slice's seed is 7
  const run = (...extra: string[]) => {
    const out = tmp();
    const r = cli('run', dir, '--trace', out, '--json', ...extra);
    assert.equal(r.code, 0, r.err);
    return { summary: JSON.parse(r.out), record: JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')), sha: createHash('sha256').update(readFileSync(join(out, 'trace.jsonl'))).digest('hex') };
  };
  const byDefault = run();
  const seeded = run('--seed', '123456');
  const again = run('--seed=123456');
  assert.equal(byDefault.record.seed, 7);
  assert.equal(seeded.record.seed, 123456);
  assert.equal(seeded.record.config.seed, 123456);
  assert.equal(seeded.summary.seed, 123456);
  assert.notEqual(seeded.sha, byDefault.sha, 'simulated clicks draw from the seed given');
  assert.equal(seeded.summary.traceSha256, seeded.sha);
  assert.equal(again.sha, seeded.sha, 'the same seed gives the same trace');
  // --seed with the slice's own seed is the default run.
  assert.equal(run('--seed', '7').sha, byDefault.sha);
  const ck = run('--checkpoint-every', '37');
  assert.equal(ck.record.config.checkpointEvery, 37);
  assert.equal(byDefault.record.config.checkpointEvery, 500, 'the default interval');
  assert.equal(ck.sha, byDefault.sha, 'the checkpoint interval does not change the replay');
});

test('output sent to /dev/null by a program that runs recreplay (Node\'s stdio "ignore", Python\'s subprocess.DEVNULL: opened for reading and writing) is a success: the results are dropped as asked, the trace written', () => {
  const dir = tmp();
  const trace = join(dir, 'trace');
  // (A check that told a closed stdout from this by a read of it made such runs exit 3.)
  const r = spawnSync(process.execPath, [CLI, 'run', join(EX, 'slices/cold-start.slice'), '--trace', trace], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, EXIT.OK, r.stderr);
  assert.equal(r.stderr, '');
  assert.ok(existsSync(join(trace, 'trace.jsonl')));
  const rw = openSync('/dev/null', 'r+');
  try {
    const info = spawnSync(process.execPath, [CLI, 'info', join(EX, 'slices/cold-start.slice')], { cwd: ROOT, stdio: ['ignore', rw, 'pipe'], encoding: 'utf8', timeout: 60_000 });
    assert.equal(info.status, EXIT.OK, info.stderr);
  } finally {
    closeSync(rw);
  }
});

test('output that cannot be written: a full stderr loses its warnings and the run goes on; a full stdout is an error (exit 3), not a silent success', { skip: !existsSync('/dev/full') && 'no /dev/full here' }, () => {
  const weights = join(tmp(), 'typo.json');
  // Two warnings: the second write to a failed stderr ended the run with exit 1 ("--break never held").
  writeFileSync(weights, JSON.stringify({ weights: { pop_30: 1, fresh: 2 }, bais: 0 }));
  const out = tmp();
  const full = openSync('/dev/full', 'w');
  try {
    const run = (stdio: ('ignore' | 'pipe' | number)[], ...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, stdio, timeout: 60_000 });
    const warned = run(['ignore', 'pipe', full], 'run', join(EX, 'slices/cold-start.slice'), '--ranker', `linear:${weights}`, '--break', 'true', '--trace', out);
    assert.equal(warned.status, EXIT.OK);
    assert.match(warned.stdout, /^hit: true/m);
    assert.deepEqual(readdirSync(out).sort(), ['run.json', 'trace.jsonl']);
    for (const args of [['run', join(EX, 'slices/cold-start.slice'), '--json'], ['info', join(EX, 'slices/cold-start.slice')], ['verify', join(EX, 'slices/cold-start.slice'), '--json']]) {
      const lost = run(['ignore', full, 'pipe'], ...args);
      assert.equal(lost.status, EXIT.INPUT, `${args[0]}: ${lost.stderr}`);
      assert.match(lost.stderr, /cannot write the output to standard output: the disk is full/);
    }
  } finally {
    closeSync(full);
  }
});

test('an option given twice, a misspelt option and a value that starts with "-" are usage errors that say what to write', () => {
  const slice = join(EX, 'slices/cold-start.slice');
  const twice = cli('run', slice, '--ranker', 'popularity', '--ranker', 'recorded');
  assert.equal(twice.code, EXIT.USAGE);
  assert.match(twice.err, /--ranker is given more than once; give it once/);
  assert.equal(cli('info', slice, '--json', '--json').code, EXIT.USAGE);
  const typo = cli('run', slice, '--seeed', '3');
  assert.equal(typo.code, EXIT.USAGE);
  assert.match(typo.err, /unknown option --seeed for run; did you mean --seed\?/);
  // A text value that starts with "-" goes in the = form; a number option says its range (no negative one exists).
  const dash = cli('run', slice, '--trace', '-out');
  assert.equal(dash.code, EXIT.USAGE);
  assert.match(dash.err, /--trace needs a value, and what follows it starts with "-": write a value that starts with "-" as --trace=VALUE/);
  assert.doesNotMatch(dash.err, /Did you forget/);
  assert.match(cli('run', slice, '--seed=-1').err, /--seed must be a whole number from 0/);
});

test('info, verify and run say on stderr which fields of slice.json the format does not know; verify --json lists them', () => {
  const dir = join(tmp(), 'typo.slice');
  cpSync(join(EX, 'slices/cold-start.slice'), dir, { recursive: true });
  const m = JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as Record<string, unknown>;
  m['pipline'] = m['pipeline'];
  delete m['pipeline'];
  writeFileSync(join(dir, 'slice.json'), JSON.stringify(m, null, 2));
  const warning = /^recreplay: warning: slice\.json: "pipline" is not a field of the manifest, so it is ignored; did you mean "pipeline"\?$/m;
  const info = cli('info', dir);
  assert.equal(info.code, EXIT.OK, info.err);
  assert.match(info.err, warning);
  assert.match(info.out, /pipeline\s+defaults/);
  assert.deepEqual(JSON.parse(cli('info', dir, '--json').out).warnings, ['slice.json: "pipline" is not a field of the manifest, so it is ignored; did you mean "pipeline"?']);
  const verify = cli('verify', dir, '--json');
  assert.equal(verify.code, EXIT.OK, verify.err);
  assert.match(verify.err, warning);
  assert.deepEqual(JSON.parse(verify.out).warnings, ['slice.json: "pipline" is not a field of the manifest, so it is ignored; did you mean "pipeline"?']);
  const run = cli('run', dir, '--json');
  assert.equal(run.code, EXIT.OK, run.err);
  assert.match(run.err, warning);
  // The original, untouched: no warning.
  assert.equal(cli('info', join(EX, 'slices/cold-start.slice')).err, '');
});

test('info warns when the manifest\'s clock.start is after the first event (the writer refuses it; another tool may write it), in both zones\' terms, and not when it is at or before', () => {
  const line = eventLine('e1', '2025-01-01T09:00:00+09:00') + '\n';
  const warned = rawSlice(line, (m) => (m.clock.start = '2025-01-01T00:00:01Z'));
  const r = cli('info', warned);
  assert.equal(r.code, EXIT.OK, r.err);
  const text = "slice.json: clock.start 2025-01-01T00:00:01Z is after the first event's time (2025-01-01T09:00:00+09:00), though it is the start of the window the events were taken from; it is shown as written, and a replay does not use it";
  assert.equal(r.err, `recreplay: warning: ${text}\n`);
  assert.deepEqual(JSON.parse(cli('info', warned, '--json').out).warnings, [text]);
  // 09:00+09:00 is 00:00Z: a start at that instant, written in another zone, is not after it.
  for (const start of ['2025-01-01T00:00:00Z', '2024-12-31T23:00:00Z']) assert.equal(cli('info', rawSlice(line, (m) => (m.clock.start = start))).err, '', start);
});

test('terminal escape sequences a slice holds are shown as escapes, never sent to the terminal (info, run, errors); --json keeps the text', () => {
  const dir = join(tmp(), 'esc.slice');
  cpSync(join(EX, 'slices/cold-start.slice'), dir, { recursive: true });
  const m = JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as Record<string, unknown>;
  m['name'] = 'cold\u001b[8mhidden\u001b[0m-start';
  m['description'] = 'Home feed\u001b[2J\u001b]0;PWNED\u0007 \u202eevil \u009b31m\u007f';
  writeFileSync(join(dir, 'slice.json'), JSON.stringify(m, null, 2));
  // eslint-disable-next-line no-control-regex -- what must not reach the terminal
  const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;
  const info = cli('info', dir);
  assert.equal(info.code, EXIT.OK, info.err);
  assert.doesNotMatch(info.out, raw);
  assert.match(info.out, /^cold\\x1b\[8mhidden\\x1b\[0m-start — Home feed\\x1b\[2J\\x1b\]0;PWNED\\x07 \\u202eevil \\x9b31m\\x7f$/m);
  // --json: the same values, as valid JSON escapes (DEL and C1, which JSON.stringify leaves raw, too).
  const json = cli('info', dir, '--json').out;
  assert.doesNotMatch(json, raw);
  assert.deepEqual([JSON.parse(json).manifest.name, JSON.parse(json).manifest.description], [m['name'], m['description']]);
  // An error that quotes the slice: a --break on an event id written with an escape.
  const run = cli('run', dir, '--break', 'event.id == "\u001b[2J"');
  assert.doesNotMatch(run.out + run.err, raw);
});

test('a line break in a slice\'s text never starts a line of its own in a report: a description could print a fake "hash status  intact" under a modified slice', () => {
  const dir = join(tmp(), 'nl.slice');
  cpSync(join(EX, 'slices/cold-start.slice'), dir, { recursive: true });
  const m = JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as Record<string, unknown>;
  m['description'] = 'Home feed\n  hash status  intact (every file verified)\n';
  m['name'] = 'cold\nstart';
  writeFileSync(join(dir, 'slice.json'), JSON.stringify(m, null, 2));
  // Modified: its manifest hash is no longer the one its cached index was kept under, but its files still match.
  writeFileSync(join(dir, 'items.jsonl'), readFileSync(join(dir, 'items.jsonl'), 'utf8') + '\n');
  for (const args of [['info', dir], ['verify', dir]]) {
    const r = cli(...args);
    const lines = r.out.split('\n');
    assert.equal(lines.filter((l) => /^\s*hash status\s+intact/.test(l)).length, 0, `${args[0]}: no line of the description's own\n${r.out}`);
    if (args[0] === 'info') assert.match(r.out, /^cold\\nstart — Home feed\\n {2}hash status {2}intact \(every file verified\)\\n$/m);
  }
  // A --break report: the ids and values of the stop, one line each.
  const ids = rawSlice([eventLine('e1\nhit: fake', '2025-01-01T00:00:00Z', { user: 'u1\n  t 1999' }), eventLine('e2', '2025-01-01T00:00:01Z')].join('\n') + '\n');
  const r = cli('run', ids, '--break', 'event.user != "" && size(candidates) > 0');
  assert.equal(r.code, EXIT.OK, r.err);
  assert.ok(!r.out.split('\n').some((l) => l === 'hit: fake' || l.startsWith('  t 1999')), r.out);
  assert.match(r.out, /^at event 1 \(e1\\nhit: fake\), line 1 of /m);
  assert.match(r.out, /^ {2}event\.user += +"u1\\n {2}t 1999"$/m);
});

test('SIGTERM is heard while a finished run waits for another run\'s lock on the trace folder: exit 143 at once, not exit 3 after 30 s', async () => {
  const out = tmp();
  // A live holder (this test process) renaming into the folder.
  writeFileSync(join(out, '.recreplay-trace.lock'), `${MACHINE} ${process.pid} 0\n`);
  const child = spawn(process.execPath, [CLI, 'run', join(EX, 'slices/cold-start.slice'), '--trace', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const io = { err: '' };
  child.stderr.on('data', (d) => (io.err += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // The replay is done once the run record's temp file waits in the folder.
  const started = Date.now();
  while (!readdirSync(out).some((f) => f.startsWith('.run.json.'))) {
    if (Date.now() - started > 30_000) throw new Error(`the run never reached the lock: ${io.err}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const sent = Date.now();
  child.kill('SIGTERM');
  assert.equal(await exited, 143, io.err);
  assert.ok(Date.now() - sent < 5000, `exited ${Date.now() - sent} ms after the signal`);
  assert.match(io.err, /cancelled \(SIGTERM\); no trace was written/);
  assert.deepEqual(readdirSync(out), ['.recreplay-trace.lock'], 'no trace, no run record, no temp file; the other run\'s lock stays');
});

test('a trace folder whose old files another user owns, in a shared folder with the sticky bit, fails before the replay with what to do', { skip: process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0 ? 'needs root to run the CLI as another user (setpriv)' : false }, () => {
  const base = tmp();
  chmodSync(base, 0o755);
  const shared = join(base, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  writeFileSync(join(shared, 'trace.jsonl'), 'old trace\n');
  writeFileSync(join(shared, 'run.json'), 'old record\n');
  const slice = join(shared, 'cold.slice');
  cpSync(join(EX, 'slices/cold-start.slice'), slice, { recursive: true });
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'run', slice, '--trace', shared], { encoding: 'utf8', env: { ...process.env, RECREPLAY_CACHE_DIR: join(shared, 'cache') }, timeout: 60_000 });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /cannot replace .*shared\/trace\.jsonl: it belongs to another user, and in this shared folder \(sticky bit\) only its owner may replace it/);
  assert.equal(readFileSync(join(shared, 'trace.jsonl'), 'utf8'), 'old trace\n');
  assert.equal(readFileSync(join(shared, 'run.json'), 'utf8'), 'old record\n');
  assert.deepEqual(readdirSync(shared).filter((f) => f.startsWith('.')), [], 'no temp file left');
});

test('a ranker artifact this user may not read, or whose folder it may not enter, is said as the artifact\'s, with what to do (it was Node\'s own EACCES line)', { skip: process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0 ? 'needs root to run the CLI as another user (setpriv)' : false }, () => {
  const base = tmp();
  chmodSync(base, 0o755);
  const slice = join(base, 'cold.slice');
  cpSync(join(EX, 'slices/cold-start.slice'), slice, { recursive: true });
  const file = join(base, 'lin.json');
  cpSync(join(EX, 'rankers/cold-start-linear.json'), file);
  chmodSync(file, 0o600);
  const closed = join(base, 'closed');
  mkdirSync(closed);
  cpSync(join(EX, 'rankers/cold-start-linear.json'), join(closed, 'lin.json'));
  chmodSync(closed, 0o700);
  const asNobody = (spec: string) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'run', slice, '--ranker', spec], { encoding: 'utf8', env: { ...process.env, RECREPLAY_CACHE_DIR: join(base, 'cache') }, timeout: 60_000 });
  for (const [spec, path] of [[`linear:${file}`, file], [`embedding:${file}`, file], [`linear:${join(closed, 'lin.json')}`, join(closed, 'lin.json')]]) {
    const r = asNobody(spec as string);
    assert.equal(r.status, 3, r.stderr);
    assert.ok(r.stderr.includes(path as string), r.stderr);
    assert.match(r.stderr, /(linear|embedding) artifact cannot be read: permission denied \(EACCES\)/);
    assert.match(r.stderr, /Check the permissions of the file and of its folders/);
  }
});

test('a ranker artifact path through a file ("ranker.json/x") is not found, said as the artifact\'s', () => {
  const r = cli('run', join(EX, 'slices/cold-start.slice'), '--ranker', `linear:${join(EX, 'rankers/cold-start-linear.json')}/x`);
  assert.equal(r.code, EXIT.INPUT, r.err);
  assert.match(r.err, /linear artifact not found: a part of its path is a file, not a folder/);
});

test('a path the file system refuses (links in a loop, a name too long) is said with what to do under its own line, not Node\'s line alone', () => {
  const dir = tmp();
  symlinkSync('B', join(dir, 'A'));
  symlinkSync('A', join(dir, 'B'));
  const loop = cli('run', join(dir, 'A'));
  assert.equal(loop.code, EXIT.INPUT, loop.err);
  assert.match(loop.err, /ELOOP.*\n {2}Symbolic links in that path lead back to one another: fix or remove the link\./);
  const long = cli('run', join(EX, 'slices/cold-start.slice'), '--trace', join(dir, 'x'.repeat(300)));
  assert.equal(long.code, EXIT.INPUT, long.err);
  assert.match(long.err, /ENAMETOOLONG.*\n {2}A name in that path is longer than the file system allows/);
  assert.deepEqual(readdirSync(dir).sort(), ['A', 'B'], 'nothing made');
});

test('dap on a port another program uses, or on an address not of this machine, is said with what to do (it was an internal error with a stack)', async () => {
  const { createServer } = await import('node:net');
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as { port: number }).port;
  try {
    const inUse = cli('dap', '--port', String(port));
    assert.equal(inUse.code, EXIT.INPUT, inUse.err);
    assert.match(inUse.err, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: another program uses port ${port} there\\n  Choose another port, or --port 0`));
    assert.doesNotMatch(inUse.err, /internal error|\n {4}at /);
  } finally {
    taken.close();
  }
  // 192.0.2.1 is TEST-NET-1: never an address of a machine.
  const away = cli('dap', '--port', '0', '--host', '192.0.2.1');
  assert.equal(away.code, EXIT.INPUT, away.err);
  assert.match(away.err, /cannot listen on 192\.0\.2\.1:0: 192\.0\.2\.1 is not an address of this machine\n {2}Give an address of one of this machine's network interfaces/);
});

test('dap takes each option once and names an unknown one with the one meant, as the other commands do', () => {
  const twice = cli('dap', '--port', '0', '--port', '1');
  assert.equal(twice.code, EXIT.USAGE, twice.err);
  assert.match(twice.err, /--port is given more than once; give it once/);
  const typo = cli('dap', '--prot', '0');
  assert.equal(typo.code, EXIT.USAGE, typo.err);
  assert.match(typo.err, /unknown option --prot for dap; did you mean --port\?/);
  const other = cli('dap', '--bogus');
  assert.match(other.err, /unknown option --bogus for dap \(the options are --port, --host, --log, --verbose\)/);
});

test('a value missing, a value given to a switch, a "-" value and a stray word are said plainly, for run as for dap (they were Node\'s texts, one of three lines)', () => {
  const slice = join(EX, 'slices/cold-start.slice');
  const said = (args: string[], text: string) => {
    const r = cli(...args);
    assert.equal(r.code, EXIT.USAGE, `${args.join(' ')}: ${r.err}`);
    assert.equal(r.err.split('\n')[0], `recreplay: ${text}`, args.join(' '));
    assert.doesNotMatch(r.err, /^Option '|argument missing|Did you forget|positional/m);
  };
  said(['run', slice, '--seed'], '--seed needs a value: a whole number from 0 to 4294967295');
  said(['run', slice, '--trace'], '--trace needs a value');
  said(['run', slice, '--json=1'], '--json takes no value: write it alone, without "="');
  said(['info', slice, '--json=yes'], '--json takes no value: write it alone, without "="');
  said(['dap', '--port', '-1'], '--port needs a whole number from 0 to 65535, got what looks like an option or a negative number');
  said(['dap', '--port'], '--port needs a value: a whole number from 0 to 65535');
  said(['dap', '--log', '-f'], '--log needs a value, and what follows it starts with "-": write a value that starts with "-" as --log=VALUE');
  said(['dap', '--verbose=1'], '--verbose takes no value: write it alone, without "="');
  said(['dap', 'extra'], 'dap takes no folder or other word, got "extra"');
});

test('usage mistakes are said as what they are: another command\'s option, an option after "--", a misspelt command', () => {
  const slice = join(EX, 'slices/cold-start.slice');
  const trace = cli('info', slice, '--trace', 'x');
  assert.equal(trace.code, EXIT.USAGE);
  assert.match(trace.err, /--trace is an option of run, not of info/);
  const after = cli('run', '--', slice, '--json');
  assert.equal(after.code, EXIT.USAGE);
  assert.match(after.err, /run takes one slice folder, got also "--json": options go before "--"/);
  const runn = cli('runn', slice);
  assert.equal(runn.code, EXIT.USAGE);
  assert.match(runn.err, /unknown command "runn"; did you mean "run"\?/);
  assert.match(cli('frobnicate').err, /unknown command "frobnicate": the commands are info, verify, run and dap/);
  // A negative number: the range, not the "=" form (which would only be refused next).
  const negative = cli('run', slice, '--seed', '-1');
  assert.equal(negative.code, EXIT.USAGE);
  assert.match(negative.err, /--seed needs a whole number from 0 to 4294967295, got what looks like an option or a negative number/);
});

test('info describes a slice with a missing file from its manifest (exit 0, missing in the hash status and in --json); run refuses it', () => {
  const dir = join(tmp(), 'nousers.slice');
  cpSync(join(EX, 'slices/cold-start.slice'), dir, { recursive: true });
  rmSync(join(dir, 'users.jsonl'));
  const text = cli('info', dir);
  assert.equal(text.code, EXIT.OK, text.err);
  assert.match(text.out, /users\s+200 \(as the manifest says; the file is missing\)/);
  assert.match(text.out, /hash status\s+missing \(users\.jsonl\): restore it from the original slice or re-freeze it/);
  const j = JSON.parse(cli('info', dir, '--json').out);
  assert.deepEqual([j.events, j.users, j.missing], [650, 200, ['users.jsonl']]);
  assert.equal(cli('run', dir).code, 3);
});

test('info describes a slice whose changed files no longer read (exit 0: modified, with why it does not open); run and verify say modified', () => {
  const dir = join(tmp(), 'changed.slice');
  cpSync(join(EX, 'slices/cold-start.slice'), dir, { recursive: true });
  // A byte of the last item's line changed: the line no longer parses.
  const items = readFileSync(join(dir, 'items.jsonl'));
  items[items.length - 2] = 0x78;
  writeFileSync(join(dir, 'items.jsonl'), items);
  const text = cli('info', dir);
  assert.equal(text.code, EXIT.OK, text.err);
  assert.match(text.out, /items\s+160 \(as the manifest says; the file was modified\)/);
  assert.match(text.out, /hash status\s+modified \(items\.jsonl: its sha256 differs\): restore it from the original slice or re-freeze it/);
  assert.match(text.out, /opens\s+no — .*items\.jsonl:160: malformed JSON/);
  const j = JSON.parse(cli('info', dir, '--json').out);
  assert.deepEqual([j.items, j.modified, j.missing, j.reasons], [160, ['items.jsonl'], [], { 'items.jsonl': 'its sha256 differs' }]);
  assert.match(j.openError, /items\.jsonl:160: malformed JSON/);
  assert.equal(cli('verify', dir).code, EXIT.MODIFIED);
  assert.equal(cli('run', dir).code, EXIT.MODIFIED);
  // events.jsonl emptied: no events to describe, and modified.
  writeFileSync(join(dir, 'items.jsonl'), readFileSync(join(EX, 'slices/cold-start.slice/items.jsonl')));
  writeFileSync(join(dir, 'events.jsonl'), '');
  const empty = cli('info', dir);
  assert.equal(empty.code, EXIT.OK, empty.err);
  assert.match(empty.out, /hash status\s+modified \(events\.jsonl: [^)]*\)/);
  assert.match(empty.out, /opens\s+no — /);
});

test('info on a slice whose files match its manifest but do not read still fails (exit 3): the slice was written wrong, not changed', () => {
  const items = '{"id":"a"}\n{"id": broken\n';
  const dir = rawSlice(eventLine('e1', '2025-01-01T00:00:00Z') + '\n', (m) => {
    m.files = [m.files[0] as (typeof m.files)[number], { path: 'items.jsonl', sha256: createHash('sha256').update(items).digest('hex'), bytes: items.length, records: 2 }];
  });
  writeFileSync(join(dir, 'items.jsonl'), items);
  const r = cli('info', dir);
  assert.equal(r.code, EXIT.INPUT, r.out);
  assert.match(r.err, /items\.jsonl:2: malformed JSON/);
});

test('a cache folder under a file (HOME=/dev/null, a service account) is no error: run, info and verify work without a cache, as a debug session does (run and info failed, exit 3, on tidying a temp file)', () => {
  const dir = makeSlice(20);
  const file = join(tmp(), 'a-file');
  writeFileSync(file, 'not a folder');
  const expected = JSON.parse(cli('run', dir, '--json').out).traceSha256 as string;
  for (const env of [{ RECREPLAY_CACHE_DIR: file }, { RECREPLAY_CACHE_DIR: join(file, 'x', 'y') }, { RECREPLAY_CACHE_DIR: undefined, XDG_CACHE_HOME: undefined, HOME: file }]) {
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 });
    const r = run('run', dir, '--json');
    assert.equal(r.status, 0, `${JSON.stringify(env)}: ${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).traceSha256, expected);
    assert.equal(run('info', dir).status, 0);
    assert.equal(run('verify', dir).status, 0);
  }
  assert.equal(readFileSync(file, 'utf8'), 'not a folder');
});

test('run\'s summary tells a 0 that nothing was there to measure from a measured 0: no recorded click, no slate of two, no cache or queue figures', () => {
  const f = fixture(12);
  for (const e of f.events) {
    e.served = e.served.slice(0, 1);
    e.outcome = { clicks: [] };
    delete e.system;
  }
  const dir = join(tmp(), 'bare.slice');
  writeSlice(dir, { manifest: { ...BASE_MANIFEST, pipeline: { k: 1, budgetMs: 100 } }, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const r = cli('run', dir);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /hit_rate@1\s+0 \(no event recorded a click\)/);
  assert.match(r.out, /ndcg@1\s+0 \(no event recorded a click\)/);
  assert.match(r.out, /diversity@1\s+0 \(no slate of two or more items with categories\)/);
  assert.match(r.out, /cache_hit_rate\s+0 \(no cache lookup recorded: no event had cache hits or misses\)/);
  assert.match(r.out, /queue_depth\.mean\s+0 \(no event recorded a queue depth\)/);
  // --json keeps the documented numbers.
  const j = JSON.parse(cli('run', dir, '--json').out) as { metrics: Record<string, number> };
  assert.equal(j.metrics['cache_hit_rate'], 0);
  // Where there was something to measure, the figure stands alone.
  const full = cli('run', makeSlice(20)).out;
  assert.match(full, /cache_hit_rate\s+[\d.]+\n/);
  assert.doesNotMatch(full, /\(no event/);
});

test('run says how many impressions and clicks the click model simulated, beside the CTR and in --json', () => {
  const fresh = join(ROOT, 'examples/rankers/cold-start-fresh.json');
  const j = JSON.parse(cli('run', join(EX, 'slices/cold-start.slice'), '--ranker', `linear:${fresh}`, '--json').out) as { metrics: Record<string, number>; outcomes: { impressions: { recorded: number; simulated: number }; clicks: { recorded: number; simulated: number } } };
  const o = j.outcomes;
  assert.equal(o.impressions.recorded + o.impressions.simulated, j.metrics['impressions']);
  assert.equal(o.clicks.recorded + o.clicks.simulated, j.metrics['clicks']);
  assert.ok(o.impressions.simulated > 0 && o.impressions.recorded > 0);
  const text = cli('run', join(EX, 'slices/cold-start.slice'), '--ranker', `linear:${fresh}`).out;
  assert.match(text, new RegExp(`ctr\\s+[\\d.]+ \\(${o.impressions.simulated.toLocaleString('en-US')} of ${j.metrics['impressions']?.toLocaleString('en-US')} impressions simulated by the click model, ${o.clicks.simulated} of ${j.metrics['clicks']} clicks\\)`));
});

test('run\'s summary of events that record cache figures of 0 hits and 0 misses says no lookup was recorded (it said no event recorded them)', () => {
  const f = fixture(6);
  for (const e of f.events) e.system = { ...e.system, cache: { hits: 0, misses: 0 } };
  const dir = join(tmp(), 'cold-cache.slice');
  writeSlice(dir, { manifest: BASE_MANIFEST, ...f }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const r = cli('run', dir);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /cache_hit_rate\s+0 \(no cache lookup recorded: no event had cache hits or misses\)/);
});

test('run counts faults and the events that raised them: 2 non-finite scores an event over 3 events is nan_score × 6 in 3 events', () => {
  const dir = join(tmp(), 'inf.slice');
  const events = [1, 2, 3].map((n) => ({ id: `e${n}`, t: `2025-01-01T00:00:0${n}Z`, user: 'u1', candidates: [{ item: 'a', features: { x: 1e308 } }, { item: 'b', features: { x: 1e308 } }, { item: 'c', features: { x: 1 } }], served: ['a', 'b', 'c'] }));
  writeSlice(dir, { manifest: BASE_MANIFEST, events, items: [{ id: 'a' }, { id: 'b' }, { id: 'c' }], users: [{ id: 'u1' }] }, { frozenAt: '2025-01-02T00:00:00.000Z' });
  const model = join(tmp(), 'm.json');
  writeFileSync(model, JSON.stringify({ weights: { x: 10 } }));
  const j = JSON.parse(cli('run', dir, '--ranker', `linear:${model}`, '--json').out) as { faults: Record<string, { count: number; events: number; firstEvent: number }> };
  assert.deepEqual({ count: j.faults['nan_score']?.count, events: j.faults['nan_score']?.events, first: j.faults['nan_score']?.firstEvent }, { count: 6, events: 3, first: 1 });
  const r = cli('run', dir, '--ranker', `linear:${model}`);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /nan_score × 6 in 3 events \(first at event 1, e1\): score of a is Infinity/);
});
