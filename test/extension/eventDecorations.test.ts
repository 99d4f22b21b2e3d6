import './setup';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type * as vscode from 'vscode';
import { EventDecorations } from '../../src/extension/debug/eventDecorations';
import type { ReplaySessions } from '../../src/extension/debug/sessions';
import type { RankingTreeProvider } from '../../src/extension/views/rankingTree';
import * as fake from './vscodeFake';

const none = () => new fake.Disposable(() => {});

/** An editor of `path` whose lines are `lines`, recording what it is decorated with. */
function editor(path: string, lines: string[], reads: number[] = []): { editor: vscode.TextEditor; set: unknown[][]; doc: { version: number } } {
  const set: unknown[][] = [];
  const range = (l: number) => new fake.Range(l, 0, l, (lines[l] ?? '').length);
  const doc = { uri: fake.Uri.file(path), version: 1, lineCount: lines.length, lineAt: (l: number) => ({
      get text() {
        reads.push(l);
        return lines[l] ?? '';
      },
      range: range(l),
    }),
  };
  const e = { document: doc, visibleRanges: [new fake.Range(0, 0, lines.length - 1, 0)], setDecorations: (_t: unknown, d: unknown[]) => void set.push(d) };
  return { editor: e as unknown as vscode.TextEditor, set, doc };
}

test('a session whose events.jsonl is over 50 MB (no editor reaches the extension) is quietly left undecorated; other slices still are', () => {
  const big = '/ws/big.slice';
  const small = '/ws/small.slice';
  const mk = (dir: string) => ({ sliceDir: dir, eventsPath: join(dir, 'events.jsonl'), position: { event: 1, stage: 'retrieve', stagesDone: 0, eventCount: 2 } });
  const sessions = { all: () => [mk(big), mk(small)], onPosition: none, onStart: none, onEnd: none } as unknown as ReplaySessions;
  const ranking = { candidates: [], onDidUpdate: none } as unknown as RankingTreeProvider;
  const other = editor(join(small, 'events.jsonl'), ['{"served":["a","b"],"outcome":{"clicks":["a"]}}', '{"served":["c"],"outcome":{"clicks":[]}}']);
  // VS Code lists no editor for the big file: only the small slice's events.jsonl is visible.
  fake.window.visibleTextEditors = [other.editor];
  const d = new EventDecorations(sessions, ranking);
  try {
    assert.doesNotThrow(() => (d as unknown as { update(): void }).update());
    const texts = other.set.flat().map((o) => (o as { renderOptions: { after: { contentText: string } } }).renderOptions.after.contentText);
    assert.deepEqual(texts, ['  served c · no click', '  ◀ event 1 at retrieve (0/6 stages) | recorded: served a b · clicked a']);
  } finally {
    d.dispose();
    fake.window.visibleTextEditors = [];
  }
});

test('two sessions at once: each current line says what its own session replayed, never the Ranking view\'s candidates of the other', () => {
  const a = '/ws/a.slice';
  const b = '/ws/b.slice';
  const mk = (dir: string) => ({ sliceDir: dir, eventsPath: join(dir, 'events.jsonl'), position: { event: 1, stage: 'outcome', stagesDone: 6, eventCount: 2 } });
  const sa = mk(a);
  const sb = mk(b);
  const sessions = { all: () => [sa, sb], onPosition: none, onStart: none, onEnd: none } as unknown as ReplaySessions;
  // The Ranking view read session a (the focused one).
  const ranking = { candidates: [{ item: 'from-a', served: 1, clicked: false }], candidatesOf: sa, onDidUpdate: none } as unknown as RankingTreeProvider;
  const line = '{"served":["x"],"outcome":{"clicks":[]}}';
  const ea = editor(join(a, 'events.jsonl'), [line, line]);
  const eb = editor(join(b, 'events.jsonl'), [line, line]);
  fake.window.visibleTextEditors = [ea.editor, eb.editor];
  const d = new EventDecorations(sessions, ranking);
  try {
    (d as unknown as { update(): void }).update();
    const current = (set: unknown[][]) => set.flat().map((o) => (o as { renderOptions: { after: { contentText: string } } }).renderOptions.after.contentText).find((t) => t.includes('◀'));
    assert.match(current(ea.set) ?? '', /◀ replayed: served from-a/);
    assert.doesNotMatch(current(eb.set) ?? '', /from-a/);
    assert.match(current(eb.set) ?? '', /◀ event 1 at outcome \(6\/6 stages\)/);
  } finally {
    d.dispose();
    fake.window.visibleTextEditors = [];
  }
});

test('a line is parsed for its decoration once per version of the document, however often decorations are redrawn', () => {
  const dir = '/ws/c.slice';
  const s = { sliceDir: dir, eventsPath: join(dir, 'events.jsonl'), position: { event: 1, stage: 'retrieve', stagesDone: 0, eventCount: 3 } };
  const sessions = { all: () => [s], onPosition: none, onStart: none, onEnd: none } as unknown as ReplaySessions;
  const ranking = { candidates: [], onDidUpdate: none } as unknown as RankingTreeProvider;
  const line = '{"served":["x"],"outcome":{"clicks":[]}}';
  const reads: number[] = [];
  const e = editor(join(dir, 'events.jsonl'), [line, line, line], reads);
  fake.window.visibleTextEditors = [e.editor];
  const d = new EventDecorations(sessions, ranking);
  const update = () => (d as unknown as { update(): void }).update();
  try {
    update();
    assert.deepEqual(reads.sort(), [0, 1, 2], 'each line\'s text read (and parsed) once');
    update();
    update();
    assert.equal(reads.length, 3, 'redrawn without reading a line\'s text again');
    assert.deepEqual(e.set.at(-2), e.set.at(0), 'the same decorations');
    e.doc.version = 2;
    update();
    assert.equal(reads.length, 6, 'a new version of the document is read again');
  } finally {
    d.dispose();
    fake.window.visibleTextEditors = [];
  }
});

test('events.jsonl closed, changed and opened again (version 1 anew) is decorated from its new text', () => {
  const dir = '/ws/d.slice';
  const s = { sliceDir: dir, eventsPath: join(dir, 'events.jsonl'), position: { event: 1, stage: 'retrieve', stagesDone: 0, eventCount: 2 } };
  const sessions = { all: () => [s], onPosition: none, onStart: none, onEnd: none } as unknown as ReplaySessions;
  const ranking = { candidates: [], onDidUpdate: none } as unknown as RankingTreeProvider;
  const first = '{"served":["a"],"outcome":{"clicks":[]}}';
  const old = editor(join(dir, 'events.jsonl'), [first, '{"served":["old"],"outcome":{"clicks":["old"]}}']);
  const d = new EventDecorations(sessions, ranking);
  const update = () => (d as unknown as { update(): void }).update();
  const texts = (set: unknown[][]) => set.at(-2)?.map((o) => (o as { renderOptions: { after: { contentText: string } } }).renderOptions.after.contentText);
  try {
    fake.window.visibleTextEditors = [old.editor];
    update();
    assert.deepEqual(texts(old.set), ['  served old · clicked old']);
    const reopened = editor(join(dir, 'events.jsonl'), [first, '{"served":["new"],"outcome":{"clicks":[]}}']);
    fake.window.visibleTextEditors = [reopened.editor];
    update();
    assert.deepEqual(texts(reopened.set), ['  served new · no click']);
  } finally {
    d.dispose();
    fake.window.visibleTextEditors = [];
  }
});
