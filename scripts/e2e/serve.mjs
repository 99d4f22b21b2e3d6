#!/usr/bin/env node
// Serves a folder in the prepared VS Code (code-server) on 127.0.0.1 with a .vsix installed.
//
// As a module (the e2e suite): `const server = await startServer({ vsix, folder })` →
// `{ url, port, stop(), … }`, with fresh user-data and extensions folders unless given.
// As a command (`npm start`): builds and packages the extension, prepares the sandbox if needed,
// installs the fresh .vsix and serves examples/ until Ctrl-C.
//
//   node scripts/e2e/serve.mjs [--no-build] [--folder PATH] [--port N] [--fresh]
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE, CODE_SERVER_CONFIG, CODE_SERVER_ENTRY, EXAMPLES, VSIX } from './config.mjs';

/**
 * Settings of the sandbox's user: a quiet, deterministic workbench (no welcome page, tips, update or
 * telemetry, no trust prompt) so what a test sees is the extension's doing.
 */
export const SANDBOX_SETTINGS = {
  'workbench.startupEditor': 'none',
  // VS Code in a browser saves after a delay by default; desktop does not, and a test that types
  // into an editor must not write to the workspace unless it saves.
  'files.autoSave': 'off',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'window.commandCenter': false,
};

/**
 * Installs `vsix` (unless null) and serves `folder`; resolves once the server answers.
 * `dataDir` keeps user data and extensions (default: a fresh temporary folder, removed by stop()).
 */
export async function startServer({
  vsix = VSIX, folder = EXAMPLES, port, dataDir, settings = {}, log = () => {}, readyTimeoutMs = 60_000,
} = {}) {
  if (!existsSync(CODE_SERVER_ENTRY)) throw new Error(`code-server is not prepared (${CODE_SERVER_ENTRY} missing): run node scripts/e2e/prepare.mjs`);
  if (vsix && !existsSync(vsix)) throw new Error(`${vsix} does not exist: run node scripts/e2e/package.mjs`);
  const temporary = !dataDir;
  const root = dataDir ?? mkdtempSync(join(tmpdir(), 'recreplay-e2e-'));
  const userDataDir = join(root, 'user-data');
  const extensionsDir = join(root, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeSettings(join(userDataDir, 'User', 'settings.json'), { ...SANDBOX_SETTINGS, ...settings });
  const common = ['--config', CODE_SERVER_CONFIG, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  if (vsix) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [CODE_SERVER_ENTRY, ...common, '--install-extension', vsix, '--force'], { encoding: 'utf8', timeout: 120_000 });
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0 || !/successfully installed/i.test(out)) {
      throw new Error(`installing ${vsix} failed (exit ${r.status}):\n${out.trim()}`);
    }
    log(`installed ${vsix} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }

  port ??= await freePort();
  const serverLog = join(root, 'server.log');
  const logStream = createWriteStream(serverLog);
  const args = [
    CODE_SERVER_ENTRY, ...common,
    '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    folder,
  ];
  // Its own process group, so stop() ends the server with the extension host and helpers it forked.
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(logStream, { end: false });
  child.stderr.pipe(logStream, { end: false });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));

  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  try {
    await waitUntilAnswers(`${base}/healthz`, exited, readyTimeoutMs, serverLog);
  } catch (e) {
    killGroup(child.pid, 'SIGKILL');
    throw e;
  }
  log(`code-server answers on ${base} after ${((performance.now() - t0) / 1000).toFixed(1)} s (log: ${serverLog})`);

  let stopping;
  const stop = () =>
    (stopping ??= (async () => {
      killGroup(child.pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      logStream.end();
      if (temporary) rmSync(root, { recursive: true, force: true });
    })());
  return {
    url: `${base}/?folder=${encodeURIComponent(folder)}`, base, port, folder, userDataDir, extensionsDir, serverLog, exited, stop,
  };
}

/** Polls the URL (100 ms apart) until it answers 200; fails at once if the server exits. */
async function waitUntilAnswers(url, exited, timeoutMs, serverLog) {
  const deadline = performance.now() + timeoutMs;
  let gone;
  exited.then((e) => (gone = e));
  for (;;) {
    if (gone) throw new Error(`code-server exited (${gone.signal ?? `code ${gone.code}`}) before answering; log:\n${tailOf(serverLog)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch { /* not listening yet */ }
    if (performance.now() > deadline) throw new Error(`code-server did not answer ${url} within ${timeoutMs / 1000} s; log:\n${tailOf(serverLog)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function tailOf(path) {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch { /* already gone */ }
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolvePort(port));
    });
  });
}

function writeSettings(path, settings) {
  let current = {};
  try {
    current = JSON.parse(readFileSync(path, 'utf8'));
  } catch { /* none yet, or edited into JSONC: the sandbox's own keys win */ }
  writeFileSync(path, JSON.stringify({ ...current, ...settings }, null, 2) + '\n');
}

async function main(argv) {
  const { prepare, reportFailure } = await import('./prepare.mjs');
  const { packageExtension } = await import('./package.mjs');
  const value = (flag) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const log = (msg) => console.log(`[start] ${msg}`);
  const t0 = performance.now();
  try {
    await packageExtension({ build: !argv.includes('--no-build') });
    await prepare();
  } catch (e) {
    process.exitCode = reportFailure(e, 'start');
    return;
  }
  // A persistent profile, so the layout a user arranges survives restarts; --fresh starts clean.
  const dataDir = join(CACHE, 'start');
  if (argv.includes('--fresh')) rmSync(dataDir, { recursive: true, force: true });
  const server = await startServer({
    folder: resolve(value('--folder') ?? EXAMPLES),
    port: value('--port') ? Number(value('--port')) : undefined,
    dataDir,
    log,
  });
  log(`ready in ${((performance.now() - t0) / 1000).toFixed(1)} s. Open in a browser:\n\n    ${server.url}\n`);
  log('Ctrl-C stops it.');
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    log('stopping…');
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  const { code, signal } = await server.exited;
  if (!stopping) {
    console.error(`[start] code-server exited (${signal ?? `code ${code}`}); log: ${server.serverLog}`);
    process.exit(1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`[start] failed: ${e.message}`);
    process.exit(1);
  });
}
