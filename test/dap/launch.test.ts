import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { FAULT_KINDS } from '../../src/core/engine/faults';
import { makeSlice, tmp } from '../helpers';
import { Replayer } from '../../src/core/engine/replay';
import { loadRanker } from '../../src/core/rankers';
import { Slice } from '../../src/core/slice/reader';
import { runHeadless } from '../../src/core/engine/run';
import { client, COLD, evalAt, failure, launch, LATENCY, moveAndStop, scopeVars, waitFor, where } from './helpers';

test('initialize announces every capability the adapter implements, with one exception filter per fault detector', async () => {
  const dc = await client();
  try {
    const caps = (await dc.initializeRequest({ adapterID: 'recreplay', pathFormat: 'path' })).body as DebugProtocol.Capabilities;
    for (const flag of ['supportsConfigurationDoneRequest', 'supportsStepBack', 'supportsConditionalBreakpoints', 'supportsHitConditionalBreakpoints', 'supportsLogPoints', 'supportsFunctionBreakpoints', 'supportsDataBreakpoints', 'supportsExceptionInfoRequest', 'supportsExceptionFilterOptions', 'supportsGotoTargetsRequest', 'supportsRestartFrame', 'supportsEvaluateForHovers', 'supportsCompletionsRequest', 'supportsBreakpointLocationsRequest', 'supportsSteppingGranularity', 'supportsTerminateRequest', 'supportsCancelRequest'] as const) {
      assert.equal(caps[flag], true, flag);
    }
    assert.deepEqual(caps.exceptionBreakpointFilters?.map((f) => f.filter), [...FAULT_KINDS]);
    const withCondition = caps.exceptionBreakpointFilters?.filter((f) => f.supportsCondition).map((f) => f.filter);
    assert.deepEqual(withCondition, ['empty_slate', 'over_budget', 'stage_over_budget', 'stale_feature', 'divergence', 'metric_drop']);
  } finally {
    await dc.stop();
  }
});

test('launch with stopOnEntry stops at event 1 before any stage, on thread "replay", framed on line 1 of events.jsonl', async () => {
  const dc = await client();
  try {
    const stop = await launch(dc, { ...COLD, stopOnEntry: true });
    assert.equal(stop.body.reason, 'entry');
    assert.equal(stop.body.threadId, 1);
    const threads = await dc.threadsRequest();
    assert.deepEqual(threads.body.threads, [{ id: 1, name: 'replay' }]);
    const w = await where(dc);
    assert.equal(w.line, 1);
    assert.equal(w.stage, 'before retrieve');
    assert.equal(w.frames.length, 3);
    for (const f of w.frames) {
      assert.equal(f.source?.path, join(COLD.slice, 'events.jsonl'));
      assert.equal(f.line, 1);
    }
    assert.match(w.frames[1]?.name ?? '', /^event 1 · e00001/);
    assert.match(w.frames[2]?.name ?? '', /^cold-start · linear:.*cold-start-linear\.json · seed 42$/);
    const page = await dc.stackTraceRequest({ threadId: 1, startFrame: 1, levels: 1 });
    assert.deepEqual([page.body.stackFrames.map((f) => f.id), page.body.totalFrames], [[w.frames[1]?.id], 3], 'frames load in pages');
  } finally {
    await dc.stop();
  }
});

test('without stopOnEntry and without breakpoints the replay runs to the end of the slice and stays there', async () => {
  const dc = await client();
  try {
    const stop = await launch(dc, { ...LATENCY });
    assert.equal(stop.body.reason, 'end');
    assert.equal((await where(dc)).line, 900);
  } finally {
    await dc.stop();
  }
});

async function launchError(args: unknown): Promise<DebugProtocol.Response> {
  const dc = await client();
  try {
    await dc.initializeRequest({ adapterID: 'recreplay', pathFormat: 'path' });
    const res = await dc.send('launch', args).then(
      (r) => r,
      (e: Error) => ({ success: false, message: e.message }) as DebugProtocol.Response,
    );
    // The adapter must still answer after refusing the launch.
    const threads = await dc.threadsRequest().then(
      () => 'ok',
      (e: Error) => e.message,
    );
    assert.match(threads, /no slice is being debugged yet|ok/);
    return res;
  } finally {
    await dc.stop();
  }
}

test('malformed launch arguments come back as error messages a user can act on, not a dead adapter', async () => {
  const cases: [unknown, RegExp][] = [
    [{}, /"slice" is missing: set it to the NAME\.slice folder/],
    [{ slice: 42 }, /"slice" must be the path of a NAME\.slice folder, but it is 42/],
    [{ slice: COLD.slice, seed: -1 }, /"seed" must be a whole number from 0 to 4294967295, but it is -1/],
    // Above 32 bits: no `recreplay run --seed` could repeat the session.
    [{ slice: COLD.slice, seed: 2 ** 32 }, /"seed" must be a whole number from 0 to 4294967295, but it is 4294967296/],
    [{ slice: COLD.slice, seed: 'x' }, /"seed" must be a whole number, but it is "x"/],
    [{ slice: COLD.slice, checkpointEvery: 0 }, /"checkpointEvery" must be a whole number >= 1/],
    [{ slice: COLD.slice, stopOnEntry: 'yes' }, /"stopOnEntry" must be true or false/],
    [{ slice: '/nowhere/x.slice' }, /no slice\.json in \/nowhere\/x\.slice/],
    [{ slice: COLD.slice, ranker: 'xgboost' }, /unknown ranker "xgboost"/],
    [{ slice: COLD.slice, ranker: 'linear:missing.json' }, /linear artifact not found/],
    [{ slice: COLD.slice, baseline: 'nope' }, /unknown ranker "nope"/],
    [{ slice: COLD.slice, scenario: 'a.replay' }, /"scenario" is not supported/],
  ];
  for (const [args, re] of cases) {
    const res = await launchError(args);
    assert.equal(res.success, false, JSON.stringify(args));
    assert.match(res.message ?? '', re, JSON.stringify(args));
    assert.doesNotMatch(res.message ?? '', /at .*\.js:\d+/, 'no stack trace in a user-facing message');
  }
});

test('a modified slice is refused with the file named and the launch argument that replays it, and replayed with force: true', async () => {
  const dir = makeSlice(10);
  const p = join(dir, 'users.jsonl');
  writeFileSync(p, readFileSync(p, 'utf8').replace('"u1"', '"u9"'));
  const res = await launchError({ slice: dir });
  assert.match(res.message ?? '', /users\.jsonl/);
  // What to write in a launch configuration, not the CLI's flag (a DAP client has no --force to pass).
  assert.match(res.message ?? '', /add "force": true to the launch configuration/);
  assert.doesNotMatch(res.message ?? '', /--force/);
  const dc = await client();
  const important: string[] = [];
  dc.on('output', (e: DebugProtocol.OutputEvent) => void (e.body.category === 'important' && important.push(e.body.output)));
  try {
    const stop = await launch(dc, { slice: dir, force: true, stopOnEntry: true });
    assert.equal(stop.body.reason, 'entry');
    // Said where the user looks, not only in the adapter's log.
    assert.ok(important.some((o) => /^replaying a modified slice \(force\): users\.jsonl does not match the manifest, so what this session shows is not the frozen data/.test(o)), important.join(''));
  } finally {
    await dc.stop();
  }
});

test('requests before launch get a clear error, unknown requests are refused, and the session still launches', async () => {
  const dc = await client();
  try {
    assert.match(await failure(dc.stackTraceRequest({ threadId: 1 })), /no slice is being debugged yet: launch a recreplay configuration first/);
    assert.match(await failure(dc.send('readMemory', { memoryReference: '0', count: 1 })), /does not support the 'readMemory' request/);
    assert.match(await failure(dc.attachRequest({} as DebugProtocol.AttachRequestArguments)), /cannot attach/);
    const stop = await launch(dc, { ...COLD, stopOnEntry: true });
    assert.equal(stop.body.reason, 'entry');
    assert.match(await failure(dc.launchRequest({ ...COLD } as DebugProtocol.LaunchRequestArguments)), /already debugs a slice/);
  } finally {
    await dc.stop();
  }
});

test('disconnect in the middle of a long continue ends the run and the adapter process', async () => {
  const dir = makeSlice(30_000);
  const dc = await client();
  try {
    await launch(dc, { slice: dir, stopOnEntry: true });
    const running = waitFor(dc, 'recreplay/position', (e) => e.body.state === 'running');
    await dc.continueRequest({ threadId: 1 });
    const pos = await running;
    assert.ok(pos.body.event > 1 && pos.body.event < 30_000, 'the run reports progress while it goes');
    // DebugClient keeps its child private; the test needs it to see the process end.
    const proc = (dc as unknown as { _adapterProcess: ChildProcess })._adapterProcess;
    // The timeout also keeps the test's event loop alive while the child winds down.
    const exited = new Promise<number | null | 'timeout'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), 3000);
      proc.once('exit', (code) => (clearTimeout(timer), resolve(code)));
    });
    const t0 = Date.now();
    await dc.disconnectRequest({});
    assert.ok(Date.now() - t0 < 2000, 'disconnect is answered promptly');
    assert.equal(await exited, 0, 'the standalone adapter exits cleanly after the disconnect');
  } catch (e) {
    await dc.stop();
    throw e;
  }
});

test('trace: the events replayed in the session are written as trace.jsonl and run.json when it ends', async () => {
  const out = join(tmp(), 'trace');
  const dir = join(tmp(), 'copy.slice');
  cpSync(COLD.slice, dir, { recursive: true });
  const dc = await client();
  try {
    await launch(dc, { slice: dir, ranker: COLD.ranker, trace: out });
  } catch (e) {
    await dc.stop();
    throw e;
  }
  // After this disconnect the adapter exits: a second one (dc.stop) would wait for an answer forever.
  await dc.disconnectRequest({});
  assert.ok(existsSync(join(out, 'trace.jsonl')));
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(run.events, 650);
  assert.equal(readFileSync(join(out, 'trace.jsonl'), 'utf8').trim().split('\n').length, 651, 'header + one line per event');
});

test("the session's run record counts faults, and the events that raised them, as the CLI's does, key for key in the same order (it listed them as first seen)", async () => {
  const out = join(tmp(), 'trace');
  const dc = await client();
  try {
    await launch(dc, { ...LATENCY, trace: out });
  } catch (e) {
    await dc.stop();
    throw e;
  }
  await dc.disconnectRequest({});
  const record = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  const fromSession = record.faults as Record<string, number>;
  const headless = await runHeadless({ ...LATENCY }, { now: () => '', user: 'u', host: 'h', cwd: process.cwd() });
  headless.replayer.dispose();
  const fromCli = Object.fromEntries(Object.entries(headless.faults).map(([k, v]) => [k, v?.count]));
  assert.ok(Object.keys(fromSession).length >= 2, JSON.stringify(fromSession));
  assert.equal(JSON.stringify(fromSession), JSON.stringify(Object.fromEntries(FAULT_KINDS.filter((k) => k in fromCli).map((k) => [k, fromCli[k]]))));
  // And the events that raised each kind, as the CLI's run record says them.
  const eventsFromCli = Object.fromEntries(FAULT_KINDS.filter((k) => k in fromCli).map((k) => [k, headless.faults[k]?.events]));
  assert.equal(JSON.stringify(record.faultEvents), JSON.stringify(eventsFromCli));
});

test('terminate ends the replay with a terminated event; later requests say the session has ended', async () => {
  const dc = await client();
  try {
    await launch(dc, { ...COLD, stopOnEntry: true });
    const terminated = dc.waitForEvent('terminated');
    await dc.terminateRequest({});
    await terminated;
    assert.match(await failure(dc.stackTraceRequest({ threadId: 1 })), /the debug session has ended/);
  } finally {
    await dc.stop();
  }
});

test('launch seed: the session frame names the seed given, and the simulated clicks draw from it, as an in-process replay with that seed', async () => {
  // Clicks of the cold-start slice from straight in-process replays: seed 7 and the slice's own (42) differ.
  const clicksWith = async (seed?: number) => {
    const slice = Slice.open(COLD.slice);
    const r = new Replayer(slice, { ranker: loadRanker(COLD.ranker, { slice }), ...(seed !== undefined ? { seed } : {}) });
    try {
      await r.runToEnd();
      return r.metrics.snapshot()['clicks'];
    } finally {
      r.dispose();
    }
  };
  const [seven, own] = [await clicksWith(7), await clicksWith()];
  assert.notEqual(seven, own, 'the cold-start slice has clicks the seed decides');
  const dc = await client();
  try {
    await launch(dc, { ...COLD, seed: 7, stopOnEntry: true });
    const w = await where(dc);
    assert.match(w.frames[2]?.name ?? '', /^cold-start · linear:.*cold-start-linear\.json · seed 7$/);
    assert.equal((await scopeVars(dc, 'Session', 1, 2)).find((v) => v.name === 'seed')?.value, '7');
    const end = await moveAndStop(dc, () => dc.continueRequest({ threadId: 1 }));
    assert.equal(end.body.reason, 'end');
    assert.equal((await evalAt(dc, 'metrics["clicks"]')).body.result, String(seven));
  } finally {
    await dc.stop();
  }
});

test('misspelt launch arguments are named in a warning with the argument meant; keys editors add are not', async () => {
  const dc = await client();
  try {
    const warnings: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => {
      if (e.body.category === 'important') warnings.push(e.body.output);
    });
    const stop = await launch(dc, { ...COLD, type: 'recreplay', request: 'launch', name: 'x', __sessionId: 'abc', stopOnentry: true, checkpointevery: 5, rnaker: 'recorded', colour: 'red' });
    assert.equal(stop.body.reason, 'end', 'the misspelt stopOnentry does not stop on entry');
    assert.equal(warnings.length, 4, warnings.join(''));
    assert.match(warnings[0] ?? '', /launch argument "stopOnentry" is not one RecReplay knows and is ignored: did you mean "stopOnEntry"\?/);
    assert.match(warnings[1] ?? '', /"checkpointevery" .* did you mean "checkpointEvery"\?/);
    assert.match(warnings[2] ?? '', /"rnaker" .* did you mean "ranker"\?/);
    assert.match(warnings[3] ?? '', /"colour" is not one RecReplay knows and is ignored: the arguments are slice, ranker, /);
  } finally {
    await dc.stop();
  }
});

test('a linear ranker whose weights name features the slice lacks is warned about in the Debug Console, per lane in compare mode', async () => {
  const dir = tmp();
  const weights = join(dir, 'typo.json');
  writeFileSync(weights, JSON.stringify({ weights: { pop_30d: 0.9, ctr_7: 20 }, bias: -4, sigmoid: true }));
  const dc = await client();
  try {
    const warnings: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => {
      if (e.body.category === 'important') warnings.push(e.body.output);
    });
    await launch(dc, { slice: COLD.slice, ranker: `linear:${weights}`, baseline: COLD.ranker, stopOnEntry: true });
    assert.equal(warnings.length, 1, warnings.join(''));
    assert.match(warnings[0] ?? '', /^candidate: linear ranker .*typo\.json: weight "ctr_7": the manifest's schema lists no feature "ctr_7" .* adds 0 to every score; did you mean "ctr_7d"\?/);
  } finally {
    await dc.stop();
  }
});

test('fields of slice.json the format does not know are named in a warning in the Debug Console', async () => {
  const dir = join(tmp(), 'typo.slice');
  cpSync(COLD.slice, dir, { recursive: true });
  const m = JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as Record<string, unknown>;
  m['pipline'] = m['pipeline'];
  delete m['pipeline'];
  writeFileSync(join(dir, 'slice.json'), JSON.stringify(m));
  const dc = await client();
  try {
    const warnings: string[] = [];
    dc.on('output', (e: DebugProtocol.OutputEvent) => {
      if (e.body.category === 'important') warnings.push(e.body.output);
    });
    await launch(dc, { slice: dir, ranker: 'recorded', stopOnEntry: true });
    assert.deepEqual(warnings, ['slice.json: "pipline" is not a field of the manifest, so it is ignored; did you mean "pipeline"?\n']);
  } finally {
    await dc.stop();
  }
});

/** The links VS Code makes of a notification's text (src/vs/base/common/linkedText.ts, 1.100). */
const notificationLinks = (text: string) => [...text.matchAll(/\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi)].map((m) => m[2]);

test('slice text in warnings and errors is neither a link in the notification VS Code makes of them nor ANSI escapes in the Debug Console', async () => {
  const dir = join(tmp(), 'crafted.slice');
  cpSync(COLD.slice, dir, { recursive: true });
  const m = JSON.parse(readFileSync(join(dir, 'slice.json'), 'utf8')) as Record<string, unknown>;
  // An unknown field is named in an 'important' warning, as it is written.
  m['[Fix it](command:workbench.action.terminal.new)\u001b[30;40m'] = 1;
  writeFileSync(join(dir, 'slice.json'), JSON.stringify(m));
  const output: DebugProtocol.OutputEvent['body'][] = [];
  const refusing = await client();
  try {
    // A launch configuration comes with the workspace too: its ranker is quoted by the error.
    await refusing.initializeRequest({ adapterID: 'recreplay', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const refused = await failure(refusing.launchRequest({ slice: dir, ranker: '[Trust it](command:workbench.trust.manage)' } as DebugProtocol.LaunchRequestArguments));
    assert.deepEqual(notificationLinks(refused), [], refused);
    assert.match(refused, /\[Trust it\] \(command:workbench\.trust\.manage\)/, 'still named, as text');
  } finally {
    await refusing.stop();
  }
  const dc = await client();
  try {
    dc.on('output', (e: DebugProtocol.OutputEvent) => void output.push(e.body));
    await launch(dc, { slice: dir, ranker: 'recorded', stopOnEntry: true });
  } finally {
    await dc.stop();
  }
  const warning = output.find((o) => o.category === 'important' && o.output.includes('Fix it'));
  assert.ok(warning, JSON.stringify(output));
  assert.deepEqual(notificationLinks(warning.output), [], warning.output);
  assert.equal(warning.output, 'slice.json: "[Fix it] (command:workbench.action.terminal.new)\\x1b[30;40m" is not a field of the manifest, so it is ignored\n');
  for (const o of output) assert.ok(!o.output.includes('\u001b'), o.output);
});
