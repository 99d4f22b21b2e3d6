import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UserTable } from '../../src/core/slice/users';
import { parseRecords } from '../../src/core/slice/events';
import { UserError } from '../../src/core/errors';
import type { UserRecord } from '../../src/core/slice/types';
import { makeSlice } from '../helpers';
import { Slice } from '../../src/core/slice/reader';

const FILE = '/s.slice/users.jsonl';

test('property: lookups and all() answer what parsing every record gives (the last record with an id wins)', () => {
  const id = fc.oneof(fc.constantFrom('u1', 'u2', 'u3'), fc.string({ maxLength: 5 }), fc.constantFrom('a"b', 'c\\d', 'é', '\u2028'));
  const user = fc.record({ id, segment: fc.string({ maxLength: 3 }), features: fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 3 }), fc.boolean(), fc.constant(null)), { maxKeys: 2 }) }, { requiredKeys: ['id'] });
  // Lines as the writer writes them, with the id moved back, with spaces, or blank.
  const line = fc.tuple(user, fc.constantFrom('plain', 'idLast', 'spaced', 'blank')).map(([u, form]) => {
    if (form === 'blank') return '  ';
    if (form === 'idLast') {
      const { id: i, ...rest } = u;
      return JSON.stringify({ ...rest, id: i });
    }
    return form === 'spaced' ? JSON.stringify(u, null, 1).replace(/\n/g, ' ') : JSON.stringify(u);
  });
  fc.assert(
    fc.property(fc.array(line, { maxLength: 12 }), fc.boolean(), fc.string({ maxLength: 4 }), (lines, askFirst, probe) => {
      const text = lines.join('\n') + '\n';
      const eager = parseRecords<UserRecord>(text, FILE, 'user');
      const byId = new Map(eager.map((u) => [u.id, u]));
      const table = new UserTable(text, FILE);
      if (askFirst) for (const u of eager) assert.deepEqual(table.get(u.id), byId.get(u.id));
      assert.deepEqual(table.all(), eager);
      for (const u of eager) assert.deepEqual(table.get(u.id), byId.get(u.id));
      assert.deepEqual(table.get(probe), byId.get(probe));
    }),
    { numRuns: 500 },
  );
});

test('a malformed user line is reported with file:line when that user is first asked for, and by all()', () => {
  const text = '{"id":"u1","features":{"age":3}}\n{"id":"u2","features":{"age":\n{"id":"u3"}\n';
  const table = new UserTable(text, FILE);
  assert.deepEqual(table.get('u1'), { id: 'u1', features: { age: 3 } });
  assert.deepEqual(table.get('u3'), { id: 'u3' });
  const check = (e: unknown) => e instanceof UserError && /malformed JSON/.test(e.message) && e.where?.line === 2 && e.where.file === FILE;
  assert.throws(() => table.get('u2'), check);
  assert.throws(() => table.all(), check);
});

test('a line not in the writer\'s form is parsed when the slice opens: its errors come at once', () => {
  assert.throws(() => new UserTable('{"id":"u1"}\nnot json\n', FILE), (e: unknown) => e instanceof UserError && e.where?.line === 2);
  assert.throws(() => new UserTable('{"segment":"x"}\n', FILE), (e: unknown) => e instanceof UserError && /string "id"/.test(e.message));
  assert.throws(() => new UserTable('{"id":7}\n', FILE), (e: unknown) => e instanceof UserError && /string "id"/.test(e.message));
});

test('a line whose id is not the one it starts with ("id" twice) is found by its real id', () => {
  const table = new UserTable('{"id":"a","id":"b","segment":"x"}\n', FILE);
  assert.equal(table.get('a'), undefined);
  assert.deepEqual(table.get('b'), { id: 'b', segment: 'x' });
});

test('a slice parses only the users a replay asks for; slice.users still lists them all', () => {
  const s = Slice.open(makeSlice(5));
  assert.deepEqual(s.userById.get('u1'), s.users.find((u) => u.id === 'u1'));
  assert.equal(s.users.length, 5);
  assert.equal(s.userById.get('nobody'), undefined);
  // The record handed out before all() is the one all() lists.
  const t = new UserTable('{"id":"u1"}\n{"id":"u2"}\n', FILE);
  const u1 = t.get('u1');
  assert.equal(t.all()[0], u1);
  s.close();
});
