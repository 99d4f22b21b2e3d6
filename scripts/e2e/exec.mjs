// Running the sandbox's setup commands: each writes a log under the cache, and a failure names the
// step, the command, the log and what to do, with the log's last lines.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOGS } from './config.mjs';

/** A failed preparation step: `step` says which, `hint` what the user can do about it. */
export class StepError extends Error {
  constructor(step, message, hint) {
    super(message);
    this.step = step;
    this.hint = hint;
  }
}

/** Runs a command with output to `LOGS/<log>.log`; resolves with its exit code (or rejects when `ok` says no). */
export function runLogged(step, log, cmd, args, { cwd, env, ok = (code) => code === 0, hint } = {}) {
  mkdirSync(LOGS, { recursive: true });
  const logPath = join(LOGS, `${log}.log`);
  const out = createWriteStream(logPath, { flags: 'w' });
  out.write(`$ (cd ${cwd ?? process.cwd()} && ${[cmd, ...args].join(' ')})\n`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    const fail = (message) =>
      out.end(() =>
        reject(new StepError(step, `${message}\n  command: ${[cmd, ...args].join(' ')}\n  cwd: ${cwd}\n  log: ${logPath}\n${tail(logPath)}`, hint)),
      );
    child.on('error', (e) => fail(`could not start ${cmd}: ${e.message}`));
    child.on('close', (code, signal) => {
      if (ok(code)) out.end(() => resolvePromise(code));
      else fail(signal ? `killed by ${signal}` : `exited with code ${code}`);
    });
  });
}

function tail(path, lines = 25) {
  try {
    const text = readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines);
    return text.map((l) => `    | ${l}`).join('\n');
  } catch {
    return '';
  }
}
