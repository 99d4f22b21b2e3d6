import './setup';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { codeSpan } from '../../src/extension/views/sliceNodes';

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
