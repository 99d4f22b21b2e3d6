#!/usr/bin/env node
// Builds the .vsix users would get: a production build (minified, no source maps), then
// `@vscode/vsce` without dependencies (esbuild bundled them into dist/), .vscodeignore deciding
// what ships. Prints the size of the package and of each bundle.
//
//   node scripts/e2e/package.mjs [--no-build] [--out PATH]
import { existsSync, readFileSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO, VSIX } from './config.mjs';

const log = (msg) => console.log(`[e2e:package] ${msg}`);

/** Builds (unless `build: false`) and packages the extension; returns the .vsix path and sizes. */
export async function packageExtension({ build = true, out = VSIX } = {}) {
  const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  const problems = checkManifest(manifest);
  if (problems.length) {
    throw new Error(`package.json / repo is not ready for vsce:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  if (build) {
    const t = performance.now();
    log('production build (node scripts/build.mjs --production)…');
    const r = spawnSync(process.execPath, ['scripts/build.mjs', '--production'], { cwd: REPO, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`the build failed (exit ${r.status}); fix it, then run again`);
    log(`  built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  if (!existsSync(join(REPO, manifest.main))) throw new Error(`${manifest.main} is missing: run the build first (or drop --no-build)`);
  const vsce = loadVsce();
  mkdirSync(dirname(out), { recursive: true });
  const t = performance.now();
  // dependencies: false is `--no-dependencies`: node_modules stays out, the bundles carry their code.
  await vsce.createVSIX({ cwd: REPO, packagePath: out, dependencies: false });
  log(`packaged in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const bundles = listBundles(join(REPO, 'dist')).filter((f) => f.path !== out);
  const vsixBytes = statSync(out).size;
  log(`${relative(process.cwd(), out) || out}  ${kib(vsixBytes)}`);
  for (const b of bundles) log(`  ${relative(REPO, b.path).padEnd(32)} ${kib(b.bytes)}`);
  return { vsix: out, vsixBytes, bundles };
}

/**
 * What vsce would stop on, or ask about interactively (which hangs or fails in CI), checked first so
 * the message names the fix.
 */
export function checkManifest(m) {
  const problems = [];
  for (const field of ['name', 'publisher', 'version', 'engines.vscode', 'main', 'repository', 'license']) {
    const value = field.split('.').reduce((o, k) => o?.[k], m);
    if (!value) problems.push(`"${field}" is missing in package.json`);
  }
  for (const file of ['README.md', 'CHANGELOG.md', 'LICENSE']) {
    if (!existsSync(join(REPO, file))) problems.push(`${file} is missing (vsce asks about it interactively)`);
  }
  if (m.icon && !existsSync(join(REPO, m.icon))) problems.push(`"icon" names ${m.icon}, which does not exist`);
  if (m.icon && !/\.png$/i.test(m.icon)) problems.push(`"icon" must be a PNG (the Marketplace rejects SVG): ${m.icon}`);
  if (Array.isArray(m.files) && m.files.length && existsSync(join(REPO, '.vscodeignore'))) {
    problems.push(
      'package.json has "files" and the repo has .vscodeignore: vsce refuses both. Remove "files" from package.json ' +
        '(.vscodeignore decides what the .vsix holds), or delete .vscodeignore and list everything the .vsix needs in "files".',
    );
  }
  return problems;
}

function loadVsce() {
  try {
    return createRequire(join(REPO, 'package.json'))('@vscode/vsce');
  } catch (e) {
    throw new Error(`@vscode/vsce is not installed (${e.code ?? e.message}): it is a devDependency, run npm ci`);
  }
}

function listBundles(dir) {
  const found = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(js|css)$/.test(name)) found.push({ path, bytes: statSync(path).size });
    }
  };
  if (existsSync(dir)) walk(dir);
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

function kib(bytes) {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  try {
    await packageExtension({ build: !args.includes('--no-build'), out: outAt >= 0 ? resolve(args[outAt + 1]) : VSIX });
  } catch (e) {
    console.error(`[e2e:package] failed: ${e.message}`);
    process.exitCode = 1;
  }
}
