import { test } from 'node:test';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, fsReason, isWithin, newFolder, removeCreatedDirs } from '../src/core/dirs';
import { UserError } from '../src/core/errors';
import { tmp } from './helpers';

test('ensureDir makes the missing folders, outermost first, and removeCreatedDirs takes them away again', () => {
  const root = tmp();
  const created = ensureDir(join(root, 'a', 'b', 'c'));
  assert.deepEqual(created, [join(root, 'a'), join(root, 'a', 'b'), join(root, 'a', 'b', 'c')]);
  assert.deepEqual(ensureDir(join(root, 'a', 'b')), [], 'nothing to make');
  removeCreatedDirs(created);
  assert.deepEqual(readdirSync(root), []);
});

test('removeCreatedDirs leaves a folder someone put a file in', () => {
  const root = tmp();
  const created = ensureDir(join(root, 'a', 'b'));
  writeFileSync(join(root, 'a', 'keep.txt'), 'x');
  removeCreatedDirs(created);
  assert.deepEqual(readdirSync(join(root, 'a')), ['keep.txt']);
});

test('ensureDir: a file on the way, or a folder that cannot be made, is a UserError naming the path', () => {
  const root = tmp();
  writeFileSync(join(root, 'f'), 'x');
  assert.throws(() => ensureDir(join(root, 'f', 'sub'), 'trace folder'), (e: unknown) => e instanceof UserError && e.where.file === join(root, 'f') && /cannot create the trace folder .*f is a file/.test(e.message));
  assert.throws(() => ensureDir(join(root, 'f')), (e: unknown) => e instanceof UserError && /is a file/.test(e.message));
  mkdirSync(join(root, 'd'));
  assert.deepEqual(ensureDir(join(root, 'd')), []);
  // procfs answers ENOENT for a new child of /proc, where Node's recursive mkdir loops forever.
  if (existsSync('/proc/self')) {
    assert.throws(() => ensureDir('/proc/recreplay-test/x'), (e: unknown) => e instanceof UserError && e.where.file === '/proc/recreplay-test' && /ENOENT/.test(e.message));
  }
});

test('newFolder reserves a new folder: the same name twice gives name and name-2, each made by its mkdir', () => {
  const root = tmp();
  const base = join(root, 'runs', 'deep');
  const a = newFolder(base, 'cold-start-linear-20250721-091203', 'run folder');
  const b = newFolder(base, 'cold-start-linear-20250721-091203', 'run folder');
  assert.equal(a.path, join(base, 'cold-start-linear-20250721-091203'));
  assert.equal(b.path, join(base, 'cold-start-linear-20250721-091203-2'));
  assert.deepEqual(a.created, [join(root, 'runs'), base, a.path]);
  assert.deepEqual(b.created, [b.path]);
  removeCreatedDirs(b.created);
  removeCreatedDirs(a.created);
  assert.deepEqual(readdirSync(root), []);
});

test('isWithin: the folder itself and what lies under it, by name; a sibling that shares a prefix or a ".." escape is outside', () => {
  assert.equal(isWithin('/w/a', '/w/a'), true);
  assert.equal(isWithin('/w/a', '/w/a/b/c'), true);
  assert.equal(isWithin('/w/a', '/w/a/..b'), true, 'a name that starts with ".." is a name');
  assert.equal(isWithin('/w/a', '/w/ab'), false);
  assert.equal(isWithin('/w/a', '/w/a/../b'), false);
  assert.equal(isWithin('/w/a', '/w'), false);
});

test('a folder the file system refuses to make is said in words, with the code: "the file system is read-only (EROFS)", not "EROFS" alone', (t) => {
  const root = tmp();
  // The fs module the core calls through: a mkdir refused as a read-only mount refuses it.
  const fs = createRequire(__filename)('node:fs') as typeof import('node:fs');
  for (const code of ['EROFS', 'EACCES', 'ENOSPC', 'EPERM']) {
    const refuse = t.mock.method(fs, 'mkdirSync', () => {
      throw Object.assign(new Error(`${code}: refused, mkdir`), { code });
    });
    assert.throws(
      () => ensureDir(join(root, 'a', 'b'), 'trace folder'),
      (e: unknown) => e instanceof UserError && e.where.file === join(root, 'a') && e.message === `cannot create the trace folder ${join(root, 'a')}: ${fsReason({ code })}`,
    );
    refuse.mock.restore();
  }
  assert.equal(fsReason({ code: 'EROFS' }), 'the file system is read-only (EROFS)');
  assert.equal(fsReason({ code: 'ENOSPC' }), 'the disk is full (ENOSPC)');
  assert.equal(fsReason({ code: 'EWHATEVER' }), 'EWHATEVER', 'a code without words stays as it is');
  // A trace folder in /proc: mkdir gives ENOENT, said as such.
  if (existsSync('/proc/self')) assert.throws(() => ensureDir('/proc/recreplay-trace', 'trace folder'), (e: unknown) => e instanceof UserError && e.message === 'cannot create the trace folder /proc/recreplay-trace: no such file or folder, and none can be made there (ENOENT)', 'in /proc');
  assert.deepEqual(readdirSync(root), [], 'nothing made');
});
