// One esbuild script, one entry per runtime. `tsc --noEmit` is the separate type check.
import { build } from 'esbuild';
import { existsSync, rmSync, mkdirSync, chmodSync } from 'node:fs';

const production = process.argv.includes('--production');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

/**
 * Runtimes that exist so far; later entries (language server, …) join this table. A row may set
 * `platform`/`format` (the webview is a browser iife; its CSS imports land beside it as .css).
 */
const entries = [
  { in: 'src/cli/main.ts', out: 'dist/cli.js', banner: '#!/usr/bin/env node' },
  { in: 'src/extension/extension.ts', out: 'dist/extension.js', external: ['vscode'] },
  { in: 'src/extension/headless/replayWorker.ts', out: 'dist/replayWorker.js' },
  { in: 'src/debugAdapter/standalone.ts', out: 'dist/debugAdapter.js' },
  { in: 'media/timeline.ts', out: 'dist/webview/timeline.js', platform: 'browser', format: 'iife', target: 'chrome120' },
].filter((e) => existsSync(e.in));

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist', { recursive: true });
await Promise.all(
  entries.map((e) =>
    build({
      ...common,
      entryPoints: [e.in],
      outfile: e.out,
      external: e.external ?? [],
      banner: e.banner ? { js: e.banner } : undefined,
      ...(e.platform ? { platform: e.platform } : {}),
      ...(e.format ? { format: e.format } : {}),
      ...(e.target ? { target: e.target } : {}),
    }),
  ),
);
if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
