import { UserError } from '../core/errors';
import { parseStandaloneArgs, runServer, runStdio } from '../debugAdapter/server';

const USAGE = 'Usage: recreplay dap [--port N] [--host H] [--log FILE] [--verbose]';

/**
 * `recreplay dap [--port N] [--host H] [--log FILE] [--verbose]`: the debug adapter, standalone,
 * for DAP clients other than VS Code (nvim-dap, Emacs dape). Over stdio the process ends when
 * the client disconnects; with --port it serves one session per connection until stopped.
 */
export async function dap(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`${USAGE}\n\nThe debug adapter over stdio, or over TCP with --port (one session per connection). See docs/debugging.md, "Outside VS Code".`);
    return 0;
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
