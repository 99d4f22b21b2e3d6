#!/usr/bin/env node
// Prepares a real VS Code for the end-to-end suite and `npm start`: code-server (VS Code server + web
// workbench) from the npm registry, its native modules rebuilt here, plus Debian's chromium and rg.
// `npm install code-server` cannot do it offline (its post-install downloads ripgrep), so the steps
// of its post-install are done one by one with scripts off. Nothing is fetched but from the npm
// registry and Debian's apt.
//
// Idempotent and cached: each step leaves a mark, a failed run resumes where it stopped, and a
// prepared cache (marker file) returns at once. `--force` starts over.
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync, renameSync, copyFileSync, chmodSync, symlinkSync, lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CACHE, CHROMIUM, CODE_SERVER_CONFIG, CODE_SERVER_DIR, CODE_SERVER_ENTRY, CODE_SERVER_VERSION, LOGS, MARKER, VSCODE_VERSION,
} from './config.mjs';
import { aptPackages } from './apt.mjs';
import { StepError, runLogged } from './exec.mjs';

const VSCODE_DIR = join(CODE_SERVER_DIR, 'lib', 'vscode');
const STEPS_DIR = join(CODE_SERVER_DIR, '.recreplay-steps');
const TARBALL = join(CACHE, 'downloads', `code-server-${CODE_SERVER_VERSION}.tgz`);
/** Native modules of VS Code's server, each with the file whose presence proves the build. */
const VSCODE_NATIVE = ['kerberos', '@parcel/watcher', '@vscode/spdlog', 'native-watchdog', 'node-pty', '@vscode/deviceid'];
const NPM_INSTALL = ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=warn'];

/** What a prepared sandbox is made of; a marker that differs in any of these is stale. */
function identity() {
  return { codeServer: CODE_SERVER_VERSION, vscode: VSCODE_VERSION, nodeAbi: process.versions.modules, arch: process.arch };
}

let log = (msg) => console.log(`[e2e:prepare] ${msg}`);

/**
 * Makes sure the sandbox is ready; returns its marker ({ codeServer, vscode, node, chromium, … }).
 * Fast when already prepared: it reads one file and checks two paths.
 */
export async function prepare({ force = false, quiet = false } = {}) {
  if (quiet) log = () => {};
  const want = identity();
  const marker = !force && readMarker();
  if (marker && sameIdentity(marker, want) && existsSync(CODE_SERVER_ENTRY) && existsSync(CHROMIUM)) {
    log(`ready (code-server ${marker.codeServer}, VS Code ${marker.vscode}, ${marker.chromium}) in ${CODE_SERVER_DIR}`);
    return marker;
  }
  const t0 = performance.now();
  const lock = takeLock();
  try {
    if (force) rmSync(CODE_SERVER_DIR, { recursive: true, force: true });
    else if (marker && marker.nodeAbi !== want.nodeAbi) {
      log(`Node ABI changed (${marker.nodeAbi} → ${want.nodeAbi}): rebuilding the native modules`);
      for (const s of ['rebuild-argon2', 'rebuild-vscode-native']) rmSync(join(STEPS_DIR, s), { force: true });
    }
    rmSync(MARKER, { force: true });
    const apt = aptPackages(log);
    for (const step of STEPS) {
      if (step.done ? step.done() : existsSync(join(STEPS_DIR, step.id))) continue;
      const t = performance.now();
      log(`${step.title}…`);
      await step.run();
      if (!step.done) {
        mkdirSync(STEPS_DIR, { recursive: true });
        writeFileSync(join(STEPS_DIR, step.id), new Date().toISOString());
      }
      log(`  done in ${seconds(t)}`);
    }
    const done = {
      ...want,
      node: process.version,
      vscode: readVscodeVersion(),
      chromium: chromiumVersion(),
      ripgrep: apt.ripgrep,
      preparedAt: new Date().toISOString(),
      seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    };
    writeFileSync(MARKER, JSON.stringify(done, null, 2) + '\n');
    log(`ready in ${seconds(t0)}: code-server ${done.codeServer}, VS Code ${done.vscode}, ${done.chromium}`);
    return done;
  } finally {
    lock.release();
  }
}

const STEPS = [
  {
    id: 'fetch',
    title: `npm pack code-server@${CODE_SERVER_VERSION} (≈42 MB from the npm registry)`,
    done: () => existsSync(TARBALL),
    async run() {
      const tmp = join(CACHE, 'downloads', `.tmp-${process.pid}`);
      mkdirSync(tmp, { recursive: true });
      await runLogged('fetch', 'fetch', 'npm', ['pack', `code-server@${CODE_SERVER_VERSION}`, '--pack-destination', tmp, '--loglevel=warn'], {
        cwd: tmp, hint: 'check that the npm registry is reachable (npm ping) and retry.',
      });
      renameSync(join(tmp, `code-server-${CODE_SERVER_VERSION}.tgz`), TARBALL);
      rmSync(tmp, { recursive: true, force: true });
    },
  },
  {
    // The step marks live in the unpacked folder, so unpacking again forgets every later step.
    id: 'unpack',
    title: `unpack into ${CODE_SERVER_DIR}`,
    async run() {
      const tmp = `${CODE_SERVER_DIR}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      await runLogged('unpack', 'unpack', 'tar', ['-xzf', TARBALL, '-C', tmp], {
        cwd: tmp, hint: `the tarball may be damaged: delete ${TARBALL} and retry.`,
      });
      rmSync(CODE_SERVER_DIR, { recursive: true, force: true });
      renameSync(join(tmp, 'package'), CODE_SERVER_DIR);
      rmSync(tmp, { recursive: true, force: true });
    },
  },
  {
    id: 'install-code-server',
    title: 'npm install code-server\'s own dependencies (scripts off)',
    run: () => npm('install-code-server', CODE_SERVER_DIR, NPM_INSTALL),
  },
  {
    id: 'rebuild-argon2',
    title: 'npm rebuild argon2',
    async run() {
      await npm('rebuild-argon2', CODE_SERVER_DIR, ['rebuild', 'argon2']);
      requireIn('rebuild-argon2', CODE_SERVER_DIR, ['argon2']);
    },
  },
  {
    id: 'install-vscode',
    title: 'npm install VS Code\'s server dependencies in lib/vscode (scripts off; the longest download)',
    run: () => npm('install-vscode', VSCODE_DIR, NPM_INSTALL),
  },
  {
    id: 'rebuild-vscode-native',
    title: `npm rebuild ${VSCODE_NATIVE.join(' ')} (native builds: a few minutes on 2 cores)`,
    async run() {
      // node-pty's last post-install step fetches something and fails offline after pty.node is
      // built; the require() check below is what decides.
      await npm('rebuild-vscode-native', VSCODE_DIR, ['rebuild', ...VSCODE_NATIVE], { ok: () => true });
      requireIn('rebuild-vscode-native', VSCODE_DIR, VSCODE_NATIVE);
    },
  },
  {
    id: 'ripgrep',
    title: 'copy Debian\'s rg into @vscode/ripgrep, link node_modules.asar',
    async run() {
      const bin = join(VSCODE_DIR, 'node_modules', '@vscode', 'ripgrep', 'bin');
      mkdirSync(bin, { recursive: true });
      copyFileSync('/usr/bin/rg', join(bin, 'rg'));
      chmodSync(join(bin, 'rg'), 0o755);
      // VS Code and its built-in extensions look for unpacked modules (rg, the oniguruma wasm) here.
      relink(join(VSCODE_DIR, 'node_modules.asar'), 'node_modules');
    },
  },
  {
    id: 'install-extensions',
    title: 'npm install the built-in extensions\' shared dependencies (scripts off)',
    run: () => npm('install-extensions', join(VSCODE_DIR, 'extensions'), NPM_INSTALL),
  },
  {
    id: 'bin-links',
    title: 'link the Linux helper scripts (remote-cli/code-server, helpers/browser.sh)',
    async run() {
      relink(join(VSCODE_DIR, 'bin', 'remote-cli', 'code-server'), 'code-linux.sh');
      relink(join(VSCODE_DIR, 'bin', 'helpers', 'browser.sh'), 'browser-linux.sh');
    },
  },
  {
    id: 'smoke',
    title: 'check that code-server starts (--version)',
    async run() {
      const r = spawnSync(process.execPath, [CODE_SERVER_ENTRY, '--config', CODE_SERVER_CONFIG, '--version'], { encoding: 'utf8', timeout: 60_000 });
      if (r.status !== 0 || !r.stdout.includes(CODE_SERVER_VERSION)) {
        throw new StepError('smoke', `code-server --version failed (exit ${r.status}):\n${r.stdout}${r.stderr}`, 'run with --force to prepare again from scratch.');
      }
      log(`  ${r.stdout.trim().split('\n').find((l) => l.startsWith(CODE_SERVER_VERSION))}`);
    },
  },
];

function chromiumVersion() {
  const r = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return (r.stdout || '').trim() || `chromium at ${CHROMIUM}`;
}

function npm(step, cwd, args, opts = {}) {
  const env = { JOBS: String(availableParallelism()) };
  // node-gyp must build against the installed Node's headers; downloading them is not possible here.
  if (!process.env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';
  return runLogged(step, step, 'npm', args, {
    cwd, env, ...opts,
    hint: 'see the log; a native build needs g++, make, python3 and Node headers (/usr/include/node). Rerun to resume from this step.',
  });
}

/** Proves native modules load in this Node (the real test of a rebuild). */
function requireIn(step, cwd, modules) {
  const code = `for (const m of ${JSON.stringify(modules)}) require(m)`;
  const r = spawnSync(process.execPath, ['-e', code], { cwd, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new StepError(step, `a rebuilt module does not load:\n${r.stderr.trim().split('\n').slice(0, 8).join('\n')}`, `see ${join(LOGS, `${step}.log`)}; rerun to retry this step.`);
  }
}

function relink(path, target) {
  try {
    lstatSync(path);
    unlinkSync(path);
  } catch { /* absent */ }
  symlinkSync(target, path);
}

function readVscodeVersion() {
  try {
    return JSON.parse(readFileSync(join(VSCODE_DIR, 'package.json'), 'utf8')).version;
  } catch {
    return VSCODE_VERSION;
  }
}

function readMarker() {
  try {
    return JSON.parse(readFileSync(MARKER, 'utf8'));
  } catch {
    return undefined;
  }
}

function sameIdentity(a, b) {
  return Object.keys(b).every((k) => a[k] === b[k]);
}

/** One preparation at a time per cache (two terminals, or `npm start` beside the suite). */
function takeLock() {
  mkdirSync(CACHE, { recursive: true });
  const dir = join(CACHE, '.lock');
  try {
    mkdirSync(dir);
  } catch {
    let pid = 0;
    try {
      pid = Number(readFileSync(join(dir, 'pid'), 'utf8').trim());
    } catch { /* the other run has not written it yet, or died before */ }
    if (pid && alive(pid)) {
      throw new StepError('lock', `another preparation (pid ${pid}) is running in ${CACHE}`, 'wait for it to finish, then run again.');
    }
    log(`taking over a stale lock of pid ${pid}`);
  }
  writeFileSync(join(dir, 'pid'), String(process.pid));
  for (const name of readdirSync(CACHE)) {
    // Leftovers of an interrupted unpack.
    if (name.startsWith(`code-server-${CODE_SERVER_VERSION}.tmp-`)) rmSync(join(CACHE, name), { recursive: true, force: true });
  }
  return { release: () => rmSync(dir, { recursive: true, force: true }) };
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function seconds(t0) {
  return `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}

/** Prints a failed step the way a user can act on it; returns the exit code. */
export function reportFailure(e, prefix = 'e2e:prepare') {
  if (e instanceof StepError) {
    console.error(`[${prefix}] step "${e.step}" failed: ${e.message}`);
    if (e.hint) console.error(`[${prefix}] what to do: ${e.hint}`);
  } else {
    console.error(`[${prefix}] failed: ${e?.message ?? e}`);
  }
  return 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  try {
    await prepare({ force: process.argv.includes('--force') });
    log(`(${seconds(t0)})`);
  } catch (e) {
    process.exitCode = reportFailure(e);
  }
}
