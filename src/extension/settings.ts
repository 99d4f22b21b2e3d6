import * as vscode from 'vscode';
import type { TimelineMode } from '../shared/webview';

/** The extension's settings, read fresh each time (package.json `contributes.configuration` documents them). */
export interface Settings {
  defaultRanker: string;
  /** Unset (null, the default): the engine picks the interval for each slice (at most 500, fewer for large events). */
  checkpointEvery: number | undefined;
  pageSize: number;
  groupEventsBy: 'time' | 'session';
  timelineMaxPoints: number;
  timelineMode: TimelineMode;
  timelineOpenOnDebug: boolean;
  eventDecorations: boolean;
  runsFolder: string;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.floor(v)));

/** recreplay.checkpointEvery as a number of events (a number written as a string too), or undefined when unset. */
function intervalOf(raw: unknown): number | undefined {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  return typeof n === 'number' && Number.isFinite(n) ? clamp(n, 1, 1_000_000) : undefined;
}

export function readSettings(scope?: vscode.ConfigurationScope): Settings {
  const c = vscode.workspace.getConfiguration('recreplay', scope);
  const mode = c.get<string>('timeline.mode');
  return {
    defaultRanker: c.get<string>('defaultRanker')?.trim() || 'recorded',
    checkpointEvery: intervalOf(c.get<unknown>('checkpointEvery')),
    pageSize: clamp(c.get<number>('slices.pageSize') ?? 200, 10, 5000),
    groupEventsBy: c.get<string>('slices.groupEventsBy') === 'session' ? 'session' : 'time',
    timelineMaxPoints: clamp(c.get<number>('timeline.maxPoints') ?? 4000, 100, 100_000),
    timelineMode: mode === 'event' ? 'event' : 'cumulative',
    timelineOpenOnDebug: c.get<boolean>('timeline.openOnDebug') ?? false,
    eventDecorations: c.get<boolean>('editor.eventDecorations') ?? true,
    runsFolder: c.get<string>('runs.folder')?.trim() || '.recreplay/runs',
  };
}
