import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { MACHINE } from '../../src/core/dirs';
import { UserError } from '../../src/core/errors';
import { TRACE_LOCK, lockWaits, removeDeadTemps, removeLockIfSame, withFolderLock } from '../../src/core/engine/trace';
import { tmp } from '../helpers';

test('a run releases only its own folder lock: one another run took over meanwhile (as stale) stays', async () => {
  const dir = tmp();
  const lock = join(dir, TRACE_LOCK);
  await withFolderLock(dir, () => {
    // Another run judged this one's lock stale and took the folder: its lock is there now.
    rmSync(lock);
    writeFileSync(lock, `${MACHINE} 999999 0\n`);
  });
  assert.equal(readFileSync(lock, 'utf8'), `${MACHINE} 999999 0\n`, 'the other run\'s lock was left alone');
  assert.deepEqual(readdirSync(dir), [TRACE_LOCK], 'and nothing else was left');
});

test('a stale lock is taken away only if it is still the file that was read: a lock made in its place since stays', () => {
  const dir = tmp();
  const lock = join(dir, TRACE_LOCK);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  writeFileSync(lock, `${MACHINE} ${dead} 0\n`);
  const staleIno = statSync(lock).ino;
  // Another waiter took it over first and made its own…
  rmSync(lock);
  writeFileSync(lock, `${MACHINE} ${process.pid} 7\n`);
  // …and this one, still acting on what it read, must not remove that.
  removeLockIfSame(lock, staleIno, `${MACHINE} ${dead} 0\n`);
  assert.equal(readFileSync(lock, 'utf8'), `${MACHINE} ${process.pid} 7\n`);
  removeLockIfSame(lock, statSync(lock).ino, `${MACHINE} ${process.pid} 7\n`);
  assert.ok(!existsSync(lock));
  assert.deepEqual(readdirSync(dir), []);
});

test('the machine a pid is judged on includes the pid namespace: another container\'s run (same host name) is never taken for dead', { skip: process.platform !== 'linux' }, async () => {
  const { readlinkSync } = await import('node:fs');
  const ns = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] as string;
  assert.ok(MACHINE.endsWith(`~${ns}`), MACHINE);
  const dir = tmp();
  const lock = join(dir, TRACE_LOCK);
  // A lock a process of another pid namespace holds (its pid means nothing here): waited for, not taken over.
  writeFileSync(lock, `${MACHINE.replace(/~\d+$/, '~1')} 999999 0\n`);
  const was = lockWaits.max;
  lockWaits.max = 3;
  try {
    await assert.rejects(withFolderLock(dir, () => undefined), /another run is renaming its trace there/);
  } finally {
    lockWaits.max = was;
  }
  assert.ok(existsSync(lock));
});

test('a lock that stays empty (its run stopped, or its disk filled, before it wrote its name) is taken over after about a second', async () => {
  const dir = tmp();
  const lock = join(dir, TRACE_LOCK);
  writeFileSync(lock, '');
  let ran = false;
  await withFolderLock(dir, () => {
    ran = true;
    assert.match(readFileSync(lock, 'utf8'), new RegExp(`^${MACHINE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ${process.pid} `));
  });
  assert.ok(ran);
  assert.deepEqual(readdirSync(dir), [], 'the lock is released, nothing left');
});

test('a cancel is heard while a run waits for another run\'s lock: checkCancel throws out of the wait at once', async () => {
  const dir = tmp();
  // A live holder: this process.
  writeFileSync(join(dir, TRACE_LOCK), `${MACHINE} ${process.pid} 99\n`);
  let calls = 0;
  let ticked = false;
  setImmediate(() => (ticked = true));
  const t0 = Date.now();
  await assert.rejects(
    withFolderLock(dir, () => assert.fail('never got the lock'), () => {
      if (++calls === 5) throw new Error('cancelled');
    }),
    /cancelled/,
  );
  assert.ok(Date.now() - t0 < 5000, 'not the 30 s wait');
  // The waits yielded to the event loop (a signal handler runs there): what was queued before ran meanwhile.
  assert.equal(calls, 5);
  assert.ok(ticked);
});

test('a folder or a symbolic link where the lock goes is said at once (no run makes one, no wait removes it): it was a wait that never yielded nor ended', async () => {
  for (const make of [(p: string) => symlinkSync('/nonexistent/x', p), (p: string) => symlinkSync('/', p), (p: string) => mkdirSync(p)]) {
    const dir = tmp();
    const lock = join(dir, TRACE_LOCK);
    make(lock);
    const t0 = Date.now();
    await assert.rejects(withFolderLock(dir, () => assert.fail('took a lock that is not a file')), (e: Error) => {
      assert.ok(e instanceof UserError, String(e));
      assert.match(e.message, /cannot put the trace into .*\.recreplay-trace\.lock is (a symbolic link|a folder), not the lock file a run makes there/);
      assert.match((e as UserError).hint ?? '', /Remove it/);
      return true;
    });
    assert.ok(Date.now() - t0 < 5000);
    assert.deepEqual(readdirSync(dir), [TRACE_LOCK], 'left as it was, nothing else made');
  }
});

const ASNOBODY = process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0 ? 'needs root to wait as another user (setpriv)' : false;

/** withFolderLock run by user 65534 on `dir` with a 3-wait limit: its error message, or '' if it took the lock. */
function lockAsNobody(dir: string): { message: string; ms: number } {
  const script = join(tmp(), 'lock.ts');
  chmodSync(join(script, '..'), 0o755);
  writeFileSync(script, `import { lockWaits, withFolderLock } from ${JSON.stringify(resolve(__dirname, '../../src/core/engine/trace'))};
lockWaits.max = 3;
const t0 = Date.now();
withFolderLock(${JSON.stringify(dir)}, () => undefined).then(() => console.log(JSON.stringify({ message: '', ms: Date.now() - t0 })), (e) => console.log(JSON.stringify({ message: e.message, ms: Date.now() - t0 })));
`);
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', script], { encoding: 'utf8', cwd: resolve(__dirname, '../..'), timeout: 60_000, env: { ...process.env, HOME: '/tmp' } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

/** A folder every user may write into, where only a file's owner may rename it (sticky, as /tmp). */
function stickyFolder(): string {
  const base = tmp();
  chmodSync(base, 0o755);
  const shared = join(base, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  return shared;
}

test('a stale lock that cannot be removed (another user\'s, in a shared folder with the sticky bit) is waited for up to the limit, then said with why: it spun for ever', { skip: ASNOBODY }, () => {
  const shared = stickyFolder();
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  writeFileSync(join(shared, TRACE_LOCK), `${MACHINE} ${dead} 0\n`, { mode: 0o644 });
  const r = lockAsNobody(shared);
  assert.match(r.message, new RegExp(`names process ${dead} of this machine, which no longer runs, but it cannot be removed \\(permission denied\\)`));
  assert.ok(r.ms < 10_000, `${r.ms} ms`);
  assert.equal(readFileSync(join(shared, TRACE_LOCK), 'utf8'), `${MACHINE} ${dead} 0\n`);
  assert.deepEqual(readdirSync(shared), [TRACE_LOCK], 'nothing else left');
});

test('a lock this user cannot read (another user\'s run) is waited for up to the limit, then said as unreadable', { skip: ASNOBODY }, () => {
  const shared = stickyFolder();
  writeFileSync(join(shared, TRACE_LOCK), `${MACHINE} ${process.pid} 0\n`, { mode: 0o600 });
  const r = lockAsNobody(shared);
  assert.match(r.message, /\.recreplay-trace\.lock cannot be read \(permission denied\): another user's run may hold it/);
  assert.ok(r.ms < 10_000, `${r.ms} ms`);
});

test('a run killed between renaming its trace and its run record left the trace beside the record of the run before: the next writer in the folder puts the dead run\'s finished record in place, and tidies the rest', async () => {
  const dir = tmp();
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  const trace = '{"format":"recreplay.trace/1"}\n{"n":1}\n';
  const sha = createHash('sha256').update(trace).digest('hex');
  // In place: the dead run's trace, and the run record of the run before it (another trace's).
  writeFileSync(join(dir, 'trace.jsonl'), trace);
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ seed: 1, trace: { sha256: 'f'.repeat(64), bytes: 10 } }));
  // Left by the dead run: its finished record, the old trace's link, and its lock.
  const record = JSON.stringify({ seed: 2, trace: { sha256: sha, bytes: Buffer.byteLength(trace) } });
  writeFileSync(join(dir, `.run.json.${MACHINE}.${dead}-0-2.tmp`), record);
  writeFileSync(join(dir, `.trace.jsonl.${MACHINE}.${dead}-0-3.old`), 'the trace before');
  writeFileSync(join(dir, TRACE_LOCK), `${MACHINE} ${dead} 0\n`);
  removeDeadTemps(dir);
  assert.equal(readFileSync(join(dir, 'run.json'), 'utf8'), record, 'the record of the trace in place');
  assert.deepEqual(readdirSync(dir).sort(), ['run.json', 'trace.jsonl']);

  // A dead record that does not describe the trace in place (another run swapped in since) is only removed.
  writeFileSync(join(dir, `.run.json.${MACHINE}.${dead}-0-4.tmp`), JSON.stringify({ seed: 3, trace: { sha256: 'e'.repeat(64), bytes: Buffer.byteLength(trace) } }));
  removeDeadTemps(dir);
  assert.equal(readFileSync(join(dir, 'run.json'), 'utf8'), record);
  assert.deepEqual(readdirSync(dir).sort(), ['run.json', 'trace.jsonl']);

  // Killed before its trace was renamed (its temp trace still there): the pair in place is the one before; left as it is.
  const other = trace.replace('"n":1', '"n":2');
  writeFileSync(join(dir, `.trace.jsonl.${MACHINE}.${dead}-0-5.tmp`), other);
  writeFileSync(join(dir, `.run.json.${MACHINE}.${dead}-0-6.tmp`), JSON.stringify({ seed: 4, trace: { sha256: createHash('sha256').update(other).digest('hex'), bytes: Buffer.byteLength(other) } }));
  removeDeadTemps(dir);
  assert.equal(readFileSync(join(dir, 'run.json'), 'utf8'), record);
  assert.deepEqual(readdirSync(dir).sort(), ['run.json', 'trace.jsonl']);

  // A process with two writers here (a TCP adapter's two sessions), killed while one was between its
  // renames and the other mid-replay: the finished record is still put in place.
  const record2 = JSON.stringify({ seed: 6, trace: { sha256: sha, bytes: Buffer.byteLength(trace) } });
  writeFileSync(join(dir, `.trace.jsonl.${MACHINE}.${dead}-1-8.tmp`), 'a second session, mid-replay');
  writeFileSync(join(dir, `.run.json.${MACHINE}.${dead}-0-9.tmp`), record2);
  removeDeadTemps(dir);
  assert.equal(readFileSync(join(dir, 'run.json'), 'utf8'), record2);
  assert.deepEqual(readdirSync(dir).sort(), ['run.json', 'trace.jsonl']);

  // While a live run holds the folder's lock, nothing is put in place (its own pair wins); the dead files still go.
  writeFileSync(join(dir, TRACE_LOCK), `${MACHINE} ${process.pid} 9\n`);
  writeFileSync(join(dir, `.run.json.${MACHINE}.${dead}-0-7.tmp`), JSON.stringify({ seed: 5, trace: { sha256: sha, bytes: Buffer.byteLength(trace) } }));
  removeDeadTemps(dir);
  assert.equal(readFileSync(join(dir, 'run.json'), 'utf8'), record2);
  assert.deepEqual(readdirSync(dir).sort(), [TRACE_LOCK, 'run.json', 'trace.jsonl']);
});

test('a trace folder someone else filled (a workspace\'s runs/ with a dead run\'s temp record, its lock or its trace a link to /dev/zero or a pipe) is tidied without reading through the links: the writer hung on them', { skip: process.platform === 'win32' }, () => {
  const outside = tmp();
  // Stands for /dev/zero or /dev/stdin (a read that never ends), without filling the memory.
  const pipe = join(outside, 'pipe');
  assert.equal(spawnSync('mkfifo', [pipe]).status, 0);
  const dead = `${MACHINE}.2147483647-0-1`;
  const record = JSON.stringify({ trace: { sha256: createHash('sha256').update('').digest('hex'), bytes: 0 } });
  // The dead run's record a link.
  const a = tmp();
  symlinkSync(pipe, join(a, `.run.json.${dead}.tmp`));
  // Its record a file, the folder's lock a link.
  const b = tmp();
  writeFileSync(join(b, `.run.json.${dead}.tmp`), record);
  symlinkSync(pipe, join(b, TRACE_LOCK));
  // Its record a file, the trace in place a link (of the 0 bytes the record says).
  const c = tmp();
  writeFileSync(join(c, `.run.json.${dead}.tmp`), record);
  symlinkSync(pipe, join(c, 'trace.jsonl'));
  const trace = resolve(__dirname, '../../src/core/engine/trace.ts');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', `const { removeDeadTemps } = require(${JSON.stringify(trace)}); for (const d of process.argv.slice(1)) removeDeadTemps(d);`, a, b, c], { timeout: 20_000, killSignal: 'SIGKILL', encoding: 'utf8' });
  assert.equal(r.signal, null, `removeDeadTemps hung (killed after 20 s): ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  // Nothing was put in place through a link.
  assert.ok(!existsSync(join(b, 'run.json')) && !existsSync(join(c, 'run.json')));
});
