/**
 * Entry of dist/debugAdapter.js: the adapter over stdio, or `--port N` over TCP. The CLI's
 * `recreplay dap` runs the same functions from server.ts.
 */
import { parseStandaloneArgs, runServer, runStdio, type StandaloneOptions } from './server';

let opts: StandaloneOptions;
try {
  opts = parseStandaloneArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`recreplay debug adapter: ${(e as Error).message}\n  usage: debugAdapter.js [--port N] [--host H] [--log FILE] [--verbose]\n`);
  process.exit(2);
}
if (opts.port !== undefined) void runServer({ ...opts, port: opts.port });
else runStdio(opts);
