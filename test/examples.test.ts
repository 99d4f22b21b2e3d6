import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { tmp } from './helpers';

const ROOT = join(__dirname, '..');

test('the example slices are reproducible: regenerating them gives byte-identical files, each under 2 MB', () => {
  const out = tmp();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'examples/generate.ts')], { encoding: 'utf8', env: { ...process.env, RECREPLAY_EXAMPLES_OUT: out } });
  assert.equal(r.status, 0, r.stderr);
  for (const slice of ['cold-start.slice', 'latency-cascade.slice']) {
    let total = 0;
    for (const f of readdirSync(join(ROOT, 'examples/slices', slice))) {
      const committed = readFileSync(join(ROOT, 'examples/slices', slice, f));
      total += committed.length;
      assert.ok(readFileSync(join(out, slice, f)).equals(committed), `${slice}/${f} differs from a fresh generation`);
    }
    assert.ok(total <= 2 * 1024 * 1024, `${slice} is ${total} bytes`);
  }
});

test('the README\'s sample run prints what the README shows (every line of the sample but the timing and the elisions)', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /```\n\$ (npx recreplay run [^\n]+)\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'the README shows a sample run');
  const args = (block[1] as string).replace(/^npx recreplay /, '').split(' ');
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/cli.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  const actual = r.stdout.split('\n');
  for (const line of (block[2] as string).split('\n')) {
    if (line.trim() === '' || line.trim() === '…' || line.startsWith('replayed ')) continue;
    // "trace sha256 dd358e6a4468f1ea… (941.4 bytes/event)": the shown prefix and the size.
    const sha = /^trace sha256 ([0-9a-f]+)… (\(.*\))$/.exec(line);
    if (sha) assert.ok(actual.some((l) => l.startsWith(`trace sha256 ${sha[1]}`) && l.endsWith(sha[2] as string)), `README: ${line}`);
    else assert.ok(actual.includes(line), `README: "${line}" is not in the output:\n${r.stdout}`);
  }
});

const tsx = (script: string, args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'examples', script), ...args], { encoding: 'utf8', cwd: ROOT });
const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'dist/cli.js'), ...args], { encoding: 'utf8', cwd: ROOT });

test('examples/freeze.ts freezes the bundled request log into a slice that verifies and replays; a bad log line is named', () => {
  const out = join(tmp(), 'mine.slice');
  const r = tsx('freeze.ts', [out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^froze 24 events, 12 items and 5 users into /);
  assert.equal(cli(['verify', out]).status, 0);
  const run = cli(['run', out, '--json']);
  assert.equal(run.status, 0, run.stderr);
  const res = JSON.parse(run.stdout);
  assert.equal(res.events, 24);
  // The recorded ranker replays what production served: the replayed top 5 is the logged one.
  assert.equal(res.metrics['overlap@5'], 1);
  // A second freeze to the same folder is refused, not merged into it.
  const again = tsx('freeze.ts', [out]);
  assert.equal(again.status, 3);
  assert.match(again.stderr, /already exists/);
  // A broken line in the log: file and line, no stack trace, no slice.
  const dir = tmp();
  const log = readFileSync(join(ROOT, 'examples/logs/requests.jsonl'), 'utf8').split('\n');
  log[2] = '{"request_id": "req-0003", oops';
  writeFileSync(join(dir, 'requests.jsonl'), log.join('\n'));
  const bad = tsx('freeze.ts', [join(dir, 'bad.slice'), join(dir, 'requests.jsonl')]);
  assert.equal(bad.status, 3);
  assert.match(bad.stderr, /requests\.jsonl:3.*malformed JSON/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
  assert.ok(!existsSync(join(dir, 'bad.slice')));
  // A line of another shape, and an event the writer refuses, are named by their line in the log (a blank line counted).
  const lines = readFileSync(join(ROOT, 'examples/logs/requests.jsonl'), 'utf8').split('\n');
  const noShown = JSON.parse(lines[1] as string);
  delete noShown.shown;
  writeFileSync(join(dir, 'shape.jsonl'), [lines[0], JSON.stringify(noShown)].join('\n') + '\n');
  const shape = tsx('freeze.ts', [join(dir, 'shape.slice'), join(dir, 'shape.jsonl')]);
  assert.equal(shape.status, 3);
  assert.match(shape.stderr, /shape\.jsonl:2: shown must be an array/);
  const early = JSON.parse(lines[2] as string);
  early.ts_ms -= 3_600_000;
  writeFileSync(join(dir, 'order.jsonl'), [lines[0], '', lines[1], JSON.stringify(early)].join('\n') + '\n');
  const order = tsx('freeze.ts', [join(dir, 'order.slice'), join(dir, 'order.jsonl')]);
  assert.equal(order.status, 3);
  assert.match(order.stderr, /order\.jsonl:4: event req-0003 is out of time order/);
  assert.doesNotMatch(shape.stderr + order.stderr, /\n\s+at /);
});

test('examples/custom-ranker.ts replays cold start with a model written in code: new items reach the top 10, trace and run record written', () => {
  const out = tmp();
  const r = tsx('custom-ranker.ts', [join(ROOT, 'examples/slices/cold-start.slice'), out]);
  assert.equal(r.status, 0, r.stderr);
  const parity = Number(/exposure_parity\s+([\d.]+)/.exec(r.stdout)?.[1]);
  // The linear model of the example gives 0; the freshness boost lifts it well above — to the
  // figure README.md and examples/README.md quote.
  assert.ok(parity > 0.3, r.stdout);
  const inReadme = /\(exposure parity 0 → ([\d.]+)\)/.exec(readFileSync(join(ROOT, 'README.md'), 'utf8'))?.[1];
  const inExamples = /`exposure_parity` rises from 0 to ~([\d.]+)\./.exec(readFileSync(join(ROOT, 'examples/README.md'), 'utf8'))?.[1];
  for (const shown of [inReadme, inExamples]) {
    assert.ok(shown, 'the READMEs give the parity custom-ranker.ts reaches');
    assert.equal(parity.toFixed(shown.split('.')[1]?.length ?? 0), shown, `the READMEs say ${shown}, the script prints ${parity}`);
  }
  const rec = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(rec.config.ranker.kind, 'code:freshness-aware');
  assert.equal(rec.events, 650);
});

test('examples/custom-ranker.ts says when its model fails: a score that throws at every event prints the ranker_error fault with its first event (it printed the fallback ranking\'s metrics alone, as a working model\'s)', () => {
  // The example's model calls Math.exp (the engine does not): made to throw, every event's score throws.
  const failing = 'data:text/javascript,Math.exp=()=>{throw new Error("model server down")}';
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', failing, join(ROOT, 'examples/custom-ranker.ts'), join(ROOT, 'examples/slices/cold-start.slice'), tmp()], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /replayed 650 events with code:freshness-aware/);
  assert.match(r.stdout, /fault ranker_error: 650 in 650 events, first at event 1 \(e00001\): ranker failed: model server down/);
});

test('examples/custom-ranker.ts writes the OS user and this machine\'s name into its run record (it wrote $USER, or "me", and "local")', () => {
  const out = tmp();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'examples/custom-ranker.ts'), join(ROOT, 'examples/slices/cold-start.slice'), out], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, USER: 'not-the-os-user' } });
  assert.equal(r.status, 0, r.stderr);
  const rec = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(rec.user, userInfo().username);
  assert.equal(rec.host, hostname());
});
