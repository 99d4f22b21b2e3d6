import { userInfo, hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { UserError, IntegrityError } from '../core/errors';
import { CancelledError, runHeadless, type Outcomes } from '../core/engine/run';
import { Slice, type VerifyReport } from '../core/slice/reader';
import { parseInstant } from '../core/time';
import { EXIT } from './exitCodes';
import { faultLines, fmt, progressBar, say, sayJson, shout, table } from './format';
import { oneLine } from '../shared/printable';
import { TOOL_VERSION } from '../core/version';
import { breakOption } from './breakReport';
import { dap } from './dap';
import { reportCrash } from './crash';
import { suggest } from '../core/expr/suggest';
import { plainParseError, repeatedOption, unknownOption } from '../shared/args';

const USAGE = `recreplay ${TOOL_VERSION} — replay recommender slices deterministically

Usage:
  recreplay info <slice> [--json]           manifest, counts, versions, hash status
  recreplay verify <slice> [--json]         exit 0 when intact, 4 and the modified file when not
  recreplay run <slice> [options]           replay a slice and print a summary
  recreplay dap [--port N] [--host H] [--log FILE] [--verbose]
                                            the debug adapter over stdio (or TCP) for any DAP client
  recreplay --help                          this usage (also: recreplay help, -h, or after a command)
  recreplay --version                       print the version

Run options:
  --ranker SPEC     recorded | popularity | linear:PATH | embedding:PATH   (default: recorded)
  --seed N          seed of every random stream, 0 to 4294967295 (default: the slice's seed)
  --trace DIR       write trace.jsonl and run.json to DIR (default: none; the trace's sha256
                    is printed all the same)
  --checkpoint-every K   checkpoint interval in events, 1 to 1000000000
                    (default 500, fewer for large events)
  --force           replay even if the slice's files do not match its manifest (default: off)
  --json            print one JSON object instead of the summary (default: off)
  --break EXPR      stop at the first event where EXPR holds and print a stop report
                    (default: none; exit 0 when hit, 1 when never hit; see docs/expressions.md)

Info and verify options:
  --json            print one JSON object instead of the text (default: off)

Dap options: recreplay dap --help

Exit codes (see docs/cli.md):
  0 ok · 1 --break never held · 2 usage (also: no arguments) · 3 bad input · 4 slice modified
  70 internal error · 130 Ctrl-C (SIGINT) · 143 SIGTERM · 129 SIGHUP`;

/** What the file system's refusals mean to a user, and what to do: said under Node's own line (which names the path). */
const FS_ERRORS: Record<string, string> = {
  ENOENT: 'No file or folder is at that path: check it.',
  EACCES: 'Permission denied: this user may not read or write there; check the permissions of the path and of its folders.',
  EPERM: 'The operation is not permitted there (another user\'s file, or a shared folder): use a path of your own.',
  ENOTDIR: 'A part of that path is a file, not a folder: check the path.',
  EISDIR: 'A folder is where a file was expected: check the path.',
  EEXIST: 'Something is already at that path: choose another, or remove it.',
  EROFS: 'That file system is read-only: use a path on a writable one.',
  ENOSPC: 'The disk is full: free space, or use a path on another disk.',
  ELOOP: 'Symbolic links in that path lead back to one another: fix or remove the link.',
  ENAMETOOLONG: 'A name in that path is longer than the file system allows (usually 255 bytes): use a shorter one.',
  EMFILE: 'Too many files are open: close other programs, or raise the limit (ulimit -n).',
};

function host() {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // Containers without a passwd entry still run.
  }
  return { now: () => new Date().toISOString(), user, host: hostname(), cwd: process.cwd() };
}

/** Signals that cancel a run, and the exit code of each (128 + its number, as a shell reports it). */
const CANCEL_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let cancelSignal: NodeJS.Signals | undefined;
function exitCodeOf(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? EXIT.TERMINATED : signal === 'SIGHUP' ? EXIT.HANGUP : EXIT.CANCELLED;
}

/**
 * Output that could not be written. stderr's errors are dropped (a closed or full stderr loses its
 * messages; the run goes on: a warning written to it ended the run with exit 1, "--break never
 * held"). stdout's are kept: a result that did not reach a full disk is an error (exit 3), not a
 * silent success; one that a reader stopped reading (EPIPE: `| head -1`) is the reader's choice.
 */
let outputError: NodeJS.ErrnoException | undefined;
let watchingOutput = false;
function watchOutput(): void {
  if (watchingOutput) return;
  watchingOutput = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => (outputError ??= e));
  process.stderr.on('error', () => {});
}

/** Whether the progress bar is on stderr's last line: an error or a cancel clears it first, so its message starts a line. */
let progressShown = false;
function clearProgress(): void {
  if (!progressShown) return;
  progressShown = false;
  process.stderr.write('\r\x1b[K');
}

/** The ranges of the number options (as run checks them), for the message when a "-" follows one. */
const NUMBER_RANGES: Record<string, string> = { '--seed': '0 to 4294967295', '--checkpoint-every': '1 to 1000000000' };

/** The options of each command, for a "did you mean" on a misspelt one. */
const OPTION_NAMES: Record<string, readonly string[]> = {
  info: ['json', 'help'],
  verify: ['json', 'help'],
  run: ['ranker', 'seed', 'trace', 'checkpoint-every', 'force', 'json', 'break', 'help'],
};

/** An option given twice kept its last value without a word (`--ranker popularity --ranker recorded` replayed recorded). */
function onlyOnce(tokens: readonly { kind: string; name?: string }[] | undefined): void {
  const twice = repeatedOption(tokens);
  if (twice !== undefined) usage(`--${twice} is given more than once; give it once`);
}

/** `recreplay CMD --help` (or -h): the usage, exit 0 — not an unknown option. */
const HELP = { help: { type: 'boolean', short: 'h' } } as const;
function help(): number {
  say(USAGE);
  return EXIT.OK;
}

function usage(msg: string): never {
  throw new UserError(msg, {}, 'Run `recreplay --help` for usage.', 'E_USAGE');
}

/** The one slice folder a command takes; anything more is a mistake worth saying. */
function sliceArg(cmd: string, positionals: string[]): string {
  if (positionals.length === 0) usage(`${cmd} needs a slice folder`);
  const extra = positionals.slice(1);
  // After "--" every word is a folder: an option there was meant before it.
  const option = extra.find((p) => p.startsWith('--'));
  if (option !== undefined) usage(`${cmd} takes one slice folder, got also "${option}": options go before "--" (after it every word is a folder)`);
  if (positionals.length > 1) usage(`${cmd} takes one slice folder, got also ${extra.map((p) => `"${p}"`).join(', ')}${cmd === 'run' ? ' (quote a --break expression that has spaces)' : ''}`);
  return positionals[0] as string;
}

async function info(args: string[]): Promise<number> {
  const { values, positionals, tokens } = parseArgs({ args, options: { json: { type: 'boolean' }, ...HELP }, allowPositionals: true, tokens: true });
  onlyOnce(tokens);
  if (values.help) return help();
  const dir = sliceArg('info', positionals);
  let slice: Slice;
  try {
    slice = Slice.open(dir, { force: true, trustCachedIndex: true });
  } catch (e) {
    // Files missing: it does not open, but its manifest still says what it is (info describes, verify checks).
    if (e instanceof UserError && e.code === 'E_MISSING') return describeMissing(dir, values.json === true);
    // A file that no longer reads (a parse error, no events left): when it no longer matches the
    // manifest either, that is what to say (info describes a modified slice), with why it does not open.
    if (e instanceof UserError && e.code !== 'E_USAGE') {
      let report: VerifyReport | undefined;
      try {
        report = Slice.verifyFolder(dir);
      } catch {
        // The manifest itself is what is wrong: the error from the open says so.
      }
      if (report && report.modified.length > 0) return describeMissing(dir, values.json === true, { report, error: e });
    }
    throw e;
  }
  const m = slice.manifest;
  // Only what was checked is called intact: events.jsonl is checked whole when its index is built,
  // else chunk by chunk as a replay reads it (`recreplay verify` reads it all).
  const span = eventSpan(slice);
  // The writer refuses this; another tool's slice may hold it. A replay does not read the clock, so it is said, not refused.
  const warnings = [...slice.warnings, ...(span && parseInstant(m.clock.start) > parseInstant(span.first) ? [`slice.json: clock.start ${oneLine(m.clock.start)} is after the first event's time (${oneLine(span.first)}), though it is the start of the window the events were taken from; it is shown as written, and a replay does not use it`] : [])];
  for (const w of warnings) shout(`recreplay: warning: ${w}`);
  const status = slice.modified.size
    ? `modified (${[...slice.modified].join(', ')})`
    : slice.eventsVerified
      ? 'intact (every file verified)'
      : 'small files intact; events.jsonl checked in part (info reads its first and last events; a replay checks each chunk as it reads it — `recreplay verify` reads it all)';
  if (values.json) {
    sayJson({ dir: slice.dir, manifest: m, manifestSha256: slice.manifestSha256, events: slice.eventCount, span, items: slice.items.length, users: slice.userCount, modified: [...slice.modified], eventsVerified: slice.eventsVerified, warnings }, 2);
    slice.close();
    return EXIT.OK;
  }
  const versions = Object.entries(m.versions).map(([k, v]) => `${k}=${v?.name}@${v?.version}`).join(', ');
  say(`${oneLine(m.name)} — ${oneLine(m.description)}\n`);
  say(
    table([
      ['folder', slice.dir],
      ['format', m.format],
      ['source', `${m.source.kind}${m.source.generator ? ` (${m.source.generator})` : ''}${m.source.query ? ` — ${m.source.query}` : ''}`],
      ['frozen at', m.frozenAt],
      ['clock', `${m.clock.start} ${m.clock.timezone}`],
      ['seed', String(m.seed)],
      ['events', String(slice.eventCount)],
      ['time span', span ? `${span.first} … ${span.last}` : '—'],
      ['items', String(slice.items.length)],
      ['users', String(slice.userCount)],
      ['versions', versions || '—'],
      ['pipeline', m.pipeline ? `k=${m.pipeline.k}, budget ${m.pipeline.budgetMs} ms` : 'defaults'],
      ['faults marked', m.faults.map((f) => `${f.kind}@${f.event}`).join(', ') || '—'],
      ['manifest sha256', slice.manifestSha256],
      ['hash status', status],
    ]),
  );
  slice.close();
  return EXIT.OK;
}

/**
 * CTR with where its clicks came from when the click model decided some of them: a figure resting
 * on simulated impressions is the model's estimate (docs/engine.md), not a measurement.
 */
function ctrText(ctr: number | undefined, o: Outcomes): string {
  const all = o.impressions.recorded + o.impressions.simulated;
  if (o.impressions.simulated === 0) return fmt(ctr);
  const n = (x: number) => x.toLocaleString('en-US');
  return `${fmt(ctr)} (${n(o.impressions.simulated)} of ${n(all)} impressions simulated by the click model, ${n(o.clicks.simulated)} of ${n(o.clicks.recorded + o.clicks.simulated)} clicks)`;
}

/**
 * The first and last events' times as written (two lines read through the offset index, each
 * chunk checked as a replay checks it); null when either does not read (a modified slice).
 */
function eventSpan(slice: Slice): { first: string; last: string } | null {
  try {
    return { first: slice.readEvent(1).t, last: slice.readEvent(slice.eventCount).t };
  } catch (e) {
    if (e instanceof UserError) return null;
    throw e;
  }
}

/**
 * `info` on a slice that does not open: files listed are not there, or (`damaged`) files changed
 * since it was frozen no longer read. The manifest, counts as it records them, and what is wrong.
 */
function describeMissing(dir: string, json: boolean, damaged?: { report: VerifyReport; error: UserError }): number {
  const d = Slice.describeMissing(dir);
  for (const w of d.warnings) shout(`recreplay: warning: ${w}`);
  const m = d.manifest;
  const missing = damaged ? damaged.report.missing : d.missing;
  const modified = damaged?.report.modified ?? [];
  const records = (path: string) => m.files.find((f) => f.path === path)?.records ?? null;
  if (json) {
    sayJson({ dir: d.dir, manifest: m, manifestSha256: d.manifestSha256, events: records('events.jsonl'), items: records('items.jsonl'), users: records('users.jsonl'), modified, missing, eventsVerified: damaged !== undefined, ...(damaged ? { reasons: damaged.report.reasons, openError: damaged.error.describe() } : {}), warnings: d.warnings }, 2);
    return EXIT.OK;
  }
  const count = (path: string) => {
    const n = records(path);
    const note = missing.includes(path) ? '; the file is missing' : modified.includes(path) ? '; the file was modified' : '';
    return n === null ? '?' : `${n} (as the manifest says${note})`;
  };
  const list = (files: string[]) => files.map((f) => (damaged?.report.reasons[f] ? `${f}: ${damaged.report.reasons[f]}` : f)).join(', ');
  const status = [
    modified.length ? `modified (${list(modified)})` : '',
    missing.length ? `missing (${list(missing)})` : '',
  ].filter(Boolean).join('; ');
  say(`${oneLine(m.name)} — ${oneLine(m.description)}\n`);
  say(
    table([
      ['folder', d.dir],
      ['format', m.format],
      ['frozen at', m.frozenAt],
      ['seed', String(m.seed)],
      ['events', count('events.jsonl')],
      ['items', count('items.jsonl')],
      ['users', count('users.jsonl')],
      ['manifest sha256', d.manifestSha256],
      ['hash status', `${status}: restore ${modified.length + missing.length === 1 ? 'it' : 'them'} from the original slice or re-freeze it`],
      ...(damaged ? [['opens', `no — ${damaged.error.describe().split('\n')[0]}`] as [string, string]] : []),
    ]),
  );
  return EXIT.OK;
}

async function verify(args: string[]): Promise<number> {
  const { values, positionals, tokens } = parseArgs({ args, options: { json: { type: 'boolean' }, ...HELP }, allowPositionals: true, tokens: true });
  onlyOnce(tokens);
  if (values.help) return help();
  const dir = sliceArg('verify', positionals);
  // Not Slice.open: a missing file is a finding to report here, not an error that stops the check.
  const report = Slice.verifyFolder(dir);
  for (const w of report.warnings ?? []) shout(`recreplay: warning: ${w}`);
  if (values.json) sayJson({ ...report, warnings: report.warnings ?? [] });
  else if (report.ok) say('intact: every file matches the manifest');
  else {
    // As --json has them: changed files, then files that are not there (or not files).
    const list = (files: string[], why: string) => files.map((f) => `${f} (${report.reasons[f] ?? why})`).join(', ');
    if (report.modified.length) say(`modified: ${list(report.modified, 'changed')}`);
    if (report.missing.length) say(`missing: ${list(report.missing, 'missing')}`);
  }
  return report.ok ? EXIT.OK : EXIT.MODIFIED;
}

async function run(args: string[]): Promise<number> {
  const { values, positionals, tokens } = parseArgs({
    args,
    tokens: true,
    options: {
      ranker: { type: 'string', default: 'recorded' },
      seed: { type: 'string' },
      trace: { type: 'string' },
      'checkpoint-every': { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      break: { type: 'string' },
      ...HELP,
    },
    allowPositionals: true,
  });
  onlyOnce(tokens);
  if (values.help) return help();
  const dir = sliceArg('run', positionals);
  const brk = values.break !== undefined ? breakOption(values.break) : undefined;
  const int = (name: string, v: string | undefined, min: number, max: number) => {
    if (v === undefined) return undefined;
    const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
    if (!(n >= min && n <= max)) usage(`--${name} must be a whole number from ${min} to ${max}, got "${v}"`);
    return n;
  };
  // Seeds are unsigned 32-bit, as in slice.json; a checkpoint every 0 events means nothing.
  const seed = int('seed', values.seed, 0, 0xffffffff);
  const checkpointEvery = int('checkpoint-every', values['checkpoint-every'], 1, 1_000_000_000);
  // An empty --trace (an unset variable in `--trace "$OUT"`) would silently write nothing.
  if (values.trace !== undefined && values.trace.trim() === '') usage('--trace needs a folder, got an empty value');
  // The bar is drawn with \r and an erase-line escape: not on a terminal that has no cursor
  // movement (TERM=dumb: Emacs' shell, some CI log viewers), where both showed as they are.
  const tty = process.stderr.isTTY && process.env['TERM'] !== 'dumb' && !values.json;
  const t0 = process.hrtime.bigint();
  let cancelled = false;
  // Ctrl-C — or SIGTERM (a CI timeout, `docker stop`) or SIGHUP (the terminal closed) — cancels at
  // the next 1,000-event mark, or at the end of the replay before the trace goes into place (no
  // trace is written); a second one, for a ranker that does not answer, stops at once. Either way no
  // half-written file stays behind. Installed here, not sooner: before this point nothing has been
  // written, and Node's default for a signal (exit at once, the same code) is right.
  const onSignal = (signal: NodeJS.Signals) => {
    if (cancelled) {
      clearProgress();
      shout(`recreplay: stopped at once (a second ${signal}); no trace was written`);
      process.exit(exitCodeOf(signal));
    }
    cancelled = true;
    cancelSignal = signal;
  };
  for (const sig of CANCEL_SIGNALS) process.on(sig, onSignal);
  const res = await runHeadless(
    {
      slice: dir,
      ranker: values.ranker,
      ...(seed !== undefined ? { seed } : {}),
      ...(values.trace !== undefined ? { traceDir: values.trace } : {}),
      ...(checkpointEvery !== undefined ? { checkpointEvery } : {}),
      force: values.force ?? false,
      onProgress: tty
        ? (d, total) => {
            progressShown = true;
            // Measured at each draw: the terminal may have been resized; what a shorter bar leaves is erased.
            process.stderr.write(`\r${progressBar(d, total, process.stderr.columns)}\x1b[K`);
          }
        : undefined,
      isCancelled: () => cancelled,
      onWarning: (m) => shout(`recreplay: warning: ${m}`),
      ...(brk ? { stopWhen: brk.stopWhen, stopCondition: values.break } : {}),
    },
    host(),
  ).finally(() => {
    for (const sig of CANCEL_SIGNALS) process.off(sig, onSignal);
  });
  clearProgress();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  // What --json prints for every run (with --break, the break report adds to it).
  const summary = { slice: res.slice, ranker: res.ranker, seed: res.seed, events: res.events, metrics: res.metrics, outcomes: res.outcomes, faults: res.faults, traceSha256: res.traceSha256, traceBytes: res.traceBytes, trace: res.trace, runRecord: res.runRecord, modified: res.modified, seconds };
  if (brk) {
    const code = brk.report(res, values.json ? summary : undefined);
    res.replayer.dispose();
    return code;
  }
  res.replayer.dispose();
  if (values.json) {
    sayJson(summary);
    return EXIT.OK;
  }
  const m = res.metrics;
  const k = res.replayer.pipeline.k;
  // A mean over no events reads 0 (docs/metrics.md): said as such, not as a measured 0.
  const on = res.replayer.metrics.support();
  const over = (name: string, count: number, none: string) => (count > 0 ? fmt(m[name]) : `${fmt(m[name])} (${none})`);
  say(`replayed ${res.events} events of ${res.slice} with ranker ${res.ranker.kind}${res.ranker.artifact ? ` (${res.ranker.artifact})` : ''}, seed ${res.seed}, in ${seconds.toFixed(2)} s (${fmt(res.events / seconds)} events/s)`);
  if (res.modified.length) say(`WARNING: replayed a modified slice (--force): ${res.modified.join(', ')}`);
  say('\nmetrics');
  say(
    table([
      [`hit_rate@${k}`, over(`hit_rate@${k}`, on.relevantEvents, 'no event recorded a click')],
      [`mrr@${k}`, over(`mrr@${k}`, on.relevantEvents, 'no event recorded a click')],
      [`ndcg@${k}`, over(`ndcg@${k}`, on.relevantEvents, 'no event recorded a click')],
      ['ctr', ctrText(m['ctr'], res.outcomes)],
      [`coverage@${k}`, fmt(m[`coverage@${k}`])],
      [`diversity@${k}`, over(`diversity@${k}`, on.slatesOfTwo, 'no slate of two or more items with categories')],
      [`novelty@${k}`, fmt(m[`novelty@${k}`])],
      ['gini_exposure', fmt(m['gini_exposure'])],
      ['exposure_parity', fmt(m['exposure_parity'])],
      ['fallback_rate', fmt(m['fallback_rate'])],
      ['latency.score.p99', `${fmt(m['latency.score.p99'])} ms`],
      ['latency.total.p99', `${fmt(m['latency.total.p99'])} ms`],
      ['cache_hit_rate', over('cache_hit_rate', on.cacheLookups, 'no cache lookup recorded: no event had cache hits or misses')],
      ['queue_depth.mean', over('queue_depth.mean', on.queueEvents, 'no event recorded a queue depth')],
      [`overlap@${k}`, fmt(m[`overlap@${k}`])],
      ['kendall_tau', over('kendall_tau', on.tauEvents, 'no event had two items the recording ordered (served, or logged with different scores) to compare')],
    ]),
  );
  const lines = faultLines(res.faults);
  say(`\nfaults seen${lines.length ? '' : ': none'}`);
  for (const l of lines) say(l);
  say(`\ntrace sha256 ${res.traceSha256} (${fmt(res.traceBytes / Math.max(1, res.events))} bytes/event)`);
  if (res.trace) say(`trace ${res.trace}\nrun record ${res.runRecord}`);
  return EXIT.OK;
}

/** An exception no caller caught (a callback's, a rejected promise nobody awaited): exit 70, as any other bug. */
function watchCrashes(argv: string[]): void {
  const crash = (e: unknown) => {
    clearProgress();
    reportCrash(e, argv);
    process.exit(EXIT.INTERNAL);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}

/** Entry point: returns the exit code; user errors print one clear message, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  watchOutput();
  // The adapter keeps its own handlers (it logs such an error and serves on); the other commands
  // exited 1 with Node's dump — the code of "--break never held", so CI read a crash as a result.
  if (argv[0] !== 'dap') watchCrashes(argv);
  const code = await command(argv);
  // Errors of a write to stdout arrive after it (a file's on the next tick, a pipe's later still).
  await new Promise((r) => setImmediate(r));
  const e = outputError;
  if (e && e.code !== 'EPIPE') {
    shout(`recreplay: cannot write the output to standard output: ${e.code === 'ENOSPC' ? 'the disk is full' : e.message}`);
    return EXIT.INPUT;
  }
  return code;
}

async function command(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'info':
        return await info(rest);
      case 'verify':
        return await verify(rest);
      case 'run':
        return await run(rest);
      case 'dap':
        return await dap(rest);
      case undefined:
        // A usage error (exit 2): its text goes where errors go, not into `out=$(recreplay)`.
        shout(USAGE);
        return EXIT.USAGE;
      case '-h':
      case '--help':
      case 'help':
        say(USAGE);
        return EXIT.OK;
      case '--version':
        say(TOOL_VERSION);
        return EXIT.OK;
      default: {
        const near = suggest(cmd, ['info', 'verify', 'run', 'dap', 'help']);
        usage(`unknown command "${cmd}"${near === undefined ? ': the commands are info, verify, run and dap' : `; did you mean "${near}"?`}`);
      }
    }
  } catch (e) {
    clearProgress();
    if (e instanceof IntegrityError) {
      shout(`recreplay: ${e.describe()}`);
      return EXIT.MODIFIED;
    }
    if (e instanceof UserError) {
      shout(`recreplay: ${e.describe()}`);
      return e.code === 'E_USAGE' ? EXIT.USAGE : EXIT.INPUT;
    }
    if (e instanceof CancelledError) {
      shout(`recreplay: cancelled${cancelSignal && cancelSignal !== 'SIGINT' ? ` (${cancelSignal})` : ''}; no trace was written`);
      return exitCodeOf(cancelSignal ?? 'SIGINT');
    }
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      // Node's own texts are long and quote unevenly: say it plainly.
      const unknown = unknownOption(e.message);
      let what = plainParseError(e.message, cmd ?? '', NUMBER_RANGES) ?? e.message;
      if (unknown !== undefined) {
        const name = unknown.replace(/^-+/, '');
        const near = suggest(name, OPTION_NAMES[cmd ?? ''] ?? []);
        // An option of another command (--trace to info): say whose it is.
        const owner = Object.keys(OPTION_NAMES).find((c) => c !== cmd && (OPTION_NAMES[c] as readonly string[]).includes(name));
        what =
          near !== undefined
            ? `unknown option ${unknown} for ${cmd}; did you mean --${near}?`
            : owner !== undefined
              ? `${unknown} is an option of ${owner}, not of ${cmd}`
              : `unknown option ${unknown} for ${cmd} (a slice folder whose name starts with "-" goes after "--", e.g. recreplay ${cmd} -- -my.slice)`;
      }
      shout(`recreplay: ${what}\n  Run \`recreplay --help\` for usage.`);
      return EXIT.USAGE;
    }
    const err = e as NodeJS.ErrnoException;
    // The file system said no (a path that is missing, a folder, not writable, a full disk): the
    // message names the path; no stack trace.
    const fsHint = err.code !== undefined && Object.hasOwn(FS_ERRORS, err.code) ? FS_ERRORS[err.code] : undefined;
    if (fsHint !== undefined) {
      shout(`recreplay: ${err.message}\n  ${fsHint}`);
      return EXIT.INPUT;
    }
    reportCrash(e, argv);
    return EXIT.INTERNAL;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
