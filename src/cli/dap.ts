import { UserError } from '../core/errors';
import { EXIT } from './exitCodes';
import { say } from './format';
import { parseStandaloneArgs, runServer, runStdio } from '../debugAdapter/server';

const USAGE = 'Usage: recreplay dap [--port N] [--host H] [--log FILE] [--verbose]';

/** `recreplay dap --help`: every option, with its default (as docs/cli.md, "dap options"). */
const HELP = `${USAGE}

The debug adapter for DAP clients other than VS Code: over stdio (one session), or over TCP with
--port (one session per connection). See docs/debugging.md, "Outside VS Code".

Options:
  --port N      serve over TCP on port N, 0 for a free one; the address goes to stderr
                (default: stdio)
  --host H      the address to listen on with --port (default: 127.0.0.1; the adapter has no
                authentication: another address warns)
  --log FILE    also append the log to FILE (default: $RECREPLAY_DAP_LOG, else no file)
  --verbose     log informational lines on stderr too (default: warnings and errors only)`;

/**
 * `recreplay dap [--port N] [--host H] [--log FILE] [--verbose]`: the debug adapter, standalone,
 * for DAP clients other than VS Code (nvim-dap, Emacs dape). Over stdio the process ends when
 * the client disconnects; with --port it serves one session per connection until stopped.
 */
export async function dap(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    say(HELP);
    return EXIT.OK;
  }
  let opts;
  try {
    opts = parseStandaloneArgs(args);
  } catch (e) {
    throw new UserError((e as Error).message, {}, USAGE, 'E_USAGE');
  }
  if (opts.port !== undefined) await runServer({ ...opts, port: opts.port });
  else runStdio(opts);
  // The adapter lives until its client disconnects (stdio) or the process is stopped (--port).
  return new Promise<number>(() => {});
}
