// The end-to-end suite: what a user sees in a real VS Code with the packaged extension installed,
// in order, over one workbench. Each step waits for what should appear; the runner screenshots it.
// A step names the behaviour it checks; `needs` lists the steps whose state it builds on. Steps still
// to write are `todo`s (reported as skipped). See docs/testing-e2e.md, "Adding a step".
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Suite } from './harness.mjs';
import { waitUntil } from './workbench.mjs';

const COLD_START = 'slices/cold-start.slice';
const WORKBENCH = 'the workbench opens the example workspace';
const INSTALLED = 'the packaged extension is installed and its RecReplay container is in the activity bar';
const CONTAINER = 'the RecReplay container shows the Slices and Ranking views';
const SLICES = 'the Slices view lists the example slices with their integrity status';

/**
 * Each step gets the context `{ page, wb, server, workspace, manifest, timings }`: the Playwright
 * page, the Workbench helpers, startServer()'s handle, the workspace copy's path, package.json.
 */
export function defineSuite() {
  const suite = new Suite();

  suite.step(WORKBENCH, async ({ wb, server, page, timings }) => {
    timings.workbenchLoad = await wb.load(server.url);
    for (const name of ['rankers', 'slices']) await wb.explorerRow(name).waitFor();
    assert.match(await page.title(), /examples/);
  });

  suite.step(INSTALLED, async ({ wb, server, manifest }) => {
    const id = `${manifest.publisher}.${manifest.name}-${manifest.version}`;
    assert.ok(readdirSync(server.extensionsDir).includes(id), `${id} is not in ${server.extensionsDir}`);
    await wb.activityItem('RecReplay').waitFor();
  }, { needs: [WORKBENCH] });

  suite.step(CONTAINER, async ({ wb }) => {
    await wb.showContainer('RecReplay');
    await wb.pane('Slices').waitFor();
    await wb.pane('Ranking').waitFor();
  }, { needs: [INSTALLED] });

  suite.step(SLICES, async ({ wb }) => {
    await wb.expandPane('Slices');
    await wb.treeRow('Slices', 'latency-cascade').waitFor();
    const cold = wb.treeRow('Slices', 'cold-start').first();
    await cold.waitFor();
    // Expanding a slice checks its catalogue and users against the manifest's hashes.
    if ((await cold.getAttribute('aria-expanded')) !== 'true') await cold.locator('.monaco-tl-twistie').click();
    await wb.treeRow('Slices', /cold-start.*(intact|verified)/).waitFor();
  }, { needs: [CONTAINER] });

  suite.step('slice.json is checked against the shipped schema: a negative seed is a problem', async ({ wb, workspace, page }) => {
    const file = `${COLD_START}/slice.json`;
    const text = readFileSync(join(workspace, file), 'utf8');
    const { line, column } = positionAfter(text, '"seed": 42');
    await wb.openFile(file);
    await wb.goTo(line, column);
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('-1');
    // The squiggle and the Problems entry come from the extension's jsonValidation contribution
    // (schema violations are warnings).
    await wb.activeEditor().locator('.squiggly-warning').first().waitFor();
    await (await wb.problems(/below the minimum of 0/)).first().waitFor();
    await wb.command('File: Revert File');
    await wb.activeEditor().locator('.squiggly-warning').first().waitFor({ state: 'detached' });
    await (await wb.problems(/below the minimum of 0/)).first().waitFor({ state: 'detached' });
  }, { needs: [WORKBENCH] });

  suite.step('events.jsonl opens as JSON Lines and takes a breakpoint in the gutter', async ({ wb }) => {
    await wb.openFile(`${COLD_START}/events.jsonl`);
    await wb.statusBarItem('JSON Lines').waitFor();
    await wb.clickGutter(3);
    await wb.breakpointGlyphs().first().waitFor();
    assert.equal(await wb.breakpointGlyphs().count(), 1);
    await wb.clickGutter(3);
    await wb.breakpointGlyphs().first().waitFor({ state: 'detached' });
  }, { needs: [WORKBENCH] });

  suite.step('the Slices view shows a slice\'s manifest', async ({ wb }) => {
    const manifest = wb.treeRow('Slices', /^\s*Manifest/).first();
    await manifest.waitFor();
    if ((await manifest.getAttribute('aria-expanded')) !== 'true') await manifest.locator('.monaco-tl-twistie').click();
    await wb.treeRow('Slices', /seed: 42/).waitFor();
    await wb.treeRow('Slices', /pipeline: k 10/).waitFor();
  }, { needs: [SLICES] });

  // ---- debugging the cold-start example -------------------------------------------------------
  const started = 'starts the cold-start example from the Run and Debug view and stops on entry at event 1';
  suite.step(started, async ({ wb, page }) => {
    // No launch.json in the examples: with a slice's events.jsonl active, the Run and Debug button
    // replays that slice (the debugger's "languages": ["jsonl"]).
    await wb.openFile(`${COLD_START}/events.jsonl`);
    await wb.showContainer('Run and Debug');
    await page.locator('.welcome-view-content .monaco-button', { hasText: 'Run and Debug' }).click();
    await wb.debugToolbar().waitFor();
    await wb.stackFrame(/event 1 · e00001/).first().waitFor();
    await wb.waitForStoppedLine(1);
  }, { needs: [WORKBENCH] });

  const atBreakpoint = 'stops on a breakpoint set in the gutter: the call stack shows the event and its line is highlighted';
  suite.step(atBreakpoint, async ({ wb }) => {
    await wb.clickGutter(3);
    await wb.breakpointGlyphs().first().waitFor();
    await wb.debugAction('Continue');
    await wb.stackFrame(/event 3 · e00003/).first().waitFor();
    await wb.waitForStoppedLine(3);
    await wb.clickGutter(3); // off again, so later steps continue past it
    await wb.activeEditor().locator('.codicon-debug-breakpoint').waitFor({ state: 'detached' });
  }, { needs: [started] });

  suite.step('the Ranking and Variables views show the event\'s scores and recorded ranks', async ({ wb, page }) => {
    await wb.showContainer('RecReplay');
    await wb.expandPane('Ranking');
    const row = wb.treeRow('Ranking', /score \d/).first();
    await row.waitFor();
    assert.match(await row.getAttribute('aria-label'), /recorded rank \d+/);
    await wb.showContainer('Run and Debug');
    const scope = page.locator('.debug-variables .monaco-list-row').filter({ hasText: /^\s*Ranking\s*$/ }).first();
    if ((await scope.getAttribute('aria-expanded')) !== 'true') await scope.click();
    // At the outcome stage each candidate reads like "#1 = i_116 0.981 (recorded #1, =)".
    const candidate = page.locator('.debug-variables .monaco-list-row').filter({ hasText: /#\d+.*i_\d+ \d\.\d+ \(recorded #\d+/ });
    await candidate.first().waitFor();
  }, { needs: [atBreakpoint] });

  suite.step('step over, then step back: the position changes, then changes back', async ({ wb }) => {
    const before = await wb.stackFrames();
    await wb.debugAction('Step Over');
    await waitUntil(async () => !same(await wb.stackFrames(), before), { what: 'the call stack to change after Step Over' });
    await wb.debugAction('Step Back');
    await waitUntil(async () => same(await wb.stackFrames(), before), { what: `the call stack to be back at ${before[0]}` });
  }, { needs: [atBreakpoint] });

  const conditional = 'a conditional breakpoint on an item\'s score, set in the gutter of events.jsonl, is hit on continue';
  suite.step(conditional, async ({ wb, workspace }) => {
    const events = readFileSync(join(workspace, COLD_START, 'events.jsonl'), 'utf8').split('\n');
    const itemOn = (line) => JSON.parse(events[line - 1]).candidates[0].item;
    // False at event 6, true at event 10: continuing from event 3 must pass 6 and stop at 10.
    await wb.openFile(`${COLD_START}/events.jsonl`);
    await wb.addConditionalBreakpoint(6, `score("${itemOn(6)}") > 1000`);
    await wb.addConditionalBreakpoint(10, `score("${itemOn(10)}") > 0`);
    await waitUntil(async () => (await wb.activeEditor().locator('.codicon-debug-breakpoint-conditional').count()) === 2, { what: 'two conditional breakpoint glyphs' });
    await wb.debugAction('Continue');
    await wb.stackFrame(/event 10 · e00010/).first().waitFor();
    await wb.waitForStoppedLine(10);
  }, { needs: [atBreakpoint] });

  const timeline = 'the timeline webview draws its charts (canvas not blank) during the session';
  suite.step(timeline, async ({ wb }) => {
    await wb.command('RecReplay: Show Timeline of the Debug Session');
    const view = wb.webview();
    await view.locator('[data-testid=live]', { hasText: 'live' }).waitFor();
    const canvas = view.locator('[data-testid=charts] canvas').first();
    await canvas.waitFor();
    // Axes and grid are grey; a series line is a saturated colour. Wait for one such pixel.
    await waitUntil(() => canvas.evaluate(hasSaturatedPixel), { what: 'a series drawn on the first chart' });
  }, { needs: [atBreakpoint] });

  suite.step('a click on the timeline moves the debugger to that event', async ({ wb, workspace }) => {
    // The charts span events 1…N over their plot width. The session stands at event 10 (the
    // conditional breakpoint): a click where event 5 is must take it there, a few events either
    // way, since a pixel spans about two events.
    const count = readFileSync(join(workspace, COLD_START, 'events.jsonl'), 'utf8').trimEnd().split('\n').length;
    await wb.stackFrame(/event 10 · e00010/).first().waitFor();
    const over = wb.webview().locator('[data-testid=charts] .u-over').first();
    const box = await over.boundingBox();
    await over.click({ position: { x: ((5 - 1) / (count - 1)) * box.width, y: box.height / 2 } });
    await wb.showContainer('Run and Debug');
    const arrived = wb.stackFrame(/event [2-8] · e0000[2-8]/).first();
    const status = wb.webview().locator('[data-testid=status]');
    // Fail with the panel's own words when it reports that the jump did not happen.
    const outcome = await waitUntil(async () => {
      if (await arrived.isVisible()) return 'arrived';
      const text = await status.textContent();
      return /could not/i.test(text ?? '') ? text : undefined;
    }, { what: 'the debugger to reach event 5' });
    assert.ok(outcome === 'arrived', `the timeline says: ${outcome}`);
  }, { needs: [timeline, conditional] });

  suite.step('Stop ends the debug session', async ({ wb }) => {
    await wb.debugAction('Stop');
    await wb.debugToolbar().waitFor({ state: 'hidden' });
  }, { needs: [started] });

  suite.todo('a .replay file with a mistake shows a diagnostic, then a completion', 'waits for the scenario issue');

  return suite;
}

/** 1-based line and column just after the first `needle` in `text`. */
export function positionAfter(text, needle) {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `"${needle}" is not in the file any more: update the step`);
  const before = text.slice(0, at + needle.length).split('\n');
  return { line: before.length, column: before.at(-1).length + 1 };
}

function same(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Runs in the webview: does the canvas hold a saturated (non-grey) pixel? */
function hasSaturatedPixel(canvas) {
  const { width, height } = canvas;
  if (!width || !height) return false;
  const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
    if (a > 128 && Math.max(r, g, b) - Math.min(r, g, b) > 80) return true;
  }
  return false;
}
