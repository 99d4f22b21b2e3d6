/**
 * Opening a slice's users.jsonl by id, in one run (not part of `npm run bench`):
 *   node --import tsx bench/users.ts [USERS=1000000]
 * The file (USERS records in the writer's shape, ~60 bytes each) is generated once and cached in
 * bench/.cache. Measures, in this order: the floor — JSON.parse of every line, nothing else; the
 * first open's indexing (UserTable.lazy: the lines scanned, the ids put in the table; an open that
 * finds no kept index also parses every user first); a later open (loadUsersIndex: the index kept in
 * the cache, read back and its seal checked); and lookups by id through that index, half of them
 * of ids the file does not hold. Each in a process of its own, cold, as an open is. Prints one JSON
 * object and writes it to bench/results/users.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE } from './slices';
import { sha256 } from '../src/core/slice/hashing';
import { UserTable, loadUsersIndex, storeUsersIndex } from '../src/core/slice/userTable';

const MODES = ['floor', 'scan', 'kept', 'lookups'] as const;
type Mode = (typeof MODES)[number];

function usersFile(n: number): string {
  const p = join(CACHE, `users-${n}-v1.jsonl`);
  if (existsSync(p)) return p;
  mkdirSync(CACHE, { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(JSON.stringify({ id: `user_${i.toString(36)}`, segment: `s${i % 7}`, features: { tenure: i % 100, age: 18 + (i % 60) } }));
  writeFileSync(`${p}.tmp`, lines.join('\n') + '\n');
  renameSync(`${p}.tmp`, p);
  return p;
}

/** One measurement, in this process (the child). */
function measure(mode: Mode, file: string, cache: string): Record<string, number> {
  const buf = readFileSync(file);
  const fileSha = sha256(buf);
  const t0 = performance.now();
  if (mode === 'floor') {
    const text = buf.toString('utf8');
    let n = 0;
    for (let s = 0, nl = text.indexOf('\n'); nl >= 0; s = nl + 1, nl = text.indexOf('\n', s)) {
      JSON.parse(text.slice(s, nl));
      n++;
    }
    return { ms: performance.now() - t0, users: n };
  }
  if (mode === 'scan') {
    const t = UserTable.lazy(buf, 'users.jsonl');
    const ms = performance.now() - t0;
    if (!t) throw new Error('not in the writer\'s shape');
    storeUsersIndex(cache, fileSha, undefined, t);
    return { ms, users: t.size };
  }
  const t = loadUsersIndex(cache, fileSha, undefined, buf, 'users.jsonl');
  const ms = performance.now() - t0;
  if (!t) throw new Error('no kept index: run the scan first');
  if (mode === 'kept') return { ms, users: t.size };
  const ids = Array.from({ length: 100_000 }, (_, i) => (i % 2 === 0 ? `user_${((i * 7919) % t.size).toString(36)}` : `nobody_${i}`));
  const l0 = performance.now();
  let found = 0;
  for (const id of ids) if (t.indexOf(id) !== undefined) found++;
  return { usPerLookup: ((performance.now() - l0) * 1000) / ids.length, found };
}

const [mode, file, cache] = process.argv.slice(2);
if (mode && MODES.includes(mode as Mode)) {
  process.stdout.write(`${JSON.stringify(measure(mode as Mode, file as string, cache as string))}\n`);
} else {
  const n = Number(process.argv[2] ?? 1_000_000);
  const path = usersFile(n);
  const cacheDir = join(CACHE, `users-index-${process.pid}`);
  rmSync(cacheDir, { recursive: true, force: true });
  const child = (m: Mode) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, m, path, cacheDir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${m} failed:\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Record<string, number>;
  };
  try {
    const out = { bench: 'users', users: n, fileMB: Math.round(readFileSync(path).length / 2 ** 20), floor: child('floor'), firstOpenIndexing: child('scan'), laterOpen: child('kept'), lookups: child('lookups') };
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    const res = join(__dirname, 'results', 'users.json');
    writeFileSync(`${res}.tmp`, JSON.stringify(out, null, 2) + '\n');
    renameSync(`${res}.tmp`, res);
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}
