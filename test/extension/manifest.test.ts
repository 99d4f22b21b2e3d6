import './setup';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { COMMAND_IDS } from '../../src/extension/commandIds';
import { parseLaunchArguments } from '../../src/debugAdapter/launchConfig';

const ROOT = resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const c = pkg.contributes;

test('package.json commands and the typed command ids are the same set, all in category RecReplay', () => {
  const declared = c.commands.map((x: { command: string }) => x.command).sort();
  assert.deepEqual(declared, [...COMMAND_IDS].sort());
  for (const cmd of c.commands) assert.equal(cmd.category, 'RecReplay', cmd.command);
  for (const id of COMMAND_IDS) assert.ok(pkg.activationEvents.includes(`onCommand:${id}`), `activation event for ${id}`);
});

test('every command named in menus, welcome content and debugger variables exists', () => {
  const known = new Set<string>([...COMMAND_IDS, 'vscode.openFolder']);
  for (const [menu, items] of Object.entries(c.menus) as [string, { command: string }[]][]) for (const i of items) assert.ok(known.has(i.command), `${menu}: ${i.command}`);
  for (const w of c.viewsWelcome) for (const m of (w.contents as string).matchAll(/\(command:([\w.]+)\)/g)) assert.ok(known.has(m[1] as string), m[1]);
  for (const v of Object.values(c.debuggers[0].variables)) assert.ok(known.has(v as string), String(v));
});

test('activation: debug resolve, slices in the workspace, each view, the timeline panel', () => {
  for (const e of ['onDebugResolve:recreplay', 'workspaceContains:**/*.slice/slice.json', 'onView:recreplay.slices', 'onView:recreplay.ranking', 'onWebviewPanel:recreplay.timeline']) assert.ok(pkg.activationEvents.includes(e), e);
  assert.equal(pkg.main, './dist/extension.js');
});

test('every launch attribute is described, and the adapter accepts each with its default', () => {
  const props = c.debuggers[0].configurationAttributes.launch.properties as Record<string, { description?: string; default?: unknown }>;
  for (const [k, p] of Object.entries(props)) assert.ok(p.description && p.description.length > 20, `${k} has a description`);
  // The adapter's own parser knows each attribute (a typo here would be rejected at launch).
  const args: Record<string, unknown> = { slice: 'x.slice' };
  for (const [k, p] of Object.entries(props)) if (p.default !== undefined && k !== 'slice' && k !== 'cwd') args[k] = p.default;
  const cfg = parseLaunchArguments(args, '/w');
  assert.equal(cfg.slice, '/w/x.slice');
  for (const snip of c.debuggers[0].configurationSnippets) assert.equal(snip.body.type, 'recreplay');
  assert.equal(c.debuggers[0].initialConfigurations[0].slice, '${command:PickSlice}');
});

test('every configuration RecReplay generates (the initial launch.json and each snippet) stops on entry, as the docs and the stopOnEntry description say', () => {
  const dbg = c.debuggers[0];
  for (const cfg of [...dbg.initialConfigurations, ...dbg.configurationSnippets.map((s: { body: Record<string, unknown> }) => s.body)]) {
    assert.equal(cfg.stopOnEntry, true, `${String(cfg.name)} sets "stopOnEntry": true`);
  }
});

test('views live in the RecReplay container; the Fault Catalog does not exist yet; jsonValidation is kept', () => {
  assert.deepEqual(c.views.recreplay.map((v: { id: string }) => v.id), ['recreplay.slices', 'recreplay.ranking']);
  assert.equal(c.viewsContainers.activitybar[0].id, 'recreplay');
  assert.deepEqual(c.jsonValidation, [{ fileMatch: '*.slice/slice.json', url: './schemas/slice.schema.json' }]);
  assert.ok(existsSync(join(ROOT, c.viewsContainers.activitybar[0].icon)));
  assert.ok(existsSync(join(ROOT, pkg.icon)));
  assert.ok(c.breakpoints.some((b: { language: string }) => b.language === 'jsonl'));
});

test('every setting the extension reads is declared with a description; untrusted workspaces are limited', () => {
  const src = readdirSync(join(ROOT, 'src/extension'), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(ROOT, 'src/extension', f), 'utf8'))
    .join('\n');
  const read = [...src.matchAll(/c\.get<\w+>\('([\w.]+)'\)/g)].map((m) => `recreplay.${m[1]}`);
  assert.ok(read.length >= 9);
  for (const key of read) {
    const p = c.configuration.properties[key];
    assert.ok(p, `${key} is declared`);
    assert.ok((p.markdownDescription ?? p.description ?? '').length > 30, `${key} is documented`);
  }
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.deepEqual(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations, ['recreplay.defaultRanker', 'recreplay.runs.folder', 'recreplay.checkpointEvery']);
});
