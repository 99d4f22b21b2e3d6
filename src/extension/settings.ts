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

/** A whole-number setting within [min, max]: a number, or a numeric string; anything else is the default ("lots" made NaN). */
function countOf(raw: unknown, fallback: number, min: number, max: number): number {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  return typeof n === 'number' && Number.isFinite(n) ? clamp(n, min, max) : fallback;
}

/** A string setting, trimmed; anything else (a number, an object) is unset. */
function stringSetting(raw: unknown): string | undefined {
  return typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : undefined;
}

export function readSettings(scope?: vscode.ConfigurationScope): Settings {
  const c = vscode.workspace.getConfiguration('recreplay', scope);
  const mode = c.get<string>('timeline.mode');
  return {
    defaultRanker: stringSetting(c.get<unknown>('defaultRanker')) ?? 'recorded',
    checkpointEvery: intervalOf(c.get<unknown>('checkpointEvery')),
    pageSize: countOf(c.get<unknown>('slices.pageSize'), 200, 10, 5000),
    groupEventsBy: c.get<string>('slices.groupEventsBy') === 'session' ? 'session' : 'time',
    timelineMaxPoints: countOf(c.get<unknown>('timeline.maxPoints'), 4000, 100, 100_000),
    timelineMode: mode === 'event' ? 'event' : 'cumulative',
    timelineOpenOnDebug: c.get<unknown>('timeline.openOnDebug') === true,
    eventDecorations: c.get<unknown>('editor.eventDecorations') !== false,
    runsFolder: stringSetting(c.get<unknown>('runs.folder')) ?? '.recreplay/runs',
  };
}
