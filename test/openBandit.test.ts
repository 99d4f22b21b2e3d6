// The real-data fixture: the Open Bandit Dataset sample beside the checkout, frozen into a slice by
// examples/freeze-open-bandit.ts and replayed through the CLI. Every figure checked here is worked
// out again from the CSV itself (parsed independently), not taken from the slice. Skips, saying so,
// where the sample is not beside the checkout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'csv-parse/sync';
import { DEFAULT_DATA } from '../examples/freeze-open-bandit';
import type { EventRecord } from '../src/core/slice/types';
import { tmp } from './helpers';

const ROOT = resolve(__dirname, '..');
const SCRIPT = join(ROOT, 'examples/freeze-open-bandit.ts');
const TSX = pathToFileURL(require.resolve('tsx')).href;
const CLI = join(ROOT, 'dist/cli.js');
const skip = existsSync(join(DEFAULT_DATA, 'men.csv')) ? false : `no Open Bandit sample at ${DEFAULT_DATA} (the shared data beside the checkout)`;

const freeze = (args: string[]) => spawnSync(process.execPath, ['--import', TSX, SCRIPT, ...args], { encoding: 'utf8', cwd: ROOT });
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });

interface CsvRow {
  [column: string]: string;
}

test('the Open Bandit sample freezes into a slice whose events, clicks and CTR by position are the CSV\'s, and replays through the CLI to figures worked out from the CSV', { skip, timeout: 120_000 }, () => {
  const rows = parse(readFileSync(join(DEFAULT_DATA, 'men.csv')), { columns: true }) as CsvRow[];
  const items = parse(readFileSync(join(DEFAULT_DATA, 'item_context.csv')), { columns: true }) as CsvRow[];
  const dir = tmp();
  const out = join(dir, 'men.slice');
  const r = freeze([out, '--frozen-at', '2026-01-01T00:00:00Z']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'no warnings');
  assert.match(r.stdout, new RegExp(`^froze ${rows.length} impressions, ${items.length} items and \\d+ users into `));

  // The events are the rows, in order: the item shown, its slot, the click, the time to the millisecond.
  const events = readFileSync(join(out, 'events.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as EventRecord);
  assert.equal(events.length, rows.length);
  const byPosition = new Map<number, { shown: number; clicks: number }>();
  rows.forEach((row, i) => {
    const e = events[i] as EventRecord;
    assert.deepEqual(e.served, [`i${row['item_id']}`]);
    assert.deepEqual(e.outcome?.clicks, row['click'] === '1' ? [`i${row['item_id']}`] : []);
    assert.equal(e.t, new Date(Date.parse((row['timestamp'] as string).replace(' ', 'T'))).toISOString());
    assert.equal(e.candidates.length, items.length);
    const p = Number(row['position']);
    const s = byPosition.get(p) ?? { shown: 0, clicks: 0 };
    s.shown++;
    s.clicks += Number(row['click']);
    byPosition.set(p, s);
  });
  // CTR by position (the logging policy is uniform, so this is position bias) from the slice's events.
  const fromSlice = new Map<number, { shown: number; clicks: number }>();
  for (const e of events) {
    const p = e.context?.['position'] as number;
    const s = fromSlice.get(p) ?? { shown: 0, clicks: 0 };
    s.shown++;
    s.clicks += e.outcome?.clicks?.length ?? 0;
    fromSlice.set(p, s);
  }
  assert.deepEqual([...fromSlice].sort(), [...byPosition].sort());
  assert.equal(byPosition.size, 3);

  // Intact, and reproducible: the same files and freeze time give byte-identical files.
  assert.equal(cli('verify', out).status, 0);
  const again = join(dir, 'again.slice');
  assert.equal(freeze([again, '--frozen-at', '2026-01-01T00:00:00Z']).status, 0);
  for (const f of readdirSync(out)) assert.ok(readFileSync(join(again, f)).equals(readFileSync(join(out, f))), `${f} is the same`);

  // Replayed as recorded: the log's impressions and clicks.
  const clicks = rows.filter((row) => row['click'] === '1');
  const recorded = JSON.parse(cli('run', out, '--json').stdout) as { events: number; metrics: Record<string, number>; outcomes: { clicks: { recorded: number }; impressions: { recorded: number } } };
  assert.equal(recorded.events, rows.length);
  assert.equal(recorded.outcomes.impressions.recorded, rows.length);
  assert.equal(recorded.outcomes.clicks.recorded, clicks.length);
  assert.equal(recorded.metrics['ctr'], clicks.length / rows.length);

  // Replayed with the example ranker (affinity + 0.01 · item_feature_0): hit rate@1 is the share of
  // clicked impressions whose clicked item is the one it scores highest (first in catalogue order on a tie).
  const model = JSON.parse(readFileSync(join(ROOT, 'examples/rankers/open-bandit-affinity.json'), 'utf8')) as { weights: Record<string, number> };
  const f0 = new Map(items.map((it) => [`i${it['item_id']}`, Number(it['item_feature_0'])]));
  const top = (row: CsvRow) => {
    let best = '';
    let bestScore = -Infinity;
    for (const it of items) {
      const id = `i${it['item_id']}`;
      const s = (model.weights['affinity'] ?? 0) * Number(row[`user-item_affinity_${it['item_id']}`]) + (model.weights['item_feature_0'] ?? 0) * (f0.get(id) as number);
      if (s > bestScore) [best, bestScore] = [id, s];
    }
    return best;
  };
  const hits = clicks.filter((row) => top(row) === `i${row['item_id']}`).length;
  const linear = JSON.parse(cli('run', out, '--ranker', 'linear:examples/rankers/open-bandit-affinity.json', '--json').stdout) as { metrics: Record<string, number> };
  assert.equal(linear.metrics['hit_rate@1'], hits / clicks.length);
});

test('freeze-open-bandit.ts names a bad row by its file, line and column, exits 3 and writes nothing', { skip }, () => {
  const dir = tmp();
  const data = join(dir, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'item_context.csv'), readFileSync(join(DEFAULT_DATA, 'item_context.csv')));
  const lines = readFileSync(join(DEFAULT_DATA, 'men.csv'), 'utf8').split('\n').slice(0, 6);
  // Line 4 (the third row): a click of "yes".
  const cells = (lines[3] as string).split(',');
  cells[4] = 'yes';
  lines[3] = cells.join(',');
  writeFileSync(join(data, 'men.csv'), lines.join('\n') + '\n');
  const r = freeze([join(dir, 'bad.slice'), data]);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, new RegExp(`^freeze failed: ${join(data, 'men.csv').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: click must be a number: got "yes" \\(field click\\)\\n  `));
  assert.deepEqual(readdirSync(dir).sort(), ['data']);
  // A row short of a column.
  lines[3] = cells.slice(0, -1).join(',');
  writeFileSync(join(data, 'men.csv'), lines.join('\n') + '\n');
  const short = freeze([join(dir, 'short.slice'), data]);
  assert.equal(short.status, 3, short.stderr);
  assert.match(short.stderr, /men\.csv:4: \d+ columns where the header has \d+/);
  assert.deepEqual(readdirSync(dir).sort(), ['data']);
});

/** A campaign folder in the dataset's shape (two items), written as bytes: `rows` are [timestamp, item_id, click, user_feature_0]. */
function campaign(dir: string, rows: [string, number, number, string][], category1 = 'c1'): string {
  const data = join(dir, 'data');
  mkdirSync(data);
  const items = [',item_id,item_feature_0,item_feature_1,item_feature_2,item_feature_3', `0,0,0.5,${category1},f2,f3`, '1,1,-0.5,c0,f2,f3'];
  writeFileSync(join(data, 'item_context.csv'), Buffer.from(items.join('\n') + '\n', 'latin1'));
  const header = ',timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1,user_feature_2,user_feature_3,user-item_affinity_0,user-item_affinity_1';
  const lines = rows.map(([t, item, click, user], i) => `${i},${t},${item},1,${click},0.5,${user},a,b,c,0.0,1.0`);
  writeFileSync(join(data, 'men.csv'), Buffer.from([header, ...lines].join('\n') + '\n', 'latin1'));
  return data;
}

/** A timestamp of the campaign's CSV, `s` seconds into its day. */
const t = (s: number) => `2019-11-24 00:00:0${s}.000000+00:00`;

test('freeze-open-bandit.ts: a CSV that is not UTF-8 (a Latin-1 "é") is refused at its file, line and column, not decoded to U+FFFD; nothing is written', () => {
  const dir = tmp();
  // "café" and "cafè" in Latin-1: decoded as UTF-8 both would be "caf\uFFFD", one user.
  const data = campaign(dir, [[t(1), 0, 0, 'ok'], [t(2), 1, 1, 'café'], [t(3), 0, 0, 'cafè']]);
  const r = freeze([join(dir, 'l1.slice'), data]);
  assert.equal(r.status, 3, r.stderr + r.stdout);
  const column = `1,${t(2)},1,1,1,0.5,caf`.length + 1;
  assert.match(r.stderr, new RegExp(`^freeze failed: .*men\\.csv:3:${column}: the line is not valid UTF-8: byte 0xE9`));
  // The catalogue too.
  const dir2 = tmp();
  const r2 = freeze([join(dir2, 'l1.slice'), campaign(dir2, [[t(1), 0, 0, 'ok']], 'prêt')]);
  assert.equal(r2.status, 3, r2.stderr + r2.stdout);
  assert.match(r2.stderr, /item_context\.csv:2:\d+: the line is not valid UTF-8: byte 0xEA/);
  assert.deepEqual(readdirSync(dir).sort(), ['data']);
  assert.deepEqual(readdirSync(dir2).sort(), ['data']);
});

test('freeze-open-bandit.ts: what the writer refuses or warns of is named by the CSV\'s file and line, not as "events:N" of a file never written', () => {
  const dir = tmp();
  // The third row (line 4) is earlier than the second.
  const data = campaign(dir, [[t(1), 0, 0, 'u1'], [t(5), 1, 1, 'u2'], [t(3), 0, 0, 'u3']]);
  const r = freeze([join(dir, 'order.slice'), data]);
  assert.equal(r.status, 3, r.stderr + r.stdout);
  assert.match(r.stderr, /^freeze failed: .*men\.csv:4: event obd-2 is out of time order/);
  assert.deepEqual(readdirSync(dir).sort(), ['data']);
  // Two rows with one index: the warning names both lines of the CSV.
  const dir2 = tmp();
  const dup = campaign(dir2, [[t(1), 0, 0, 'u1'], [t(2), 1, 1, 'u2']]);
  const csv = readFileSync(join(dup, 'men.csv'), 'utf8').replace('\n1,', '\n0,');
  writeFileSync(join(dup, 'men.csv'), csv);
  const w = freeze([join(dir2, 'dup.slice'), dup]);
  assert.equal(w.status, 0, w.stderr);
  assert.match(w.stderr, /^warning: 1 event repeats the id of an earlier event; first: \S*men\.csv:3 repeats "obd-0" of \S*men\.csv:2 /);
});
