import { appendFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import { UserError } from '../core/errors';
import { suggest } from '../core/expr/suggest';
import { plainParseError, repeatedOption, unknownOption } from '../shared/args';
import { fileLogger, lineLogger, teeLogger, type AdapterLogger } from './logger';
import { ReplayDebugSession } from './session';

export interface StandaloneOptions {
  /** Listen on this TCP port (0 = any free one) instead of speaking over stdio. */
  port?: number;
  host?: string;
  /** Also append the log to this file (or set RECREPLAY_DAP_LOG). */
  logFile?: string;
  /** Log informational lines too, not only warnings and errors. */
  verbose?: boolean;
}

/**
 * Writes to stderr until it breaks (the client that read it has gone: EPIPE), then drops the lines.
 * A broken stderr's 'error' had no listener, so it was an uncaught exception, which the adapter
 * logs — to stderr, which failed again: an adapter whose client died spun at 100% CPU for ever.
 */
function stderrWriter(): (text: string) => void {
  let broken = false;
  process.stderr.on('error', () => (broken = true));
  return (text) => {
    if (!broken && !process.stderr.destroyed) process.stderr.write(text);
  };
}

let toStderr: ((text: string) => void) | undefined;

/** Warnings and errors to stderr (never stdout: over stdio that is the protocol), plus an optional file. */
export function standaloneLogger(opts: StandaloneOptions): AdapterLogger {
  const stderr = lineLogger((toStderr ??= stderrWriter()), opts.verbose ?? false);
  const file = opts.logFile ?? process.env['RECREPLAY_DAP_LOG'];
  if (!file) return stderr;
  // Logging is best effort once running, but a log file that cannot be written is said once, at the start
  // (it was silent: a user waiting for its lines never learnt why none came).
  try {
    appendFileSync(file, '');
  } catch (e) {
    stderr.warn(`cannot write the log file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): the adapter runs, logging to stderr only`);
    return stderr;
  }
  return teeLogger(stderr, fileLogger(file));
}

function keepAlive(log: AdapterLogger): void {
  // A bug in one request must not end a debugging session the user is in the middle of.
  process.on('uncaughtException', (e) => log.error('uncaught exception in the adapter', e));
  process.on('unhandledRejection', (e) => log.error('unhandled promise rejection in the adapter', e));
  exitOnSignals(log);
}

/** Signals that stop the standalone adapter. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
let signalsHandled = false;

/**
 * A signal ends the process through process.exit, with 128 + the signal's number as a shell reports
 * it: Node's default for these signals ends it without running 'exit' handlers, which remove an
 * unfinished trace's temp file and the checkpoint spill folder (both stayed behind). Unfinished
 * traces are dropped, not written: a stopped adapter is not waited for.
 */
function exitOnSignals(log: AdapterLogger): void {
  if (signalsHandled) return;
  signalsHandled = true;
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      log.warn(`stopped by ${signal}: any unfinished trace is dropped`);
      process.exit(128 + (constants.signals[signal] ?? 0));
    });
  }
}

/** Serves one debug session over stdin/stdout; the process exits when the client disconnects. */
export function runStdio(opts: StandaloneOptions = {}): ReplayDebugSession {
  const log = standaloneLogger(opts);
  keepAlive(log);
  const session = new ReplayDebugSession({ logger: log });
  session.start(process.stdin, process.stdout);
  return session;
}

/** What every DAP message starts with (the header is matched case-insensitively, as clients write it). */
const DAP_HEADER = 'content-length:';

/**
 * Hands the socket to `serve` once its first bytes are a DAP header, else closes it. A web page can
 * make the browser send a request to 127.0.0.1 (a form post, a no-cors fetch), whose Content-Length
 * header the DAP parser would take as its own and then run the body as a launch request: an HTTP
 * request starts with its method, a DAP client with "Content-Length:".
 */
function acceptDap(socket: Socket, log: AdapterLogger, serve: () => void): void {
  let seen = Buffer.alloc(0);
  // Until the session takes the socket (and handles its errors), a reset is logged here, not left uncaught.
  const onError = (e: Error) => log.warn(`a connection from ${socket.remoteAddress ?? '?'} failed before it spoke DAP: ${e.message}`);
  socket.on('error', onError);
  const onData = (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk]);
    const head = seen.toString('latin1', 0, DAP_HEADER.length).toLowerCase();
    if (!DAP_HEADER.startsWith(head)) {
      socket.off('data', onData);
      log.warn(`closed a connection from ${socket.remoteAddress ?? '?'} that does not speak DAP (it began "${JSON.stringify(seen.toString('latin1', 0, 16)).slice(1, -1)}")`);
      socket.destroy();
      return;
    }
    if (head.length < DAP_HEADER.length) return;
    socket.off('data', onData);
    socket.off('error', onError);
    socket.pause();
    socket.unshift(seen);
    serve();
    socket.resume();
  };
  socket.on('data', onData);
}

/** Serves a debug session per TCP connection until the process is stopped; resolves once listening. */
export function runServer(opts: StandaloneOptions & { port: number }): Promise<Server> {
  const log = standaloneLogger(opts);
  keepAlive(log);
  const server = createServer((socket) => {
    acceptDap(socket, log, () => {
      const session = new ReplayDebugSession({ logger: log });
      session.setRunAsServer(true);
      session.start(socket, socket);
      socket.on('close', () => void session.dispose());
    });
  });
  const host = opts.host ?? '127.0.0.1';
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) {
    log.warn(`listening on ${host}: any machine that can reach it can start replays that read and write files as you (the adapter has no authentication); keep it on 127.0.0.1 unless the network is yours`);
  }
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(listenFailed(e as NodeJS.ErrnoException, opts.port, host)));
    server.listen(opts.port, host, () => {
      const addr = server.address() as AddressInfo;
      // The port goes to stderr so a wrapper script can read it when 0 was asked for.
      process.stderr.write(`recreplay debug adapter listening on ${addr.address}:${addr.port}\n`);
      resolve(server);
    });
  });
}

/** Why the adapter cannot listen at host:port, as a user error with what to do (a port in use was an internal error with a stack). */
export function listenFailed(e: NodeJS.ErrnoException, port: number, host: string): Error {
  const at = `${host}:${port}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return new UserError(`cannot listen on ${at}: another program uses port ${port} there`, {}, 'Choose another port, or --port 0 for any free one (the port taken is printed on stderr).');
    case 'EACCES':
    case 'EPERM':
      return new UserError(`cannot listen on ${at}: this user may not open port ${port} (ports below 1024 need privileges)`, {}, 'Choose a port from 1024 up, or --port 0 for any free one.');
    case 'EADDRNOTAVAIL':
      return new UserError(`cannot listen on ${at}: ${host} is not an address of this machine`, {}, 'Give an address of one of this machine\'s network interfaces, or leave --host out for 127.0.0.1.');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return new UserError(`cannot listen on ${at}: the host name ${host} cannot be resolved (${e.code})`, {}, 'Give an IP address of this machine, or leave --host out for 127.0.0.1.');
    default:
      return e;
  }
}

/** Parses `[--port N] [--host H] [--log FILE] [--verbose]`. */
export function parseStandaloneArgs(argv: string[]): StandaloneOptions {
  const names = ['port', 'host', 'log', 'verbose'];
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { port: { type: 'string' }, host: { type: 'string' }, log: { type: 'string' }, verbose: { type: 'boolean' } }, allowPositionals: false, tokens: true });
  } catch (e) {
    // Node's text, then the option meant: as the other commands say it.
    const unknown = unknownOption((e as Error).message)?.replace(/^-+/, '');
    const near = unknown !== undefined ? suggest(unknown, names) : undefined;
    const message = (e as Error).message;
    throw new Error(unknown !== undefined ? `unknown option --${unknown} for dap${near === undefined ? ` (the options are ${names.map((n) => `--${n}`).join(', ')})` : `; did you mean --${near}?`}` : (plainParseError(message, 'dap', { '--port': '0 to 65535' }) ?? message));
  }
  const { values, tokens } = parsed;
  // Each at most once, as for the other commands: a second --port was a silent override.
  const twice = repeatedOption(tokens);
  if (twice !== undefined) throw new Error(`--${twice} is given more than once; give it once`);
  const opts: StandaloneOptions = {};
  if (values.port !== undefined) {
    if (!/^\d+$/.test(values.port) || Number(values.port) > 65535) throw new Error(`--port must be a TCP port number (0-65535), got "${values.port}"`);
    opts.port = Number(values.port);
  }
  if (values.host !== undefined) opts.host = values.host;
  if (values.log !== undefined) opts.logFile = values.log;
  if (values.verbose) opts.verbose = true;
  return opts;
}
