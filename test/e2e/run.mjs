#!/usr/bin/env node
// `npm run test:e2e`: the packaged extension in a real VS Code (code-server) driven through Debian's
// Chromium by playwright-core. Expects a prepared sandbox (scripts/e2e/prepare.mjs) and the .vsix
// (scripts/e2e/package.mjs). Screenshots, failure details and logs go to test/e2e/artifacts/.
//
//   node test/e2e/run.mjs [--grep REGEXP] [--trace] [--keep-open]
//
// --grep runs the matching steps (and the steps they need); --trace records a Playwright trace
// (artifacts/trace.zip); --keep-open leaves the server running after the steps and prints its URL.
import { cpSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, CODE_SERVER_ENTRY, EXAMPLES, MARKER, REPO, VSIX } from '../../scripts/e2e/config.mjs';
import { startServer } from '../../scripts/e2e/serve.mjs';
import { runSuite } from './harness.mjs';
import { defineSuite } from './steps.mjs';
import { Workbench } from './workbench.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const grepAt = args.indexOf('--grep');
const grep = grepAt >= 0 ? new RegExp(args[grepAt + 1], 'i') : undefined;

function preflight() {
  const missing = [];
  if (!existsSync(MARKER) || !existsSync(CODE_SERVER_ENTRY)) missing.push('the sandbox is not prepared: run node scripts/e2e/prepare.mjs');
  if (!existsSync(CHROMIUM)) missing.push(`${CHROMIUM} is missing: run node scripts/e2e/prepare.mjs (it installs Debian's chromium)`);
  if (!existsSync(VSIX)) missing.push(`${VSIX} is missing: run node scripts/e2e/package.mjs`);
  return missing;
}

async function main() {
  const missing = preflight();
  if (missing.length) {
    for (const m of missing) console.error(`[e2e] ${m}`);
    console.log('0 passed, 1 failed');
    return 1;
  }
  const { chromium } = createRequire(join(REPO, 'package.json'))('playwright-core');
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });

  // The suite works on a copy of examples/: whatever a step edits or a debug session writes
  // (traces, run records) never touches the repo.
  const root = mkdtempSync(join(tmpdir(), 'recreplay-e2e-'));
  const workspace = join(root, 'examples');
  cpSync(EXAMPLES, workspace, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  const timings = {};
  const log = (msg) => console.log(`[e2e] ${msg}`);

  let server, browser, context;
  const consoleErrors = [];
  let summary = { passed: 0, failed: 1, skipped: 0 };
  try {
    const t0 = performance.now();
    server = await startServer({ vsix: VSIX, folder: workspace, dataDir: root, log });
    timings.serverStart = (performance.now() - t0) / 1000;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    if (flag('--trace')) await context.tracing.start({ screenshots: true, snapshots: true });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));

    log(`VS Code ${readVersion()} at ${server.url}`);
    const t1 = performance.now();
    summary = await runSuite(defineSuite(), { page, wb: new Workbench(page), server, workspace, manifest, timings }, { artifacts: ARTIFACTS, grep });
    timings.steps = (performance.now() - t1) / 1000;

    if (flag('--trace')) await context.tracing.stop({ path: join(ARTIFACTS, 'trace.zip') });
    if (flag('--keep-open')) {
      log(`keeping the server open at ${server.url} (Ctrl-C stops it)`);
      await new Promise((r) => process.once('SIGINT', r));
    }
  } catch (e) {
    console.error(`[e2e] the suite could not run: ${e.stack ?? e}`);
  } finally {
    await browser?.close().catch(() => {});
    await server?.stop();
    if (server && existsSync(server.serverLog)) copyFileSync(server.serverLog, join(ARTIFACTS, 'server.log'));
    collectExtensionHostLogs(root);
    writeFileSync(join(ARTIFACTS, 'browser-console.log'), consoleErrors.join('\n') + '\n');
    writeFileSync(join(ARTIFACTS, 'timings.json'), JSON.stringify(timings, null, 2) + '\n');
    rmSync(root, { recursive: true, force: true });
  }
  const t = Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ');
  if (t) log(`timings: ${t}`);
  log(`artifacts: ${ARTIFACTS}`);
  console.log(`${summary.passed} passed, ${summary.failed} failed${summary.skipped ? `, ${summary.skipped} skipped` : ''}`);
  return summary.failed > 0 || summary.passed === 0 ? 1 : 0;
}

/** Copies the extension host's logs (RecReplay's own output channel among them) into the artifacts. */
function collectExtensionHostLogs(root) {
  const logs = join(root, 'user-data', 'logs');
  if (!existsSync(logs)) return;
  const out = join(ARTIFACTS, 'logs');
  for (const session of readdirSync(logs)) {
    cpSync(join(logs, session), out, { recursive: true, filter: (src) => !src.endsWith('.sock') });
  }
}

function readVersion() {
  try {
    return JSON.parse(readFileSync(MARKER, 'utf8')).vscode;
  } catch {
    return '?';
  }
}

process.exitCode = await main();
