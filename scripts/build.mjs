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

/** Runtimes that exist so far; later entries (extension host, adapter, language server, webview) join this table. */
const entries = [
  { in: 'src/cli/main.ts', out: 'dist/cli.js', banner: '#!/usr/bin/env node' },
  { in: 'src/extension/extension.ts', out: 'dist/extension.js', external: ['vscode'] },
  { in: 'src/debugAdapter/standalone.ts', out: 'dist/debugAdapter.js' },
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
    }),
  ),
);
if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
