import './setup';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runHeadless } from '../../src/core/engine/run';
import { TraceTimelineSource } from '../../src/extension/timeline/traceSource';
import type { HostMessage } from '../../src/shared/webview';
import { progressControl } from './vscodeFake';
import { makeSlice, tmp } from '../helpers';

const host = { now: () => '2025-01-01T00:00:00.000Z', user: 'u', host: 'h', cwd: process.cwd() };

test('a cancelled trace read says so in the panel, and showing the panel again reads the trace', async () => {
  const dir = tmp();
  await runHeadless({ slice: makeSlice(200), ranker: 'recorded', traceDir: dir }, host);
  const source = new TraceTimelineSource([dir], 16, 'cumulative');
  try {
    const first: HostMessage[] = [];
    progressControl.cancelNext = true;
    await source.replay((m) => first.push(m));
    assert.ok(first.some((m) => m.type === 'status' && /cancelled/.test(m.text)), 'the panel says the read was cancelled');
    assert.ok(!first.some((m) => m.type === 'data'));
    const second: HostMessage[] = [];
    await source.replay((m) => second.push(m));
    assert.ok(second.some((m) => m.type === 'data'), 'read anew, not cancelled for good');
  } finally {
    source.dispose();
  }
});
