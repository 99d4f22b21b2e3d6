/**
 * Drives the real debug adapter in-process, the way DebugAdapterInlineImplementation does
 * (handleMessage / onDidSendMessage), and wraps it as the slice of vscode.DebugSession the
 * extension uses (customRequest). No VS Code needed.
 */
import type * as vscode from 'vscode';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ReplayDebugSession } from '../../src/debugAdapter/session';
import { lineLogger } from '../../src/debugAdapter/logger';
import { METRICS_EVENT, POSITION_EVENT, type MetricsEventBody, type PositionEventBody } from '../../src/shared/dap';
import { ReplaySession, type ReplaySessions } from '../../src/extension/debug/sessions';
import { EventEmitter } from './vscodeFake';

export class InlineDap {
  readonly adapter: ReplayDebugSession;
  private seq = 1;
  private readonly pending = new Map<number, { resolve: (b: unknown) => void; reject: (e: Error) => void }>();
  readonly events: DebugProtocol.Event[] = [];
  private waiters: { match: (e: DebugProtocol.Event) => boolean; resolve: (e: DebugProtocol.Event) => void }[] = [];
  readonly log: string[] = [];
  /** Called with every event (the adapter's emitter takes a single listener: this class). */
  readonly listeners: ((e: DebugProtocol.Event) => void)[] = [];

  constructor(cwd: string) {
    this.adapter = new ReplayDebugSession({ logger: lineLogger((t) => this.log.push(t), true), cwd });
    this.adapter.onDidSendMessage((m) => this.receive(m as DebugProtocol.ProtocolMessage));
  }

  private receive(m: DebugProtocol.ProtocolMessage): void {
    if (m.type === 'response') {
      const r = m as DebugProtocol.Response;
      const p = this.pending.get(r.request_seq);
      this.pending.delete(r.request_seq);
      if (r.success) p?.resolve(r.body);
      else p?.reject(new Error((r.body as { error?: { format?: string } } | undefined)?.error?.format ?? r.message ?? 'failed'));
    } else if (m.type === 'event') {
      const e = m as DebugProtocol.Event;
      this.events.push(e);
      for (const l of this.listeners) l(e);
      const hit = this.waiters.filter((w) => w.match(e));
      this.waiters = this.waiters.filter((w) => !w.match(e));
      for (const w of hit) w.resolve(e);
    }
  }

  request<T = unknown>(command: string, args?: unknown): Promise<T> {
    const seq = this.seq++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (b: unknown) => void, reject });
      this.adapter.handleMessage({ seq, type: 'request', command, arguments: args } as DebugProtocol.Request);
    });
  }

  /** The next event matching (registered before the request that causes it). */
  next(event: string, match: (e: DebugProtocol.Event) => boolean = () => true): Promise<DebugProtocol.Event> {
    return new Promise((resolve) => this.waiters.push({ match: (e) => e.event === event && match(e), resolve }));
  }

  /** What the extension sees of the session. */
  session(config: vscode.DebugConfiguration): vscode.DebugSession {
    return {
      id: 'test-session',
      type: 'recreplay',
      name: config.name,
      configuration: config,
      workspaceFolder: undefined,
      parentSession: undefined,
      customRequest: (command: string, args?: unknown) => this.request(command, args),
      getDebugProtocolBreakpoint: async () => undefined,
    } as unknown as vscode.DebugSession;
  }

  async dispose(): Promise<void> {
    await this.adapter.dispose();
  }
}

/** The extension's session tracking of one session of `dap`, fed from the adapter's custom events. */
export function track(dap: InlineDap, config: Record<string, unknown>): { rs: ReplaySession; sessions: ReplaySessions; end: () => void } {
  const rs = new ReplaySession(dap.session(config as never));
  const position = new EventEmitter<ReplaySession>();
  const metrics = new EventEmitter<{ s: ReplaySession; body: MetricsEventBody }>();
  dap.listeners.push((e) => {
    if (e.event === POSITION_EVENT) {
      rs.onPosition(e.body as PositionEventBody);
      position.fire(rs);
    } else if (e.event === METRICS_EVENT) {
      rs.onMetrics(e.body as MetricsEventBody);
      metrics.fire({ s: rs, body: e.body as MetricsEventBody });
    }
  });
  const ended = new EventEmitter<ReplaySession>();
  const sessions = { onPosition: position.event, onMetrics: metrics.event, onEnd: ended.event, onStart: new EventEmitter<ReplaySession>().event, get: () => rs, all: () => [rs], active: rs } as unknown as ReplaySessions;
  /** Says the session ended, as VS Code does when it terminates. */
  const end = () => ended.fire(rs);
  return { rs, sessions, end };
}
