import './setup';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitHostMessage, parseHostMessage, parseWebviewMessage, SERIES, SERIES_GROUPS, type HostMessage, type LaneData } from '../../src/shared/webview';
import { timelineHtml, webviewOptions } from '../../src/extension/timeline/panel';
import { Uri } from './vscodeFake';

test('webview → host: well-formed messages pass, anything else is dropped', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseWebviewMessage({ type: 'goto', event: 12 }), { type: 'goto', event: 12 });
  assert.deepEqual(parseWebviewMessage({ type: 'setMode', mode: 'event' }), { type: 'setMode', mode: 'event' });
  assert.deepEqual(parseWebviewMessage({ type: 'export', format: 'csv', text: 'a,b\n', name: 'run 1' }), { type: 'export', format: 'csv', text: 'a,b\n', name: 'run 1' });
  assert.ok(parseWebviewMessage({ type: 'export', format: 'png', dataUrl: 'data:image/png;base64,AAAA', name: 'x' }));
  for (const bad of [null, 'ready', [], { type: 'goto', event: 0 }, { type: 'goto', event: 1.5 }, { type: 'goto', event: '3' }, { type: 'setMode', mode: 'weird' }, { type: 'export', format: 'png', dataUrl: 'javascript:alert(1)', name: 'x' }, { type: 'export', format: 'csv', text: 'x', name: '../../etc/passwd' }, { type: 'export', format: 'svg', text: '', name: 'x' }, { type: 'eval', code: '1' }]) {
    assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad));
  }
});

const lane: LaneData = { id: 'run', label: 'run', dashed: false, x: [10, 20], bucketSize: 10, series: { hit_rate: { v: [0.5, null], lo: [0, null], hi: [1, null] } }, faultMask: [0, 4] };

test('host → webview: every message kind round-trips through JSON and the check', () => {
  const msgs: HostMessage[] = [
    { type: 'init', title: 'T', source: 'trace', view: 'trace:abc', eventCount: 20, live: false, faultKinds: ['nan_score'], mode: 'cumulative', restore: ['/tmp/t/trace.jsonl'] },
    { type: 'data', mode: 'event', lanes: [lane], eventCount: 20 },
    { type: 'tail', lane: 'replay', mode: 'event', points: [{ event: 21, values: { hit_rate: 1, ndcg: null } }] },
    { type: 'position', event: 3, state: 'stopped', eventCount: 20 },
    { type: 'markers', markers: [{ event: 4, kind: 'breakpoint', label: 'breakpoint 1 at event 4' }] },
    { type: 'status', text: 'reading', busy: true },
    { type: 'summary', columns: ['a', 'b'], rows: [{ metric: 'ctr', values: [0.1, null] }] },
    { type: 'live', live: false },
    { type: 'exported', format: 'png', path: '/tmp/x.png' },
  ];
  for (const m of msgs) assert.deepEqual(parseHostMessage(JSON.parse(JSON.stringify(m))), m);
});

test('host → webview: lanes whose arrays disagree in length are refused', () => {
  const broken = { ...lane, series: { hit_rate: { v: [0.5], lo: [0, null], hi: [1, null] } } };
  assert.equal(parseHostMessage({ type: 'data', mode: 'event', lanes: [broken], eventCount: 20 }), undefined);
  assert.equal(parseHostMessage({ type: 'position', event: 0, state: 'stopped', eventCount: 1 }), undefined);
  assert.equal(parseHostMessage({ type: 'nope' }), undefined);
});

test('every series belongs to a known group and ids are unique', () => {
  const groups = new Set(SERIES_GROUPS.map((g) => g.id));
  assert.ok(SERIES.every((s) => groups.has(s.group)));
  assert.equal(new Set(SERIES.map((s) => s.id)).size, SERIES.length);
  for (const g of groups) assert.ok(SERIES.some((s) => s.group === g && s.visible), `group ${g} shows something by default`);
});

test('the webview page has a strict CSP with a nonce and loads only bundle resources', () => {
  const ext = Uri.file('/ext') as never;
  const webview = { cspSource: 'vscode-webview://abc', asWebviewUri: (u: Uri) => `vscode-webview://abc${u.fsPath}` } as never;
  const html = timelineHtml(webview, ext, 'n0nce==');
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
  assert.match(csp, /^default-src 'none';/);
  assert.match(csp, /script-src 'nonce-n0nce=='/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1] ?? '');
  assert.equal(scripts.length, 1);
  assert.match(scripts[0] as string, /nonce="n0nce=="/);
  assert.match(scripts[0] as string, /src="vscode-webview:\/\/abc\/ext\/dist\/webview\/timeline\.js"/);
  const opts = webviewOptions(ext);
  assert.deepEqual((opts.localResourceRoots ?? []).map((u) => (u as unknown as Uri).fsPath), ['/ext/dist/webview']);
  assert.equal(opts.enableScripts, true);
});

test('host messages are cut to what the webview accepts: a long slice name, ranker path or status no longer gets a message dropped whole', () => {
  const long = 'x'.repeat(3000);
  const lane: LaneData = { id: 'run', label: `replay (linear:${long})`, dashed: false, x: [1], bucketSize: 1, faultMask: [0], series: {} };
  const messages: HostMessage[] = [
    { type: 'init', title: `Replay ${long}`, source: 'session', view: 'session:1', eventCount: 10, live: true, faultKinds: [], mode: 'cumulative', restore: null },
    { type: 'data', mode: 'cumulative', lanes: [lane], eventCount: 10 },
    { type: 'status', text: `Reading ${long}`, busy: true },
  ];
  for (const m of messages) {
    assert.equal(parseHostMessage(m), undefined, `${m.type} as it was: dropped`);
    const fitted = fitHostMessage(m);
    assert.ok(parseHostMessage(fitted), `${m.type} fitted: accepted`);
    assert.match(JSON.stringify(fitted), /x…/, 'cut with an ellipsis');
  }
});
