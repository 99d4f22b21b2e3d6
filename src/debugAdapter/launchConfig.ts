import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdapterError, ERROR_IDS } from './errors';

/** Launch arguments of a `recreplay` debug configuration (package.json `configurationAttributes`). */
export interface ReplayLaunchArguments {
  /** The NAME.slice folder to replay. */
  slice: string;
  /** Ranker spec: recorded | popularity | linear:PATH | embedding:PATH (default recorded). */
  ranker?: string;
  /** A second ranker spec: compare mode, with threads `baseline` (this one) and `candidate` (`ranker`). */
  baseline?: string;
  /** Seed of every random stream (default: the slice's seed). */
  seed?: number;
  /** Stop at event 1 before any stage runs. */
  stopOnEntry?: boolean;
  /** Checkpoint interval in events (default: the engine's): smaller makes step back faster, continue slower. */
  checkpointEvery?: number;
  /** Folder to write trace.jsonl and run.json of the events replayed in this session. */
  trace?: string;
  /** Replay even when the slice's files do not match its manifest. */
  force?: boolean;
  /** Folder relative paths are resolved against (default: the adapter's working folder). */
  cwd?: string;
  /** Run Without Debugging (VS Code sets it for Ctrl+F5): replay to the end, stopping nowhere, then end the session. */
  noDebug?: boolean;
}

/** Validated launch settings with paths resolved. */
export interface LaunchConfig {
  slice: string;
  ranker: string;
  baseline: string | undefined;
  seed: number | undefined;
  stopOnEntry: boolean;
  checkpointEvery: number | undefined;
  trace: string | undefined;
  force: boolean;
  cwd: string;
  noDebug: boolean;
}

const EXAMPLE = '{ "type": "recreplay", "request": "launch", "name": "Debug slice", "slice": "${workspaceFolder}/slices/home.slice", "ranker": "linear:rankers/model.json" }';

function fail(message: string): never {
  throw new AdapterError(`${message}\nA working launch configuration looks like: ${EXAMPLE}`, ERROR_IDS.launch);
}

function optional<T>(args: Record<string, unknown>, key: string, kind: 'string' | 'boolean' | 'number', what: string): T | undefined {
  const v = args[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== kind || (kind === 'string' && (v as string).trim() === '')) {
    fail(`launch argument "${key}" must be ${what}, but it is ${JSON.stringify(v)}.`);
  }
  return v as T;
}

/** Checks raw launch arguments; every problem names the argument and what to write instead. */
export function parseLaunchArguments(raw: unknown, defaultCwd: string): LaunchConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('the launch arguments must be an object.');
  const args = raw as Record<string, unknown>;
  if (args['scenario'] !== undefined) {
    fail('launch argument "scenario" is not supported by this adapter yet: give "slice" and "ranker" (and "seed") instead.');
  }
  const cwdArg = optional<string>(args, 'cwd', 'string', 'a folder path');
  const cwd = cwdArg ? resolve(defaultCwd, cwdArg) : defaultCwd;
  const slice = optional<string>(args, 'slice', 'string', 'the path of a NAME.slice folder');
  if (slice === undefined) fail('launch argument "slice" is missing: set it to the NAME.slice folder to debug.');
  const ranker = optional<string>(args, 'ranker', 'string', 'a ranker spec such as "recorded" or "linear:rankers/model.json"') ?? 'recorded';
  const baseline = optional<string>(args, 'baseline', 'string', 'a second ranker spec, e.g. "recorded"');
  const seed = optional<number>(args, 'seed', 'number', 'a whole number');
  // Seeds are unsigned 32-bit, as in slice.json and `recreplay run --seed`: a session's seed can be replayed from the CLI.
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)) fail(`launch argument "seed" must be a whole number from 0 to 4294967295, but it is ${seed}.`);
  const every = optional<number>(args, 'checkpointEvery', 'number', 'a whole number of events');
  if (every !== undefined && (!Number.isInteger(every) || every < 1)) fail(`launch argument "checkpointEvery" must be a whole number >= 1, but it is ${every}.`);
  const trace = optional<string>(args, 'trace', 'string', 'a folder path for trace.jsonl and run.json');
  // A file:// URI (as breakpoint sources may come) is its path; "~" is no folder a path can name
  // here (no shell expands it): said, as "no slice.json in <cwd>/~/x.slice" said nothing of it.
  const abs = (p: string, name: string) => {
    if (/^file:\/\//i.test(p)) {
      try {
        return fileURLToPath(p);
      } catch (e) {
        fail(`launch argument "${name}" is the URI ${JSON.stringify(p)}, which is no file path: ${(e as Error).message}.`);
      }
    }
    if (p === '~' || p.startsWith('~/') || p.startsWith('~\\')) fail(`launch argument "${name}" starts with "~", which is not expanded: write \${userHome}${p.slice(1)} in launch.json, or the full path.`);
    return isAbsolute(p) ? p : resolve(cwd, p);
  };
  return {
    slice: abs(slice, 'slice'),
    ranker,
    baseline,
    seed,
    stopOnEntry: optional<boolean>(args, 'stopOnEntry', 'boolean', 'true or false') ?? false,
    checkpointEvery: every,
    trace: trace === undefined ? undefined : abs(trace, 'trace'),
    force: optional<boolean>(args, 'force', 'boolean', 'true or false') ?? false,
    cwd,
    noDebug: optional<boolean>(args, 'noDebug', 'boolean', 'true or false') ?? false,
  };
}

/** The launch arguments the adapter reads (package.json `configurationAttributes.launch`). */
const KNOWN_KEYS = ['slice', 'ranker', 'baseline', 'seed', 'stopOnEntry', 'checkpointEvery', 'trace', 'force', 'cwd'] as const;
/** Keys editors add to every configuration (VS Code's launch.json attributes and its internal `__…` ones). */
const CLIENT_KEYS = new Set(['type', 'request', 'name', 'noDebug', 'preLaunchTask', 'postDebugTask', 'presentation', 'internalConsoleOptions', 'debugServer', 'suppressMultipleSessionWarning', 'serverReadyAction', 'scenario']);

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length] as number;
}

/**
 * Warnings for launch arguments the adapter does not know (they would be ignored without a word),
 * each naming the argument and, when it is close to a known one, what to write instead.
 */
export function unknownLaunchArguments(raw: unknown): string[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return [];
  const out: string[] = [];
  for (const key of Object.keys(raw)) {
    if ((KNOWN_KEYS as readonly string[]).includes(key) || CLIENT_KEYS.has(key) || key.startsWith('__')) continue;
    const lower = key.toLowerCase();
    const near = KNOWN_KEYS.find((k) => k.toLowerCase() === lower) ?? KNOWN_KEYS.find((k) => editDistance(k.toLowerCase(), lower) <= Math.min(2, Math.floor(k.length / 3)));
    out.push(
      near !== undefined
        ? `launch argument "${key}" is not one RecReplay knows and is ignored: did you mean "${near}"?`
        : `launch argument "${key}" is not one RecReplay knows and is ignored: the arguments are ${KNOWN_KEYS.join(', ')}.`,
    );
  }
  return out;
}
