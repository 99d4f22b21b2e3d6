/**
 * Runs a harness page against the timeline webview bundle in a real headless Chromium (Debian's
 * `chromium`, or $CHROMIUM): the bundle is built beside the page in a temp folder, the page is
 * loaded with --dump-dom, and what it left as JSON in <pre id="result"> is the result.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import { tmp } from '../helpers';

const ROOT = resolve(__dirname, '../..');
export const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
/** The `skip` of a test that needs Chromium: false where it is installed, else why not. */
export const chromiumSkip: string | false = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`;

/** The start of a harness page: the stylesheet, the theme colours the charts read, the app's element and the result's. */
export const HARNESS_HEAD = `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8"><link rel="stylesheet" href="timeline.css">
<style>body { --vscode-foreground: #ccc; --vscode-charts-blue: #3794ff; --vscode-charts-green: #89d185; --vscode-editorWidget-border: #454545; } #result { display: none; }</style>
</head><body><div id="app"></div><pre id="result"></pre>`;

/** Loads `html` (which includes `<script src="timeline.js">`) and returns its result object. */
export function runHarness<T>(html: string, prefix = 'recreplay-webview-'): T {
  const dir = tmp(prefix);
  buildSync({ entryPoints: [join(ROOT, 'media/timeline.ts')], outfile: join(dir, 'timeline.js'), bundle: true, platform: 'browser', format: 'iife', target: 'chrome120', logLevel: 'error' });
  writeFileSync(join(dir, 'harness.html'), html);
  const r = spawnSync(CHROMIUM, ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--window-size=1200,900', '--dump-dom', `file://${join(dir, 'harness.html')}`], { encoding: 'utf8', timeout: 100_000, maxBuffer: 64 << 20 });
  const json = /<pre id="result">([\s\S]*?)<\/pre>/.exec(r.stdout)?.[1];
  assert.ok(json, `no result in the page (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(json.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as T;
}
