import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { exprScope } from '../../src/core/engine/exprScope';
import { placeOf } from '../../src/cli/breakReport';
import { compileExpr } from '../../src/core/expr';
import { replayEach } from '../dap/slices';
import { tmp } from '../helpers';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const SLICE = join(ROOT, 'examples/slices/cold-start.slice');
const RANKER = `linear:${join(ROOT, 'examples/rankers/cold-start-linear.json')}`;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function firstHit(condition: string): Promise<number | undefined> {
  const c = compileExpr(condition);
  let hit: number | undefined;
  await replayEach(SLICE, RANKER, (ex, r) => {
    if (c.evaluate(exprScope(ex, r)) !== true) return;
    hit = ex.n;
    return true;
  });
  return hit;
}

test('run --break stops at the first event where the expression holds and prints the stop report; exit 0', async () => {
  const expr = 'rank("i_120") <= 20 && user.segment == "new"';
  const n = await firstHit(expr);
  assert.ok(n !== undefined && n > 1);
  const r = cli('run', SLICE, '--ranker', RANKER, '--break', expr);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`^hit: ${expr.replace(/[()"]/g, '\\$&')}$`, 'm'));
  assert.match(r.out, new RegExp(`at event ${n} \\(e${String(n).padStart(5, '0')}\\), line ${n} of .*events\\.jsonl`));
  assert.match(r.out, /rank\("i_120"\)\s+=\s+\d+/, 'the values the expression used');
  assert.match(r.out, /user\.segment\s+=\s+"new"/);
  assert.match(r.out, /rank\s+item\s+score\s+recorded\s+delta\s+served\s+clicked/, 'the ranking table has recorded ranks and deltas');
  assert.match(r.out, /#1\s+i_\d+\s+[\d.]+\s+#\d+\s+(=|[+-]\d+)\s+yes/);
  assert.match(r.out, /i_120/);
});

test('run --break --json prints one object with the event, the values and the ranking', async () => {
  const expr = 'score("i_119") > 0.6';
  const n = await firstHit(expr);
  const out = tmp();
  const r = cli('run', SLICE, '--ranker', RANKER, '--break', expr, '--json', '--trace', out);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.hit, true);
  assert.equal(j.event, n);
  // The run's own summary, as `run --json` prints it, for the events replayed up to the stop.
  assert.equal(j.events, n);
  assert.equal(typeof j.metrics['hit_rate@10'], 'number');
  assert.equal(j.traceSha256, createHash('sha256').update(readFileSync(join(out, 'trace.jsonl'))).digest('hex'));
  assert.equal(j.runRecord, join(out, 'run.json'));
  assert.equal(j.line, n);
  assert.ok(j.values['score("i_119")'] > 0.6);
  assert.equal(j.ranking[0].rank, 1);
  assert.equal(typeof j.ranking[0].recordedRank, 'number');
  assert.equal(j.ranking[0].delta, j.ranking[0].recordedRank - 1);
  // `faults` is the run's counts by kind, as `run --json` has it; the stopped event's own list is `eventFaults`.
  assert.ok(j.faults !== null && typeof j.faults === 'object' && !Array.isArray(j.faults), JSON.stringify(j.faults));
  assert.ok(Array.isArray(j.eventFaults));
  // The run record says the run stopped early, where and why (the trace holds events 1..n).
  const record = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.deepEqual(record.stoppedAt, { event: n, id: j.id, condition: expr });
  assert.equal(record.events, n);
  assert.equal(readFileSync(join(out, 'trace.jsonl'), 'utf8').trimEnd().split('\n').length, 1 + (n as number));
});

test('run --break that never holds exits 1 and says so', () => {
  const r = cli('run', SLICE, '--ranker', RANKER, '--break', 'rank("i_120") < 0');
  assert.equal(r.code, 1);
  assert.match(r.out, /not hit: rank\("i_120"\) < 0 never held in 650 events/);
  const j = JSON.parse(cli('run', SLICE, '--ranker', RANKER, '--break', 'rank("i_120") < 0', '--json').out);
  assert.equal(j.hit, false);
  assert.equal(j.events, 650);
  assert.equal(typeof j.metrics['ndcg@10'], 'number');
  assert.match(j.traceSha256, /^[0-9a-f]{64}$/);
});

test('run --break with a bad expression exits 3 naming the column, before or after the slice opens', () => {
  const syntax = cli('run', SLICE, '--break', 'rank("i_120" < 0');
  assert.equal(syntax.code, 3);
  assert.match(syntax.err, /--break: column \d+: expected '\)' to close the call opened at column 5/);
  assert.match(syntax.err, /\n {2}rank\("i_120" < 0\n\s+\^/, 'the expression with a caret under the column');
  const unknown = cli('run', SLICE, '--break', 'candidates.exists(c, c.features.ctr_7 > 0.1)');
  assert.equal(unknown.code, 3);
  assert.match(unknown.err, /column 33: unknown feature 'ctr_7'; did you mean 'ctr_7d'\?/);
  const runtime = cli('run', SLICE, '--break', '1 / (event.index - 5) > 10');
  assert.equal(runtime.code, 3);
  assert.match(runtime.err, /--break failed at event 5 \(e00005, line 5 of .*events\.jsonl\): column \d+: division by zero/);
  assert.doesNotMatch(runtime.err, /at .*\.js:\d+/, 'no stack trace');
});

test('run --break whose expression gives something other than true or false is an error at that event, not a silent "never held"', () => {
  const r = cli('run', SLICE, '--ranker', RANKER, '--break', 'candidates[0].meta.category');
  assert.equal(r.code, 3, r.err);
  assert.match(r.err, /--break failed at event 1 \(e00001, line 1 of .*events\.jsonl\): column 1: the expression \(all of it\) gave "\w+", not true or false/);
  assert.doesNotMatch(r.out, /not hit/);
});

test('run --break says the checker warnings the debugger shows (an unknown item id, a number compared with a string) before replaying', () => {
  const r = cli('run', SLICE, '--ranker', RANKER, '--break', 'rank("i_42") <= 3');
  assert.equal(r.code, 1);
  assert.match(r.err, /warning: --break, column 6: unknown item 'i_42'.*did you mean 'i_042'\?\n {2}rank\("i_42"\) <= 3\n {7}\^/);
  const s = cli('run', SLICE, '--ranker', RANKER, '--break', 'user.tenure_days == "30"');
  assert.match(s.err, /warning: --break, column 1: comparing number with string using '==' is always false/);
});

test('run --break written over several lines (a // comment ends a line) says the line and column, with the caret under that line', () => {
  const r = cli('run', SLICE, '--ranker', RANKER, '--break', 'rank("i_042") <= 3 // top three\n  && user.segmnt == 1');
  assert.equal(r.code, 3, r.err);
  assert.match(r.err, /--break: line 2, column 11: unknown user field or feature 'segmnt'; did you mean 'segment'\?\n {4}&& user\.segmnt == 1\n {12}\^/);
});

test('an expression error shows a long line around the place only, the caret under it: a 50,000-character --break echoed whole (~50 KB on stderr)', () => {
  const caretAt = (excerpt: string) => {
    const [line, caret] = excerpt.split('\n') as [string, string];
    return { line, at: caret.indexOf('^') - 2 };
  };
  // Short lines are shown whole, as before.
  assert.deepEqual(placeOf('event.n > 5 && foo(1)', 15), { label: 'column 16', excerpt: 'event.n > 5 && foo(1)\n                 ^' });
  const long = 'event.n > 5 && '.repeat(30) + 'foo(1)';
  for (const start of [0, 7, 200, long.length - 6, long.length]) {
    const { label, excerpt } = placeOf(long, start);
    assert.equal(label, `column ${start + 1}`);
    const { line, at } = caretAt(excerpt);
    assert.ok(line.length <= 78, `${line.length}: ${line}`);
    // What the caret points at is the character at the place.
    assert.equal(line[at], long[start] ?? undefined, `at ${start}: ${excerpt}`);
    assert.equal(line.startsWith('…'), start > 40, `cut before ${start}`);
  }
  // A line of an expression over several lines, tabs kept so the caret lines up.
  const multi = `event.n > 5 &&\n\t${'x'.repeat(200)} && foo(1)`;
  const place = placeOf(multi, multi.indexOf('foo'));
  assert.equal(place.label, 'line 2, column 206');
  const { line, at } = caretAt(place.excerpt);
  assert.equal(line.slice(at, at + 3), 'foo');
});
