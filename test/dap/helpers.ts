import assert from 'node:assert/strict';
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import '../helpers';

export const ROOT = resolve(__dirname, '../..');
export const ADAPTER = join(ROOT, 'dist/debugAdapter.js');
export const EX = join(ROOT, 'examples');
export const COLD = {
  slice: join(EX, 'slices/cold-start.slice'),
  ranker: `linear:${join(EX, 'rankers/cold-start-linear.json')}`,
};
export const LATENCY = {
  slice: join(EX, 'slices/latency-cascade.slice'),
  ranker: `linear:${join(EX, 'rankers/search-linear.json')}`,
};

/** A DebugClient talking to the built adapter as a separate process. */
export async function client(): Promise<DebugClient> {
  assert.ok(existsSync(ADAPTER), 'run `npm run build` first (npm test does)');
  const dc = new DebugClient(process.execPath, ADAPTER, 'recreplay', { env: { ...process.env } });
  dc.defaultTimeout = 15_000;
  await dc.start();
  const adapter = (dc as unknown as { _adapterProcess?: ChildProcess })._adapterProcess;
  const stop = dc.stop.bind(dc);
  dc.stop = async () => {
    await stop();
    if (adapter) await exitOrKill(adapter, 10_000);
  };
  return dc;
}

/**
 * Waits for a stopped adapter process to exit; one that has not after `ms` is killed (SIGKILL) and
 * said on stderr. Once, under a full test run, an adapter that had ended its session stayed in
 * Node's own exit — every thread in a futex wait, as in nodejs/node#54918 — and its test file never
 * ended, so neither did `npm test`.
 */
async function exitOrKill(p: ChildProcess, ms: number): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    p.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (await exited) return;
  process.stderr.write(`debug adapter pid ${p.pid} had not exited ${ms / 1000} s after it was stopped: killed\n`);
  p.kill('SIGKILL');
}

/**
 * initialize → launch → (setup: breakpoints) → configurationDone, resolving to the first stop.
 * Waiters are registered before the request that causes the event.
 */
export async function launch(dc: DebugClient, args: Record<string, unknown>, setup: () => Promise<unknown> = async () => {}, init: Partial<DebugProtocol.InitializeRequestArguments> = {}): Promise<DebugProtocol.StoppedEvent> {
  await dc.initializeRequest({ adapterID: 'recreplay', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', ...init });
  const initialized = dc.waitForEvent('initialized');
  await dc.launchRequest(args as DebugProtocol.LaunchRequestArguments);
  await initialized;
  await setup();
  const stopped = dc.waitForEvent('stopped');
  await dc.configurationDoneRequest();
  return (await stopped) as DebugProtocol.StoppedEvent;
}

/** Sends a movement request and waits for the stop it causes. */
export async function moveAndStop(dc: DebugClient, send: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
  const stopped = dc.waitForEvent('stopped');
  await send();
  return (await stopped) as DebugProtocol.StoppedEvent;
}

/** Where the replay stands: the top frame's name and the line (= event) of the given thread. */
export async function where(dc: DebugClient, threadId = 1): Promise<{ stage: string; line: number; frames: DebugProtocol.StackFrame[] }> {
  const st = await dc.stackTraceRequest({ threadId });
  const top = st.body.stackFrames[0] as DebugProtocol.StackFrame;
  return { stage: top.name, line: top.line, frames: st.body.stackFrames };
}

/** The variables of a named scope of the top frame of a thread. */
export async function scopeVars(dc: DebugClient, scope: string, threadId = 1, frameIndex = 0): Promise<DebugProtocol.Variable[]> {
  const st = await dc.stackTraceRequest({ threadId });
  const frameId = (st.body.stackFrames[frameIndex] as DebugProtocol.StackFrame).id;
  const scopes = await dc.scopesRequest({ frameId });
  const s = scopes.body.scopes.find((x) => x.name === scope);
  assert.ok(s, `scope ${scope} in ${scopes.body.scopes.map((x) => x.name).join(', ')}`);
  return (await dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
}

/** Evaluates at the top frame of a thread. */
export async function evalAt(dc: DebugClient, expression: string, threadId = 1, context: DebugProtocol.EvaluateArguments['context'] = 'watch'): Promise<DebugProtocol.EvaluateResponse> {
  const st = await dc.stackTraceRequest({ threadId });
  return dc.evaluateRequest({ expression, frameId: (st.body.stackFrames[0] as DebugProtocol.StackFrame).id, context });
}

/** The error message of a request that must fail. */
export async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail('the request should have failed');
}

/** The next event of a type that satisfies `pred` (events that do not are skipped). */
export function waitFor(dc: DebugClient, type: string, pred: (e: DebugProtocol.Event) => boolean, timeoutMs = 15_000): Promise<DebugProtocol.Event> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      dc.removeListener(type, on);
      reject(new Error(`no ${type} event matching within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (e: DebugProtocol.Event) => {
      if (!pred(e)) return;
      clearTimeout(timer);
      dc.removeListener(type, on);
      resolve(e);
    };
    dc.on(type, on);
  });
}

/**
 * Starts the built adapter with --port 0 (and `args`, in `env` added to this process's); `port`
 * resolves once it says where it listens, or rejects if it exits first; `stderr` is what it printed so far.
 */
export function serveTcp(args: string[] = [], env: Record<string, string> = {}): { proc: ChildProcessWithoutNullStreams; port: Promise<number>; stderr: () => string } {
  const proc = spawn(process.execPath, [ADAPTER, '--port', '0', ...args], { env: { ...process.env, ...env } });
  let err = '';
  const port = new Promise<number>((resolve, reject) => {
    proc.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on [\d.]+:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`adapter exited with ${code}: ${err}`)));
  });
  return { proc, port, stderr: () => err };
}
