// examples/freeze.ts on logs that production writes: characters split across its read blocks,
// paths that cannot be read, catalogue mistakes, reproducible freezes, and a freeze stopped midway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, watch, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../src/core/errors';
import { parseEventLine } from '../src/core/slice/events';
import { parseInstant } from '../src/core/time';
import { tmp } from './helpers';

const ROOT = join(__dirname, '..');
const SCRIPT = join(ROOT, 'examples/freeze.ts');
// tsx by its path, so the script also runs from a folder that has no node_modules.
const TSX = pathToFileURL(require.resolve('tsx')).href;
const freeze = (args: string[], cwd = ROOT) => spawnSync(process.execPath, ['--import', TSX, SCRIPT, ...args], { encoding: 'utf8', cwd });

const LOG = readFileSync(join(ROOT, 'examples/logs/requests.jsonl'), 'utf8').trim().split('\n');
const CATALOG = readFileSync(join(ROOT, 'examples/logs/catalog.jsonl'), 'utf8').trim().split('\n');
const lines = (rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

/** The sample log `times` over, an hour apart each time (so it stays in time order), ids made unique. */
function repeatedLog(times: number, map: (r: Record<string, unknown>) => Record<string, unknown> = (r) => r): string[] {
  const out: string[] = [];
  for (let k = 0; k < times; k++) {
    for (const l of LOG) {
      const r = JSON.parse(l);
      r.request_id = `${r.request_id}-${k}`;
      r.ts_ms += k * 3_600_000;
      out.push(JSON.stringify(map(r)));
    }
  }
  return out;
}

test('freeze.ts: a character split across two of its 1 MiB read blocks keeps its bytes: the slice holds the logged item ids', () => {
  const dir = tmp();
  // Cyrillic ids take 2 bytes a letter in UTF-8.
  const ru = (s: string) => s.replace(/^sku_/, 'товар_');
  writeFileSync(join(dir, 'catalog.jsonl'), lines(CATALOG.map((l) => ({ ...JSON.parse(l), sku: ru(JSON.parse(l).sku) }))));
  const log = repeatedLog(60, (r) => ({
    ...r,
    shown: (r['shown'] as { sku: string }[]).map((s) => ({ ...s, sku: ru(s.sku) })),
    served: (r['served'] as string[]).map(ru),
    clicked: (r['clicked'] as string[]).map(ru),
  }));
  // Pad the first line until the block boundary falls inside a character (on a continuation byte).
  let bytes = Buffer.from('');
  for (let pad = 0; pad < 64; pad++) {
    const first = JSON.stringify({ ...JSON.parse(log[0] as string), note: 'x'.repeat(pad) });
    bytes = Buffer.from(lines([first, ...log.slice(1)]));
    if (((bytes[1 << 20] as number) & 0xc0) === 0x80) break;
  }
  assert.equal((bytes[1 << 20] as number) & 0xc0, 0x80, 'the log puts a character across the 1 MiB boundary');
  writeFileSync(join(dir, 'requests.jsonl'), bytes);

  const r = freeze([join(dir, 'ru.slice'), join(dir, 'requests.jsonl'), join(dir, 'catalog.jsonl')]);
  assert.equal(r.status, 0, r.stderr);
  const events = readFileSync(join(dir, 'ru.slice/events.jsonl'), 'utf8');
  assert.ok(!events.includes('\uFFFD'), 'no id was turned into U+FFFD');
  const ids = new Set(CATALOG.map((l) => ru(JSON.parse(l).sku)));
  for (const line of events.trim().split('\n')) {
    for (const c of JSON.parse(line).candidates) assert.ok(ids.has(c.item), `${c.item} is a catalogue id`);
  }
});

test('freeze.ts: a log or catalogue that cannot be read is one line naming it, exit 3, no stack trace', () => {
  const dir = tmp();
  const cases: [string[], RegExp][] = [
    [[join(dir, 'nope.jsonl')], /^freeze failed: .*nope\.jsonl: cannot read the request log \(no such file\): give the path/],
    [[join(ROOT, 'examples/logs/requests.jsonl'), join(dir, 'nocat.jsonl')], /^freeze failed: .*nocat\.jsonl: cannot read the catalogue \(no such file\)/],
    [[dir], /cannot read the request log \(it is a folder\)/],
  ];
  for (const [inputs, message] of cases) {
    const r = freeze([join(dir, 'out.slice'), ...inputs]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.deepEqual(readdirSync(dir), [], 'nothing was written');
  }
});

test('freeze.ts: catalogue problems are named by the catalogue\'s file and line; a row without "listed" or a price in quotes is refused', () => {
  const dir = tmp();
  const rows = CATALOG.map((l) => JSON.parse(l));
  const run = (name: string, catalogue: unknown[]) => {
    writeFileSync(join(dir, name), lines(catalogue));
    const r = freeze([join(dir, `${name}.slice`), join(ROOT, 'examples/logs/requests.jsonl'), join(dir, name)]);
    assert.equal(r.status, 3, `${name}: ${r.stderr}${r.stdout}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    return r.stderr;
  };
  // What the writer refuses (a date without a time), said as the catalogue's line: two blank lines before it counted.
  assert.match(run('dateonly.jsonl', ['', '', ...rows.slice(0, 5), { ...rows[5], listed: '2025-06-06' }]), /dateonly\.jsonl:8: window bound must be an RFC 3339 timestamp/);
  // A row without "listed" would be an item always available.
  const { listed: _listed, ...unlisted } = rows[2];
  assert.match(run('unlisted.jsonl', [rows[0], rows[1], unlisted]), /unlisted\.jsonl:3: listed must be the time the product was listed: it is missing/);
  // A price in quotes would type price_eur as a string for the whole slice.
  const quoted = run('quoted.jsonl', [rows[0], rows[1], { ...rows[2], price_eur: '34.00' }]);
  assert.match(quoted, /quoted\.jsonl:3: price_eur must be a number: got "34\.00"/);
  assert.match(quoted, /Write the number without quotes: "price_eur": 34\.00/);
  // The same for a feature of the log's candidates: its type is the one it had first.
  const log = LOG.map((l) => JSON.parse(l));
  log[1].shown[0].ctr_7d = '0.05';
  writeFileSync(join(dir, 'requests.jsonl'), lines(log));
  const r = freeze([join(dir, 'ctr.slice'), join(dir, 'requests.jsonl')]);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /requests\.jsonl:2: feature ctr_7d is a string here \("0\.05"\) but a number on line 1/);
});

test('freeze.ts: leaves timestamps to the core: a "listed" with a space for the T is what the slice reader says it is', () => {
  const dir = tmp();
  const spaced = '2025-06-03 00:00:00.442536+00:00';
  const rows = CATALOG.map((l, i) => (i === 2 ? { ...JSON.parse(l), listed: spaced } : l));
  writeFileSync(join(dir, 'catalog.jsonl'), lines(rows));
  const r = freeze([join(dir, 'spaced.slice'), join(ROOT, 'examples/logs/requests.jsonl'), join(dir, 'catalog.jsonl')]);
  if (Number.isNaN(parseInstant(spaced))) {
    // A core that refuses it: the refusal is the core's, at the catalogue's line.
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /catalog\.jsonl:3: window bound must be an RFC 3339 timestamp/);
  } else {
    assert.equal(r.status, 0, r.stderr);
    assert.match(readFileSync(join(dir, 'spaced.slice/items.jsonl'), 'utf8'), new RegExp(spaced.replace(/[.+]/g, '\\$&')));
  }
});

test('freeze.ts: with --frozen-at, the same files frozen from different folders and paths give byte-identical slices', () => {
  const [a, b] = [tmp(), tmp()];
  for (const d of [a, b]) {
    mkdirSync(join(d, 'logs'));
    for (const f of ['requests.jsonl', 'catalog.jsonl']) copyFileSync(join(ROOT, 'examples/logs', f), join(d, 'logs', f));
  }
  const r1 = freeze([join(a, 'out.slice'), join(a, 'logs/requests.jsonl'), join(a, 'logs/catalog.jsonl'), '--frozen-at', '2025-08-01T00:00:00Z']);
  assert.equal(r1.status, 0, r1.stderr);
  // Relative paths, another folder, the same instant written with an offset.
  const r2 = freeze(['out.slice', 'logs/requests.jsonl', 'logs/catalog.jsonl', '--frozen-at=2025-08-01T02:00:00+02:00'], b);
  assert.equal(r2.status, 0, r2.stderr);
  for (const f of readdirSync(join(a, 'out.slice'))) {
    assert.ok(readFileSync(join(a, 'out.slice', f)).equals(readFileSync(join(b, 'out.slice', f))), `${f} differs`);
  }
  const m = JSON.parse(readFileSync(join(a, 'out.slice/slice.json'), 'utf8'));
  assert.equal(m.frozenAt, '2025-08-01T00:00:00.000Z');
  const sha = createHash('sha256').update(readFileSync(join(a, 'logs/requests.jsonl'))).digest('hex');
  assert.match(m.source.query, new RegExp(`^requests\\.jsonl sha256:${sha} \\+ catalog\\.jsonl sha256:[0-9a-f]{64}$`));
  // A --frozen-at that is not a time is a usage error.
  const bad = freeze([join(a, 'bad.slice'), '--frozen-at', '2025-08-01']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--frozen-at "2025-08-01" is not a time/);
});

test('freeze.ts: a byte-order mark or NaN in the log is explained in the slice reader\'s words', () => {
  const dir = tmp();
  const readerSays = (text: string, file: string, line: number) => {
    try {
      parseEventLine(text, file, line);
    } catch (e) {
      return (e as UserError).describe();
    }
    assert.fail('the reader refuses the line');
  };
  const bom = `\uFEFF${LOG[0]}`;
  const nan = (LOG[1] as string).replace(/"ctr_7d":[0-9.]+/, '"ctr_7d":NaN');
  for (const [name, log, line] of [['bom.jsonl', [bom, ...LOG.slice(1)], 1], ['nan.jsonl', [LOG[0], nan, ...LOG.slice(2)], 2]] as const) {
    const file = join(dir, name);
    writeFileSync(file, lines([...log]));
    const r = freeze([join(dir, `${name}.slice`), file]);
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stderr, `freeze failed: ${readerSays(line === 1 ? bom : nan, file, line)}\n`);
  }
  assert.match(readerSays(bom, 'f', 1), /byte-order mark/);
  assert.match(readerSays(nan, 'f', 2), /NaN and Infinity are not valid JSON numbers/);
});

test('freeze.ts: Ctrl-C while the slice is being written leaves nothing at OUT, and the next freeze there removes the temp folder it left', async () => {
  const logs = tmp();
  const out = tmp();
  // Large enough that the writer is still streaming events when Ctrl-C arrives.
  writeFileSync(join(logs, 'requests.jsonl'), lines(repeatedLog(1000)));
  const child = spawn(process.execPath, ['--import', TSX, SCRIPT, join(out, 'mine.slice'), join(logs, 'requests.jsonl')], { cwd: ROOT });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Ctrl-C as soon as the writer has made its temp folder and marked it as this freeze's (the next
  // freeze removes only a marked one: a Ctrl-C in the instant between the two leaves an empty folder).
  const watcher = watch(out, (_event, name) => {
    if (!String(name).startsWith('mine.slice.tmp-')) return;
    watcher.close();
    const mark = join(out, String(name), '.recreplay-freeze');
    const poll = (): void => {
      if (existsSync(mark)) child.kill('SIGINT');
      else setTimeout(poll, 1);
    };
    poll();
  });
  const [, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => child.on('close', (c, s) => done([c, s])));
  watcher.close();
  assert.equal(signal, 'SIGINT', stderr);
  const left = readdirSync(out);
  assert.ok(left.length === 1 && left[0]?.startsWith('mine.slice.tmp-'), `only the temp folder: ${left.join(', ')}`);
  const again = spawnSync(process.execPath, ['--import', TSX, SCRIPT, join(out, 'mine.slice'), join(logs, 'requests.jsonl')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(readdirSync(out), ['mine.slice']);
});

test('freeze.ts: the writer\'s warnings are printed on stderr as "warning: …", naming the log\'s file:line, the slice still written', () => {
  const dir = tmp();
  // A catalogue without the items the log shows: a slice that replays, and a writer that warns of it.
  writeFileSync(join(dir, 'catalog.jsonl'), lines(CATALOG.slice(0, 6)));
  const r = freeze([join(dir, 'few.slice'), join(ROOT, 'examples/logs/requests.jsonl'), join(dir, 'catalog.jsonl')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^warning: .*not in the catalogue/m);
  // Records are named by the line of the log they came from, not by the writer's record number.
  assert.match(r.stderr, new RegExp(`first: ${join(ROOT, 'examples/logs/requests.jsonl').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+ `));
  assert.doesNotMatch(r.stderr, /\bevents:\d+/);
  for (const line of r.stderr.trimEnd().split('\n')) assert.match(line, /^warning: /);
  assert.match(r.stdout, /^froze 24 events, 6 items and 5 users into /);
});

test('freeze.ts: a bug in the script (an exception it does not expect) exits 70 with its stack', () => {
  const dir = tmp();
  // Preloaded: moving the finished slice into place throws a TypeError, as a bug in the script would.
  const boom = join(dir, 'boom.cjs');
  writeFileSync(boom, "const fs = require('node:fs'); fs.renameSync = () => { throw new TypeError('boom in renameSync'); };\n");
  const r = spawnSync(process.execPath, ['--require', boom, '--import', TSX, SCRIPT, join(dir, 'out.slice')], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 70, r.stderr);
  assert.match(r.stderr, /TypeError: boom in renameSync\n\s+at /);
  assert.equal(existsSync(join(dir, 'out.slice')), false, 'nothing at OUT');
});

test('freeze.ts: OUT that exists is refused, saying --overwrite; with --overwrite a slice there is replaced, a folder of anything else never', () => {
  const dir = tmp();
  const out = join(dir, 'mine.slice');
  assert.equal(freeze([out, '--frozen-at', '2025-08-01T00:00:00Z']).status, 0);
  const again = freeze([out]);
  assert.equal(again.status, 3);
  assert.match(again.stderr, /already exists[\s\S]*pass --overwrite/);
  const replaced = freeze([out, '--overwrite', '--frozen-at', '2025-09-01T00:00:00Z']);
  assert.equal(replaced.status, 0, replaced.stderr);
  assert.match(readFileSync(join(out, 'slice.json'), 'utf8'), /"frozenAt": "2025-09-01T00:00:00.000Z"/);
  const other = join(dir, 'notes');
  mkdirSync(other);
  writeFileSync(join(other, 'thesis.docx'), 'mine');
  const refused = freeze([other, '--overwrite']);
  assert.equal(refused.status, 3);
  assert.match(refused.stderr, /not a slice folder/);
  assert.doesNotMatch(refused.stderr, /pass --overwrite/, 'the writer\'s own hint, not the flag that was given');
  assert.equal(readFileSync(join(other, 'thesis.docx'), 'utf8'), 'mine');
});

test('freeze.ts: a request log given as a pipe (/dev/stdin) is frozen whole, and the sha256 recorded is of the bytes piped', { skip: process.platform === 'win32' && 'no /dev/stdin' }, () => {
  const dir = tmp();
  const bytes = readFileSync(join(ROOT, 'examples/logs/requests.jsonl'));
  // A pipe can be read only once: a script that read the log twice froze nothing from it ("no events to freeze").
  // Through a shell, as a user pipes a log: node's own stdio is a socket, which /dev/stdin cannot reopen.
  const pipe = 'cat "$1" | "$2" --import "$3" "$4" "$5" /dev/stdin';
  const r = spawnSync('sh', ['-c', pipe, 'sh', join(ROOT, 'examples/logs/requests.jsonl'), process.execPath, TSX, SCRIPT, join(dir, 'pipe.slice')], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^froze 24 events, 12 items and 5 users into /);
  const m = JSON.parse(readFileSync(join(dir, 'pipe.slice/slice.json'), 'utf8'));
  assert.match(m.source.query, new RegExp(`^stdin sha256:${createHash('sha256').update(bytes).digest('hex')} \\+ `));
});

test('freeze.ts: a log appended to while it is frozen: the slice is the log as it was read, its sha256 recorded, its users all there', () => {
  const dir = tmp();
  const log = join(dir, 'requests.jsonl');
  const original = readFileSync(join(ROOT, 'examples/logs/requests.jsonl'));
  // Preloaded: a line is appended to the log as soon as the script first closes it (once it has read it to the end).
  const appender = join(dir, 'append.cjs');
  writeFileSync(appender, `const fs = require('node:fs');
const { openSync, closeSync } = fs;
const fds = new Set();
let appended = false;
fs.openSync = (p, ...rest) => { const fd = openSync(p, ...rest); if (p === process.env.LOG) fds.add(fd); return fd; };
fs.closeSync = (fd) => { closeSync(fd); if (fds.has(fd) && !appended) { appended = true; fs.appendFileSync(process.env.LOG, process.env.APPEND + '\\n'); } };
`);
  const last = JSON.parse(LOG[LOG.length - 1] as string);
  const cases = {
    // A line of another shape: it was never checked, and crashed the mapping with a stack trace (exit 70).
    malformed: '{"request_id":"req-0025"}',
    // A new customer: the event was written, with its user missing from users.jsonl and a sha256 of the log without it.
    valid: JSON.stringify({ ...last, request_id: 'req-0025', customer: 'cust_new', ts_ms: last.ts_ms + 1000 }),
  };
  for (const [name, line] of Object.entries(cases)) {
    writeFileSync(log, original);
    const out = join(dir, `${name}.slice`);
    const r = spawnSync(process.execPath, ['--require', appender, '--import', TSX, SCRIPT, out, log], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, LOG: log, APPEND: line } });
    assert.equal(readFileSync(log, 'utf8'), `${original}${line}\n`, `${name}: the line was appended while the script ran`);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.match(r.stdout, /^froze 24 events, 12 items and 5 users into /, name);
    assert.doesNotMatch(r.stderr, /\bevents:\d+|not in users\.jsonl/, name);
    const m = JSON.parse(readFileSync(join(out, 'slice.json'), 'utf8'));
    assert.match(m.source.query, new RegExp(`^requests\\.jsonl sha256:${createHash('sha256').update(original).digest('hex')} \\+ `), name);
    const users = new Set(readFileSync(join(out, 'users.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).id));
    for (const l of readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n')) assert.ok(users.has(JSON.parse(l).user), `${name}: ${l.slice(0, 80)}`);
  }
});

test('freeze.ts: items not available at their event\'s time are warned of (count, first log line); times before 2001 that read as 2025 in ms are said to look like seconds', () => {
  const dir = tmp();
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // The sample log and catalogue: every item shown was listed before its request.
  const sample = freeze([join(dir, 'sample.slice')]);
  assert.equal(sample.status, 0, sample.stderr);
  assert.equal(sample.stderr, '');
  // ts_ms in seconds: every request dated January 1970, before every item was listed. The slice
  // is legitimate, so it is written, but its replay serves nothing (empty_slate on every event).
  const secs = join(dir, 'secs.jsonl');
  writeFileSync(secs, lines(LOG.map((l) => ({ ...JSON.parse(l), ts_ms: JSON.parse(l).ts_ms / 1000 }))));
  const r = freeze([join(dir, 'secs.slice'), secs]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^froze 24 events/);
  assert.match(r.stderr, new RegExp(`^warning: 24 events show items that are not available at the event's time [^\\n]*; first: ${esc(secs)}:1 candidate "sku_08" at 1970-01-21T06:58:08\\.414Z, available from 2025-06-09T00:00:00Z`, 'm'));
  assert.match(r.stderr, new RegExp(`^warning: 24 events are dated before 2001; first: ${esc(secs)}:1 at 1970-01-21T06:58:08\\.414Z[^\\n]*look like seconds[^\\n]*would be 2025-07-21T09:00:14`, 'm'));
  for (const line of r.stderr.trimEnd().split('\n')) assert.match(line, /^warning: /);
  // An item listed after some requests showed it (times in ms): warned of, without the seconds hint.
  const late = join(dir, 'late.jsonl');
  writeFileSync(late, lines(CATALOG.map((l) => (JSON.parse(l).sku === 'sku_03' ? { ...JSON.parse(l), listed: '2025-07-21T09:05:00Z' } : l))));
  const l = freeze([join(dir, 'late.slice'), join(ROOT, 'examples/logs/requests.jsonl'), late]);
  assert.equal(l.status, 0, l.stderr);
  assert.match(l.stderr, /^warning: \d+ events? shows? items? that (is|are) not available at the event's time [^\n]*; first: [^\n]*requests\.jsonl:1 candidate "sku_03" at 2025-07-21T09:00:14\.614Z, available from 2025-07-21T09:05:00Z/m);
  assert.doesNotMatch(l.stderr, /seconds|before 2001/);
});

test('freeze.ts: a request with an empty customer is refused at the log\'s own line and field, not as a users file the user never gave', () => {
  const dir = tmp();
  const log = join(dir, 'requests.jsonl');
  writeFileSync(log, lines(LOG.map((l, i) => (i === 2 ? { ...JSON.parse(l), customer: '' } : l))));
  const r = freeze([join(dir, 'anon.slice'), log]);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, new RegExp(`^freeze failed: ${log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: customer must be the id of the customer the request was for, a non-empty string: got "" \\(field customer\\)\\n  Write`));
  assert.doesNotMatch(r.stderr, /\busers\b|\n\s+at /);
  assert.deepEqual(readdirSync(dir), ['requests.jsonl'], 'nothing was written');
});

test('freeze.ts: an empty request_id and a device that is not a string are refused at the log\'s own line and field; a null device is left out of the context', () => {
  const dir = tmp();
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const variant = (name: string, change: Record<string, unknown>) => {
    const log = join(dir, `${name}.jsonl`);
    writeFileSync(log, lines(LOG.map((l, i) => (i === 2 ? { ...JSON.parse(l), ...change } : l))));
    return { log, r: freeze([join(dir, `${name}.slice`), log]) };
  };
  const id = variant('id', { request_id: '' });
  assert.equal(id.r.status, 3, id.r.stderr);
  assert.match(id.r.stderr, new RegExp(`^freeze failed: ${esc(id.log)}:3: request_id must be the request's id, a non-empty string: got "" \\(field request_id\\)\\n  Write`));
  const device = variant('device', { device: 5 });
  assert.equal(device.r.status, 3, device.r.stderr);
  assert.match(device.r.stderr, new RegExp(`^freeze failed: ${esc(device.log)}:3: device must be the device's name, a string: got 5 \\(field device\\)\\n  Write`));
  assert.ok(!existsSync(join(dir, 'id.slice')) && !existsSync(join(dir, 'device.slice')), 'nothing was written');
  // A time as text where milliseconds go: the value is shown, and how to write it.
  const ts = variant('ts', { ts_ms: '2025-07-21T09:00:00' });
  assert.equal(ts.r.status, 3, ts.r.stderr);
  assert.match(ts.r.stderr, new RegExp(`^freeze failed: ${esc(ts.log)}:3: ts_ms must be a time in epoch milliseconds: got "2025-07-21T09:00:00" \\(field ts_ms\\)\\n  Write the request's time as milliseconds`));
  const unknown = variant('unknown', { device: null });
  assert.equal(unknown.r.status, 0, unknown.r.stderr);
  const third = JSON.parse(readFileSync(join(dir, 'unknown.slice/events.jsonl'), 'utf8').split('\n')[2] as string) as { id: string; context?: unknown };
  assert.equal(third.id, JSON.parse(LOG[2] as string).request_id);
  assert.equal(third.context, undefined, 'no context: the device is not known');
});

test('freeze.ts: a log or catalogue line that is not UTF-8 (a Latin-1 "é") is refused at its file, line and column, not decoded to U+FFFD; nothing is written', () => {
  const dir = tmp();
  // "café" written by a Latin-1 producer: the single byte 0xE9. Decoded, it would be "caf\uFFFD",
  // one id for every accented customer or product.
  const latin1 = (text: string) => Buffer.from(text, 'latin1');
  const log = LOG.map((l, i) => (i === 2 ? l.replace('"customer":"', '"customer":"café_') : l));
  writeFileSync(join(dir, 'requests.jsonl'), latin1(lines(log)));
  const r = freeze([join(dir, 'log.slice'), join(dir, 'requests.jsonl')]);
  assert.equal(r.status, 3, r.stderr + r.stdout);
  const column = (log[2] as string).indexOf('é') + 1;
  assert.match(r.stderr, new RegExp(`^freeze failed: .*requests\\.jsonl:3:${column}: the line is not valid UTF-8: byte 0xE9`));
  assert.match(r.stderr, /iconv -f latin1 -t utf-8/);
  const catalogue = CATALOG.map((l, i) => (i === 4 ? l.replace('"department":"', '"department":"prêt_') : l));
  writeFileSync(join(dir, 'catalog.jsonl'), latin1(lines(catalogue)));
  const c = freeze([join(dir, 'cat.slice'), join(ROOT, 'examples/logs/requests.jsonl'), join(dir, 'catalog.jsonl')]);
  assert.equal(c.status, 3, c.stderr + c.stdout);
  assert.match(c.stderr, /catalog\.jsonl:5:\d+: the line is not valid UTF-8: byte 0xEA/);
  assert.deepEqual(readdirSync(dir).sort(), ['catalog.jsonl', 'requests.jsonl'], 'no slice and no temp folder');
});

test('freeze.ts: an empty log, or one of blank lines only, is refused naming the log, not as "no events" of no file', () => {
  const dir = tmp();
  for (const [name, text] of [['empty.jsonl', ''], ['blank.jsonl', '\n\r\n  \n']] as const) {
    writeFileSync(join(dir, name), text);
    const r = freeze([join(dir, `${name}.slice`), join(dir, name)]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`^freeze failed: .*${name.replace('.', '\\.')}: the request log holds no requests`));
    assert.ok(!existsSync(join(dir, `${name}.slice`)));
  }
});
