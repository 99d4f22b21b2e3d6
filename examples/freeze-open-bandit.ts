/**
 * Freezing real production logs: the Open Bandit Dataset (Saito et al., 2020, CC BY 4.0), a
 * fashion e-commerce site's recommendation widget, logged under a uniform-random policy.
 *
 *   node --import tsx examples/freeze-open-bandit.ts OUT.slice [DATA_DIR] [--frozen-at TIME] [--overwrite]
 *
 * DATA_DIR holds the dataset's CSV files of one campaign: `men.csv` (or `women.csv`, `all.csv`:
 * one row per impression) and `item_context.csv`. It defaults to the sample beside this checkout,
 * `../shared/data/open-bandit/random-men`. The CSV is parsed with csv-parse, a block of whole
 * lines at a time: a campaign of a million rows is never held whole.
 *
 * How the logs map to a slice:
 * - one row is one event, a slate of one (`pipeline.k` 1): the widget showed `item_id` at `position` (1–3: left, centre, right)
 *   — `served` is that one item, `outcome.clicks` holds it when `click` is 1;
 * - its candidates are every item of the catalogue, as the random policy could have shown any;
 *   each carries the user's `affinity` to it (`user-item_affinity_<item>`), and the item shown
 *   carries the logged `propensity_score` as its score;
 * - `context.position` is the slot; the user is the four hashed `user_feature_*` (nothing in them
 *   identifies a person), named `u_` and the first 16 hex digits of their sha256;
 * - items are `item_context.csv`: `item_feature_0` is a number, `item_feature_1..3` hashed
 *   categories (`item_feature_1` is also the item's category, for diversity and exposure parity).
 *
 * Then `npx recreplay run OUT.slice --ranker linear:examples/rankers/open-bandit-affinity.json`
 * replays the log with a ranker that serves the items the user has an affinity to. The uniform
 * logging policy makes the recorded CTR by position a direct measure of position bias.
 *
 * Exit codes: 0 written · 2 usage · 3 bad input (a CSV row named FILE:LINE and the column — also
 * a row the writer refuses, such as one out of time order; a line that is not UTF-8, with its column;
 * a file that cannot be read; OUT already exists) · 70 a bug in the script.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { UserError, shown } from '../src/core/errors';
import { isUtf8, notUtf8 } from '../src/core/slice/utf8';
import { writeSlice } from '../src/core/slice/writer';
import { instantHint, parseInstant } from '../src/core/time';
import type { EventRecord, ItemRecord, UserRecord } from '../src/core/slice/types';

/** The sample the project ships beside its checkout (see README, "Data"). */
export const DEFAULT_DATA = resolve(__dirname, '../../shared/data/open-bandit/random-men');
const CAMPAIGNS = ['men.csv', 'women.csv', 'all.csv'];
const USER_COLUMNS = ['user_feature_0', 'user_feature_1', 'user_feature_2', 'user_feature_3'];

type Row = Record<string, string>;

/**
 * The rows of a CSV file with their line numbers, read synchronously a block of whole lines at a
 * time and parsed by csv-parse; `seen` gets every block's bytes (for the file's sha256).
 */
function* csvRows(file: string, seen: (bytes: Buffer) => void): Generator<{ row: Row; line: number }> {
  const fd = openOrSay(file);
  try {
    let header: string[] | undefined;
    let carry = Buffer.alloc(0);
    // Lines of the file before the text being parsed.
    let before = 0;
    for (let pos = 0, first = true; ; ) {
      const block = Buffer.allocUnsafe(1 << 20);
      const n = readSync(fd, block, 0, block.length, pos);
      pos += n;
      if (n > 0) seen(block.subarray(0, n));
      const bytes = carry.length ? Buffer.concat([carry, block.subarray(0, n)]) : block.subarray(0, n);
      // Whole lines only; the rest waits for the next block (at the end of the file, all of it).
      const cut = n === 0 ? bytes.length : bytes.lastIndexOf(10) + 1;
      const whole = bytes.subarray(0, cut);
      // Bytes that are not UTF-8 (a Latin-1 "é" is the single byte 0xE9) would decode to U+FFFD,
      // silently merging two hashed features or ids that differ there: refused, as the slice reader does.
      if (!isUtf8(whole)) {
        const e = notUtf8(whole, file);
        throw new UserError(e.message, { file, line: before + (e.where.line ?? 1), ...(e.where.column !== undefined ? { column: e.where.column } : {}) }, e.hint);
      }
      const text = whole.toString('utf8');
      let records: { record: string[]; info: { lines: number } }[] = [];
      if (text !== '') {
        try {
          records = parse(text, { bom: first, info: true, skip_empty_lines: true, relax_column_count: true }) as unknown as typeof records;
        } catch (e) {
          const code = (e as { code?: string }).code;
          // A quoted field that goes on past the block's last line: parsed with the next block.
          if (code === 'CSV_QUOTE_NOT_CLOSED' && n > 0) {
            carry = Buffer.from(bytes);
            continue;
          }
          const at = (e as { lines?: number }).lines ?? 1;
          throw new UserError(`not CSV: ${(e as Error).message}`, { file, line: before + at }, 'Give the Open Bandit Dataset\'s CSV file as it is published (comma-separated, a header line).');
        }
      }
      carry = Buffer.from(bytes.subarray(cut));
      first = false;
      for (const { record: cells, info } of records) {
        const line = before + info.lines;
        if (!header) {
          header = cells;
          continue;
        }
        if (cells.length !== header.length) throw new UserError(`${cells.length} columns where the header has ${header.length}`, { file, line }, 'Each row needs a value under every column of the header.');
        const row: Row = {};
        for (let c = 0; c < header.length; c++) row[header[c] as string] = cells[c] as string;
        yield { row, line };
      }
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) before++;
      if (n === 0) break;
    }
    if (!header) throw new UserError('the file is empty', { file }, 'Give the dataset\'s CSV file, with its header line.');
  } finally {
    closeSync(fd);
  }
}

function openOrSay(file: string): number {
  try {
    return openSync(file, 'r');
  } catch (e) {
    throw new UserError(`cannot read it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file }, 'Give the folder of one campaign of the Open Bandit Dataset (men.csv or women.csv or all.csv, and item_context.csv).');
  }
}

/** A column's value as a finite number, or a UserError naming the cell. */
function num(row: Row, column: string, file: string, line: number): number {
  const text = row[column];
  const v = text === undefined || text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(v)) {
    throw new UserError(`${column} must be a number: ${text === undefined ? 'the column is missing' : `got ${shown(text)}`}`, { file, line, field: column }, 'Give the dataset\'s CSV file as published: this column holds numbers.');
  }
  return v;
}

function str(row: Row, column: string, file: string, line: number): string {
  const text = row[column];
  if (text === undefined || text === '') throw new UserError(`${column} must not be empty${text === undefined ? ': the column is missing' : ''}`, { file, line, field: column }, 'Give the dataset\'s CSV file as published: every row has this column.');
  return text;
}

/** "2019-11-24 00:03:13.442536+00:00" → "2019-11-24T00:03:13.442Z" (the slice's timestamps keep milliseconds). */
function instant(row: Row, file: string, line: number): string {
  const text = str(row, 'timestamp', file, line);
  const ms = parseInstant(text.replace(' ', 'T'));
  if (Number.isNaN(ms)) throw new UserError(`timestamp must be a time with a timezone: got ${shown(text)}`, { file, line, field: 'timestamp' }, instantHint(text));
  return new Date(ms).toISOString();
}

function items(file: string, seen: (b: Buffer) => void, lines: number[]): ItemRecord[] {
  const out: ItemRecord[] = [];
  for (const { row, line } of csvRows(file, seen)) {
    lines.push(line);
    const id = num(row, 'item_id', file, line);
    if (!Number.isInteger(id) || id < 0) throw new UserError(`item_id must be a whole number from 0: got ${shown(row['item_id'])}`, { file, line, field: 'item_id' }, 'Give the dataset\'s item_context.csv as published.');
    const category = str(row, 'item_feature_1', file, line);
    out.push({ id: `i${id}`, category, features: { item_feature_0: num(row, 'item_feature_0', file, line), item_feature_1: category, item_feature_2: str(row, 'item_feature_2', file, line), item_feature_3: str(row, 'item_feature_3', file, line) } });
  }
  if (out.length === 0) throw new UserError('no items', { file }, 'Give the dataset\'s item_context.csv, one row per item.');
  return out;
}

/** The hashed user features of a row, and the user id made of them. */
function userOf(row: Row, file: string, line: number): UserRecord {
  const features: Record<string, string> = {};
  for (const c of USER_COLUMNS) features[c] = str(row, c, file, line);
  const id = `u_${createHash('sha256').update(USER_COLUMNS.map((c) => features[c]).join('\n')).digest('hex').slice(0, 16)}`;
  return { id, features };
}

function toEvent(row: Row, line: number, file: string, catalogue: ItemRecord[], known: ReadonlySet<string>): EventRecord {
  const shownId = `i${num(row, 'item_id', file, line)}`;
  if (!known.has(shownId)) throw new UserError(`item_id ${row['item_id']} is not in item_context.csv`, { file, line, field: 'item_id' }, 'Give the item_context.csv of the same campaign.');
  const position = num(row, 'position', file, line);
  if (![1, 2, 3].includes(position)) throw new UserError(`position must be 1, 2 or 3: got ${shown(row['position'])}`, { file, line, field: 'position' }, 'The widget has three slots: 1 left, 2 centre, 3 right.');
  const click = num(row, 'click', file, line);
  if (click !== 0 && click !== 1) throw new UserError(`click must be 0 or 1: got ${shown(row['click'])}`, { file, line, field: 'click' }, 'Give the dataset\'s CSV file as published.');
  const propensity = num(row, 'propensity_score', file, line);
  return {
    id: `obd-${str(row, '', file, line)}`,
    t: instant(row, file, line),
    user: userOf(row, file, line).id,
    context: { position },
    candidates: catalogue.map((it) => ({
      item: it.id,
      features: { affinity: num(row, `user-item_affinity_${it.id.slice(1)}`, file, line) },
      ...(it.id === shownId ? { score: propensity } : {}),
    })),
    served: [shownId],
    outcome: { clicks: click === 1 ? [shownId] : [] },
  };
}

/** Freezes DATA_DIR into OUT; what to print, and the exit code. */
export function freezeOpenBandit(out: string, dataDir: string, frozenAt: string, overwrite: boolean): { code: number; stdout: string[]; stderr: string[] } {
  const campaign = CAMPAIGNS.map((c) => join(dataDir, c)).find((p) => existsSync(p));
  if (!campaign) throw new UserError(`no ${CAMPAIGNS.join(', ')} in the folder`, { file: dataDir }, 'Give the folder of one campaign of the Open Bandit Dataset (e.g. obd/random/men of st-tech/zr-obp).');
  const itemsFile = join(dataDir, 'item_context.csv');
  const itemsHash = createHash('sha256');
  // The writer names an event or item by its number (events:4): these say which CSV line it came from.
  const itemLines: number[] = [];
  const rowLines: number[] = [];
  const catalogue = items(itemsFile, (b) => itemsHash.update(b), itemLines);
  const known = new Set(catalogue.map((i) => i.id));
  // The first pass checks every row and gathers the users; the second streams the events into the
  // slice, and must read the very bytes the first one checked.
  const firstHash = createHash('sha256');
  const users = new Map<string, UserRecord>();
  let rows = 0;
  for (const { row, line } of csvRows(campaign, (b) => firstHash.update(b))) {
    toEvent(row, line, campaign, catalogue, known);
    const u = userOf(row, campaign, line);
    users.set(u.id, u);
    rowLines.push(line);
    rows++;
  }
  if (rows === 0) throw new UserError('no impressions', { file: campaign }, 'Give a campaign file with at least one row under its header.');
  const sha = firstHash.digest('hex');
  const atLine = (file: string, n: number): string | undefined => {
    const line = (file === 'events' ? rowLines : file === 'items' ? itemLines : [])[n - 1];
    return line === undefined ? undefined : `${file === 'events' ? campaign : itemsFile}:${line}`;
  };
  let result: ReturnType<typeof writeSlice>;
  try {
    result = writeSlice(
        out,
        {
          manifest: {
            name: `open-bandit-${basename(campaign, '.csv')}`,
            description: `Open Bandit Dataset (Saito et al., 2020, CC BY 4.0), random policy, ${basename(campaign, '.csv')} campaign: ${rows} impressions of a three-slot widget`,
            source: { kind: 'logs', query: `${basename(campaign)} sha256:${sha} + ${basename(itemsFile)} sha256:${itemsHash.digest('hex')}` },
            seed: 1,
            pipeline: { k: 1, budgetMs: 100 },
          },
          events: (function* () {
            const again = createHash('sha256');
            for (const { row, line } of csvRows(campaign, (b) => again.update(b))) yield toEvent(row, line, campaign, catalogue, known);
            if (again.digest('hex') !== sha) throw new UserError('the file changed while it was frozen', { file: campaign }, 'Freeze a copy that nothing writes to.');
          })(),
          items: catalogue,
          users: [...users.values()],
        },
        { frozenAt, overwrite },
    );
  } catch (e) {
    // A record the writer refused (events out of time order, say) is said as its CSV line, not as
    // "events:4" of an events.jsonl that was never written.
    if (!(e instanceof UserError)) throw e;
    const { file, line } = e.where;
    const lines = file === 'events' ? rowLines : file === 'items' ? itemLines : [];
    const at = line === undefined ? undefined : lines[line - 1];
    if (at === undefined) throw e;
    throw new UserError(e.message, { file: file === 'events' ? campaign : itemsFile, line: at, ...(e.where.field !== undefined ? { field: e.where.field } : {}) }, e.hint, e.code);
  }
  const warnings = result.warnings.map((w) => w.replace(/\b(events|items):(\d+)/g, (whole, file: string, n: string) => atLine(file, Number(n)) ?? whole));
  return { code: 0, stdout: [`froze ${rows} impressions, ${catalogue.length} items and ${users.size} users into ${result.dir}`], stderr: warnings.map((w) => `warning: ${w}`) };
}

function main(argv: string[]): number {
  let args: ReturnType<typeof parseArgs<{ options: { 'frozen-at': { type: 'string' }; overwrite: { type: 'boolean' } }; allowPositionals: true }>>;
  try {
    args = parseArgs({ args: argv, options: { 'frozen-at': { type: 'string' }, overwrite: { type: 'boolean' } }, allowPositionals: true });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\nusage: freeze-open-bandit.ts OUT.slice [DATA_DIR] [--frozen-at TIME] [--overwrite]\n`);
    return 2;
  }
  const [out, data = DEFAULT_DATA, extra] = args.positionals;
  const frozenAt = args.values['frozen-at'] ?? new Date().toISOString();
  if (!out || extra !== undefined || Number.isNaN(parseInstant(frozenAt))) {
    process.stderr.write(`${!out ? 'no OUT given' : extra !== undefined ? `one DATA_DIR only, not also ${shown(extra)}` : `--frozen-at must be a time with a timezone, got ${shown(frozenAt)}`}\nusage: freeze-open-bandit.ts OUT.slice [DATA_DIR] [--frozen-at TIME] [--overwrite]\n`);
    return 2;
  }
  try {
    const r = freezeOpenBandit(resolve(out), resolve(data), new Date(parseInstant(frozenAt)).toISOString(), args.values.overwrite ?? false);
    for (const l of r.stdout) process.stdout.write(`${l}\n`);
    for (const l of r.stderr) process.stderr.write(`${l}\n`);
    return r.code;
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`freeze failed: ${e.describe()}\n`);
      return 3;
    }
    throw e;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
