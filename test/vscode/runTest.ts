/**
 * `npm run test:vscode`: the integration suite inside a real VS Code (extension host) through
 * @vscode/test-electron. It never downloads VS Code: it uses $VSCODE_EXECUTABLE, or a build
 * already cached in .vscode-test/, and otherwise says clearly that it skipped. See docs/testing.md.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import { runTests } from '@vscode/test-electron';

const ROOT = resolve(__dirname, '../..');

/** The VS Code binary to run, or undefined with the places that were looked at. */
export function findVsCode(env: NodeJS.ProcessEnv = process.env, cache = join(ROOT, '.vscode-test')): { path?: string; looked: string[] } {
  const looked: string[] = [];
  const fromEnv = env['VSCODE_EXECUTABLE'];
  if (fromEnv) {
    looked.push(`$VSCODE_EXECUTABLE=${fromEnv}`);
    if (existsSync(fromEnv)) return { path: fromEnv, looked };
  }
  looked.push(cache);
  if (!existsSync(cache)) return { looked };
  // test-electron's layout: .vscode-test/vscode-<platform>-<version>/{code | Code.exe | Visual Studio Code.app/...}
  const candidates = ['code', 'Code.exe', 'Visual Studio Code.app/Contents/MacOS/Electron', 'VSCode-linux-x64/code'];
  for (const d of readdirSync(cache).filter((n) => n.startsWith('vscode-')).sort().reverse()) {
    for (const c of candidates) {
      const p = join(cache, d, c);
      if (existsSync(p) && statSync(p).isFile()) return { path: p, looked };
    }
  }
  return { looked };
}

async function main(): Promise<void> {
  const found = findVsCode();
  if (!found.path) {
    console.log(`test:vscode SKIPPED — no VS Code build available (looked at: ${found.looked.join(', ')}).`);
    console.log('Set VSCODE_EXECUTABLE to a VS Code >= 1.100 binary, or place a build in .vscode-test/. Nothing is downloaded.');
    // A suite that ran nothing has not passed: exit 77 ("skipped"), unless a skip is asked for.
    if (process.env['RECREPLAY_ALLOW_SKIP'] !== '1') process.exitCode = 77;
    return;
  }
  console.log(`test:vscode: using ${found.path}`);
  if (!existsSync(join(ROOT, 'dist/extension.js')) || !existsSync(join(ROOT, 'dist/webview/timeline.js'))) {
    const b = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('the build failed');
  }
  const out = join(ROOT, '.vscode-test', 'suite');
  buildSync({ entryPoints: [join(__dirname, 'suite/index.ts')], outfile: join(out, 'index.js'), bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], sourcemap: true, logLevel: 'warning' });
  // The suite works in a copy of the example workspace, so runs never touch the checkout.
  const workspace = join(mkdtempSync(join(tmpdir(), 'recreplay-vscode-')), 'examples');
  cpSync(join(ROOT, 'examples'), workspace, { recursive: true });
  await runTests({
    vscodeExecutablePath: found.path,
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: join(out, 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes', '--disable-gpu', '--user-data-dir', mkdtempSync(join(tmpdir(), 'recreplay-vscode-user-'))],
    extensionTestsEnv: { RECREPLAY_CACHE_DIR: mkdtempSync(join(tmpdir(), 'recreplay-vscode-cache-')), RECREPLAY_REPO: ROOT },
  });
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(`test:vscode FAILED: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
