import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { TRACE_LOCK, removeLockIfSame, withFolderLock } from '../../src/core/engine/trace';
import { tmp } from '../helpers';

test('a run releases only its own folder lock: one another run took over meanwhile (as stale) stays', () => {
  const dir = tmp();
  const lock = join(dir, TRACE_LOCK);
  withFolderLock(dir, () => {
    // Another run judged this one's lock stale and took the folder: its lock is there now.
    rmSync(lock);
    writeFileSync(lock, `${hostname()} 999999 0\n`);
  });
  assert.equal(readFileSync(lock, 'utf8'), `${hostname()} 999999 0\n`, 'the other run\'s lock was left alone');
  assert.deepEqual(readdirSync(dir), [TRACE_LOCK], 'and nothing else was left');
});

test('a stale lock is taken away only if it is still the file that was read: a lock made in its place since stays', () => {
  const dir = tmp();
  const lock = join(dir, TRACE_LOCK);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  writeFileSync(lock, `${hostname()} ${dead} 0\n`);
  const staleIno = statSync(lock).ino;
  // Another waiter took it over first and made its own…
  rmSync(lock);
  writeFileSync(lock, `${hostname()} ${process.pid} 7\n`);
  // …and this one, still acting on what it read, must not remove that.
  removeLockIfSame(lock, staleIno, `${hostname()} ${dead} 0\n`);
  assert.equal(readFileSync(lock, 'utf8'), `${hostname()} ${process.pid} 7\n`);
  removeLockIfSame(lock, statSync(lock).ino, `${hostname()} ${process.pid} 7\n`);
  assert.ok(!existsSync(lock));
  assert.deepEqual(readdirSync(dir), []);
});
