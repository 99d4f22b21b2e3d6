// Where the end-to-end sandbox lives and what it is made of: one place for versions and paths, so
// prepare, serve, the `npm start` CLI and the suite agree on them.
import { homedir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Newest code-server that runs on Node 20 (later releases need Node 22/24); it carries VS Code 1.100.3. */
export const CODE_SERVER_VERSION = '4.100.3';
export const VSCODE_VERSION = '1.100.3';

/** Debian packages the sandbox needs: kerberos headers for the native rebuild, rg for search, a browser. */
export const APT_PACKAGES = ['libkrb5-dev', 'ripgrep', 'chromium'];

export const CHROMIUM = process.env.RECREPLAY_E2E_CHROMIUM ?? '/usr/bin/chromium';
/** Flags for a headless Chromium in a root container that must not phone home. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE = resolve(process.env.RECREPLAY_E2E_CACHE ?? join(homedir(), '.cache', 'recreplay-e2e'));
/** The prepared code-server (the unpacked npm package, with its native modules rebuilt). */
export const CODE_SERVER_DIR = join(CACHE, `code-server-${CODE_SERVER_VERSION}`);
export const CODE_SERVER_ENTRY = join(CODE_SERVER_DIR, 'out', 'node', 'entry.js');
/** code-server writes a default config on first start; keep it in the cache, not in ~/.config. */
export const CODE_SERVER_CONFIG = join(CACHE, 'code-server-config.yaml');
export const MARKER = join(CODE_SERVER_DIR, '.recreplay-prepared.json');
export const LOGS = join(CACHE, 'logs');
/** The .vsix that `package.mjs` writes and the suite and `npm start` install (env: test another one). */
export const VSIX = resolve(process.env.RECREPLAY_E2E_VSIX ?? join(REPO, 'dist', 'recreplay.vsix'));
export const EXAMPLES = join(REPO, 'examples');
export const ARTIFACTS = join(REPO, 'test', 'e2e', 'artifacts');
