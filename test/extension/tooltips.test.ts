import './setup';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { codeSpan, treeItemOf } from '../../src/extension/views/sliceNodes';
import { candidateItem } from '../../src/extension/views/rankingTree';
import { readEntry } from '../../src/extension/slices/sliceStore';
import { makeSlice } from '../helpers';

// markdown-it is the CommonMark renderer VS Code itself uses for hovers and tooltips.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MarkdownIt = require('markdown-it') as new (opts?: { html?: boolean }) => { renderInline(src: string): string; render(src: string): string };
const md = new MarkdownIt({ html: false });
const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

test('a crafted event id in a tooltip stays literal text: no link, no remote image', () => {
  const id = 'e1` [Open docs](https://attacker.example/steal) ![](https://attacker.example/pixel.png) `';
  const html = md.renderInline(codeSpan(id));
  assert.doesNotMatch(html, /<a |<img /);
  assert.equal(html, `<code>${id.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')}</code>`);
});

test('any text becomes one code span holding exactly that text (newlines as spaces)', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('`', ' ', 'a', '[', ']', '(', ')', '!', '<', '*', '\\', '\n') }), (s) => {
      const html = md.renderInline(codeSpan(s));
      const m = /^<code>([\s\S]*)<\/code>$/.exec(html);
      // An empty or all-space text has no content to protect.
      if (s.trim() === '') return;
      assert.ok(m, `${JSON.stringify(s)} → ${html}`);
      assert.equal(decode(m[1] as string), s.replace(/\n/g, ' '));
    }),
    { numRuns: 3000 },
  );
});

test('lone carriage returns cannot end the span either: a tooltip is rendered as a block, where a blank line ends a paragraph', () => {
  // An id the core accepts (a JSON string may hold \r), as a whole tooltip renders it (block, not inline).
  for (const id of ['e1\r\r![](https://attacker.example/p.png)', 'e1\u2028\u2028[x](https://attacker.example)', 'e1\r\n\r\n![](https://attacker.example/p.png)']) {
    const html = md.render(`**Event** ${codeSpan(id)}`);
    assert.doesNotMatch(html, /<a |<img /, JSON.stringify(id));
    assert.match(html, /^<p><strong>Event<\/strong> <code>[^<]*<\/code><\/p>\n$/, JSON.stringify(id));
  }
});

test('tree labels and descriptions show a bidi override or a control character in slice text as an escape: an item id cannot pose as another one', () => {
  // Shown as "i_evili_10" by a renderer that applies the override: the item "i_10" to the eye.
  const item = 'i_evil\u202e01_i';
  const c = candidateItem({ place: 1, item, score: 1, rank: 1, recordedRank: 1, delta: 0, served: 1, clicked: false, featuresRef: 0 });
  assert.equal(c.label, '#1  i_evil\\u202e01_i');
  assert.match(String(c.tooltip), /^i_evil\\u202e01_i\n/);
  const entry = readEntry(makeSlice(3));
  const ev = treeItemOf({ kind: 'event', entry, n: 1, id: 'e1\u001b[8m', t: '2025-01-01T00:00:00Z', user: 'u\u2066x', session: undefined, served: [item], clicks: [], candidates: 1 });
  assert.equal(ev.label, '#1  e1\\x1b[8m');
  assert.match(String(ev.description), /· u\\u2066x ·/);
  const field = treeItemOf({ kind: 'field', label: 'model', description: 'v\u202e1' });
  assert.equal(field.description, 'v\\u202e1');
  assert.equal(field.tooltip, 'model: v\\u202e1');
});
