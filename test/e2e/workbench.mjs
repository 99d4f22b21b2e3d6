// What a user does in the VS Code workbench, as Playwright locators and key presses. Every helper
// waits for what it expects to appear; none sleeps. Selectors are VS Code 1.100's (code-server
// 4.100.3); when the sandbox's version moves, this file is where they change.

export class Workbench {
  constructor(page) {
    this.page = page;
  }

  /** Opens the URL and waits until the explorer shows the folder's first entries; returns seconds. */
  async load(url) {
    const t0 = performance.now();
    await this.page.goto(url);
    await this.page.locator('.monaco-workbench').waitFor();
    await this.explorerRow('slices').waitFor({ timeout: 60_000 });
    return (performance.now() - t0) / 1000;
  }

  explorerRow(name) {
    return this.page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`);
  }

  /** The activity-bar entry whose label starts with `label` ("Explorer", "Run and Debug", "RecReplay"). */
  activityItem(label) {
    return this.page.locator(`.activitybar .action-item:has(.action-label[aria-label^="${label}"])`);
  }

  /** Shows a view container of the activity bar (a click on the shown one would hide the side bar). */
  async showContainer(label) {
    const item = this.activityItem(label);
    await item.waitFor();
    // force: a badge (e.g. "1 active session") lies over the icon; the click reaches the item anyway.
    if (!(await item.evaluate((el) => el.classList.contains('checked')))) await item.click({ force: true });
    await this.page.locator('.activitybar .action-item.checked').filter({ has: this.page.locator(`.action-label[aria-label^="${label}"]`) }).waitFor();
  }

  /** A view (pane) of the side bar or panel, by its header title, e.g. "Slices". */
  pane(title) {
    return this.page.locator('.pane').filter({ has: this.page.locator('.pane-header h3.title', { hasText: exactly(title) }) });
  }

  async expandPane(title) {
    const header = this.pane(title).locator('.pane-header');
    await header.waitFor();
    if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
    await this.pane(title).locator('.pane-header[aria-expanded="true"]').waitFor();
  }

  /**
   * Tree rows of a view whose accessible label (label, description, tooltip text) matches `name`
   * (a RegExp, or a string it contains).
   */
  treeRow(paneTitle, name) {
    return this.pane(paneTitle).getByRole('treeitem', { name });
  }

  quickInput() {
    return this.page.locator('.quick-input-widget');
  }

  /** Runs a command from the palette by its full title, e.g. "File: Revert File". */
  async command(title) {
    await this.page.keyboard.press('F1');
    const input = this.quickInput().locator('input.input');
    await input.waitFor();
    await input.fill(`>${title}`);
    const row = this.quickInput().locator('.monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: exactly(title) }) });
    await row.first().click();
    await this.quickInput().waitFor({ state: 'hidden' });
  }

  /** Opens a workspace file with Quick Open (Ctrl+P) and waits for its editor to be active. */
  async openFile(relativePath) {
    const name = relativePath.split('/').pop();
    await this.page.keyboard.press('Control+P');
    const input = this.quickInput().locator('input.input');
    await input.waitFor();
    await input.fill(relativePath);
    const dir = relativePath.split('/').slice(0, -1).join('/');
    const row = this.quickInput()
      .locator('.monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: exactly(name) }) })
      .filter({ hasText: dir });
    await row.first().click();
    await this.quickInput().waitFor({ state: 'hidden' });
    await this.activeTab(name).waitFor();
    await this.activeEditor().locator('.view-lines').waitFor();
  }

  activeTab(name) {
    return this.page.locator(`.tabs-container .tab.active[aria-label^="${name}"]`);
  }

  /** The text editor of the active editor group. */
  activeEditor() {
    return this.page.locator('.editor-group-container.active .editor-instance .monaco-editor').first();
  }

  /** Moves the cursor with Go to Line (Ctrl+G), 1-based line and column. */
  async goTo(line, column = 1) {
    await this.activeEditor().locator('.view-lines').click();
    await this.page.keyboard.press('Control+G');
    const input = this.quickInput().locator('input.input');
    await input.waitFor();
    await input.fill(`:${line}:${column}`);
    await this.page.keyboard.press('Enter');
    await this.quickInput().waitFor({ state: 'hidden' });
    await this.statusBarItem(new RegExp(`Ln ${line}, Col ${column}\\b`)).waitFor();
  }

  statusBarItem(text) {
    return this.page.locator('.statusbar-item').filter({ hasText: text });
  }

  /** Shows the Problems panel (Ctrl+Shift+M) and returns its rows whose text matches `text`. */
  async problems(text) {
    const panel = this.page.locator('.markers-panel');
    if (!(await panel.isVisible())) {
      await this.page.keyboard.press('Control+Shift+M');
      await panel.waitFor();
    }
    return panel.locator('.monaco-list-row').filter({ hasText: text });
  }

  /** The line-number gutter of the active editor: the element for a visible line. */
  lineNumber(line) {
    return this.activeEditor().locator('.margin-view-overlays .line-numbers').filter({ hasText: new RegExp(`^${line}$`) });
  }

  /** Toggles a breakpoint by clicking the glyph margin left of a visible line. */
  async clickGutter(line) {
    const number = this.lineNumber(line);
    await number.waitFor();
    const box = await number.boundingBox();
    const margin = await this.activeEditor().locator('.glyph-margin').boundingBox();
    await this.page.mouse.click(margin.x + margin.width / 2, box.y + box.height / 2);
  }

  /** Breakpoint glyphs in the active editor's gutter. */
  breakpointGlyphs() {
    return this.activeEditor().locator('.codicon-debug-breakpoint, .codicon-debug-breakpoint-conditional, .codicon-debug-breakpoint-unverified');
  }

  // ---- debugging -------------------------------------------------------------------------------

  debugToolbar() {
    return this.page.locator('.debug-toolbar');
  }

  /** Clicks a debug toolbar button by its label's start: "Continue", "Step Over", "Step Back", "Stop"… */
  async debugAction(label) {
    await this.debugToolbar().locator(`.action-label[aria-label^="${label}"]`).click();
  }

  /** Call stack rows (frames) whose label matches, e.g. /event 3 · e00003/ (the Run and Debug view must be shown). */
  stackFrame(name) {
    return this.page.locator('.debug-call-stack').getByRole('row', { name });
  }

  /** The call stack's rows as their accessible labels, top first; shows the Run and Debug view. */
  async stackFrames() {
    await this.showContainer('Run and Debug');
    return this.page.locator('.debug-call-stack .monaco-list-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
  }

  /** Waits until the line highlighted as the top stack frame in the active editor is `line`. */
  async waitForStoppedLine(line) {
    const highlight = this.activeEditor().locator('.view-overlays .debug-top-stack-frame-line').first();
    await highlight.waitFor();
    const number = this.lineNumber(line);
    await number.waitFor();
    await waitUntil(async () => {
      const [a, b] = [await highlight.boundingBox(), await number.boundingBox()];
      return a && b && Math.abs(a.y - b.y) < 2;
    }, { what: `the top stack frame highlight on line ${line}` });
  }

  /** Adds a conditional breakpoint from the gutter's context menu on a visible line. */
  async addConditionalBreakpoint(line, condition) {
    const number = this.lineNumber(line);
    await number.waitFor();
    const box = await number.boundingBox();
    const margin = await this.activeEditor().locator('.glyph-margin').boundingBox();
    await this.page.mouse.click(margin.x + margin.width / 2, box.y + box.height / 2, { button: 'right' });
    // The menu ignores a click that comes too soon after it opened: focus the entry, then Enter.
    await this.page.locator('.monaco-menu .action-label', { hasText: 'Add Conditional Breakpoint' }).hover();
    await this.page.locator('.monaco-menu .action-item.focused', { hasText: 'Add Conditional Breakpoint' }).waitFor();
    await this.page.keyboard.press('Enter');
    const widget = this.activeEditor().locator('.breakpoint-widget');
    await widget.waitFor();
    await widget.locator('.inputContainer .view-lines').click();
    await this.page.keyboard.type(condition);
    await this.page.keyboard.press('Enter');
    await widget.waitFor({ state: 'detached' });
  }

  /** The document inside the (one) open webview: VS Code nests it in an inner frame. */
  webview() {
    return this.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  }

  /** Notification toasts whose text matches. */
  notification(text) {
    return this.page.locator('.notifications-toasts .notification-toast').filter({ hasText: text });
  }
}

/**
 * Polls `check` (100 ms apart) until it returns a truthy value, which it returns; for conditions no
 * locator can express (geometry, pixels). Fails after `timeoutMs` naming `what` it waited for.
 */
export async function waitUntil(check, { timeoutMs = 30_000, what = 'a condition' } = {}) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A RegExp matching exactly `text` (surrounding white space aside). */
export function exactly(text) {
  return new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
}
