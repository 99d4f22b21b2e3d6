// A golden DAP transcript: the engine is deterministic, so a whole short session (requests,
// responses, stops) must come out byte for byte the same. RESET_RESULTS=1 rewrites the golden
// file; a mismatch writes `<golden>.actual` next to it for a diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { client, COLD, launch, moveAndStop, ROOT } from './helpers';

const GOLDEN = join(__dirname, 'golden', 'cold-start-session.txt');

/** Paths and sequence numbers vary between machines and runs; nothing else may. */
function normalise(msg: unknown): string {
  return JSON.stringify(msg, (k, v: unknown) => (k === 'seq' || k === 'request_seq' ? undefined : v)).split(ROOT).join('<root>');
}

test('a short session produces exactly the recorded DAP transcript', async () => {
  const lines: string[] = [];
  const dc = await client();
  // Record in wire order: requests as sent, responses and events as they arrive (before any
  // promise continuation can reorder them).
  const raw = dc as unknown as { send: (command: string, args?: unknown) => Promise<DebugProtocol.Response>; dispatch: (body: string) => void };
  const send = raw.send.bind(dc);
  raw.send = (command, args) => {
    lines.push(`> ${command} ${normalise(args ?? {})}`);
    return send(command, args);
  };
  const dispatch = raw.dispatch.bind(dc);
  raw.dispatch = (body) => {
    const m = JSON.parse(body) as DebugProtocol.ProtocolMessage & { event?: string; command?: string; body?: unknown; success?: boolean; message?: string };
    if (m.type === 'response') lines.push(`< ${m.command} ${m.success ? normalise(m.body ?? {}) : `ERROR ${normalise(m.message)}`}`);
    else if (m.event === 'stopped' || m.event === 'output' || m.event === 'initialized') lines.push(`! ${m.event} ${normalise(m.body ?? {})}`);
    dispatch(body);
  };
  try {
    const events = join(COLD.slice, 'events.jsonl');
    await launch(dc, { ...COLD, stopOnEntry: true }, async () => {
      await dc.setBreakpointsRequest({ source: { path: events }, breakpoints: [{ line: 13, condition: 'rank("i_120") <= 20' }, { line: 20, logMessage: 'top is {topk(1)}' }] });
      await dc.setExceptionBreakpointsRequest({ filters: ['nan_score', 'empty_slate'] });
      // As VS Code initializes: it asks for variable types.
    }, { supportsVariableType: true });
    await moveAndStop(dc, () => dc.continueRequest({ threadId: 1 }));
    const st = await dc.stackTraceRequest({ threadId: 1 });
    const scopes = await dc.scopesRequest({ frameId: st.body.stackFrames[0]?.id as number });
    const ranking = scopes.body.scopes.find((s) => s.name === 'Ranking') as DebugProtocol.Scope;
    const rows = await dc.variablesRequest({ variablesReference: ranking.variablesReference, filter: 'indexed', start: 0, count: 3 });
    await dc.variablesRequest({ variablesReference: rows.body.variables[0]?.variablesReference as number });
    await dc.evaluateRequest({ expression: 'rankDelta("i_120")', frameId: st.body.stackFrames[0]?.id as number, context: 'watch' });
    // Into event 14 two stages and one back (to 14:retrieve): reverse continue then finds event 13's breakpoint.
    await moveAndStop(dc, () => dc.stepInRequest({ threadId: 1 }));
    await moveAndStop(dc, () => dc.stepInRequest({ threadId: 1 }));
    await moveAndStop(dc, () => dc.stepBackRequest({ threadId: 1 }));
    await dc.stackTraceRequest({ threadId: 1, levels: 1 });
    await moveAndStop(dc, () => dc.reverseContinueRequest({ threadId: 1 }));
  } finally {
    await dc.stop();
  }
  const actual = lines.join('\n') + '\n';
  if (process.env['RESET_RESULTS'] === '1') {
    mkdirSync(join(__dirname, 'golden'), { recursive: true });
    writeFileSync(GOLDEN, actual);
    return;
  }
  assert.ok(existsSync(GOLDEN), `no golden transcript at ${GOLDEN}: run with RESET_RESULTS=1 to record one`);
  const expected = readFileSync(GOLDEN, 'utf8');
  if (actual !== expected) writeFileSync(`${GOLDEN}.actual`, actual);
  else rmSync(`${GOLDEN}.actual`, { force: true });
  assert.equal(actual, expected, `transcript differs: diff ${GOLDEN} ${GOLDEN}.actual (RESET_RESULTS=1 to accept)`);
});
