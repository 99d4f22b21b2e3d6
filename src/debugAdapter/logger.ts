import { appendFileSync } from 'node:fs';
import { printable } from '../shared/printable';

/**
 * Where the adapter writes what a person debugging the adapter needs (stacks of unexpected
 * errors, timings). The host decides: stderr or a file standalone, a LogOutputChannel in VS Code.
 */
export interface AdapterLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

// Printable: a message quotes a slice's own text (a manifest key, an event id, an error naming a
// value), which written as it is to a terminal (stderr, a tailed --log file) could retitle it,
// clear it or write to the clipboard.
function line(level: string, message: string, error?: unknown): string {
  const stack = error instanceof Error ? `\n${error.stack ?? error.message}` : error !== undefined ? `\n${String(error)}` : '';
  return `${new Date().toISOString()} [${level}] ${printable(`${message}${stack}`)}\n`;
}

/** A logger that hands each formatted line to `write` (stderr, a file, a test buffer). */
export function lineLogger(write: (text: string) => void, verbose = false): AdapterLogger {
  return {
    info: (m) => {
      if (verbose) write(line('info', m));
    },
    warn: (m) => write(line('warn', m)),
    error: (m, e) => write(line('error', m, e)),
  };
}

/** Appends to a file; logging must never take the adapter down, so write errors are dropped. */
export function fileLogger(path: string, verbose = true): AdapterLogger {
  return lineLogger((text) => {
    try {
      appendFileSync(path, text);
    } catch {
      // The log is best effort: a full disk must not end the debug session.
    }
  }, verbose);
}

/** Logs to every logger given. */
export function teeLogger(...loggers: AdapterLogger[]): AdapterLogger {
  return {
    info: (m) => loggers.forEach((l) => l.info(m)),
    warn: (m) => loggers.forEach((l) => l.warn(m)),
    error: (m, e) => loggers.forEach((l) => l.error(m, e)),
  };
}
