// The suite's little runner: ordered steps over one shared workbench, a screenshot after each,
// dependent steps skipped when what they build on failed, a closing `N passed, N failed` line.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A step of the suite. `run(ctx)` drives the page and throws when what it expects does not appear.
 * `needs` names earlier steps whose state it builds on; `todo` marks a step still to write (it is
 * reported as skipped with its reason, never as passed).
 */
export class Suite {
  steps = [];

  step(name, run, { needs = [], timeoutMs = 90_000 } = {}) {
    this.steps.push({ name, run, needs, timeoutMs });
    return this;
  }

  todo(name, reason) {
    this.steps.push({ name, todo: reason, needs: [] });
    return this;
  }
}

/** Runs the steps in order; returns { passed, failed, skipped, results }. */
export async function runSuite(suite, ctx, { artifacts, grep, log = console.log }) {
  mkdirSync(artifacts, { recursive: true });
  const results = [];
  const outcome = new Map();
  const selected = selection(suite, grep);
  let n = 0;
  for (const step of suite.steps) {
    n += 1;
    const id = `${String(n).padStart(2, '0')}-${slug(step.name)}`;
    const blocked = step.needs.find((name) => outcome.get(name) !== 'passed');
    if (step.todo !== undefined || blocked !== undefined || !selected.has(step.name)) {
      const why = step.todo ?? (!selected.has(step.name) ? 'filtered out' : `needs "${blocked}"`);
      outcome.set(step.name, 'skipped');
      results.push({ name: step.name, status: 'skipped', why });
      log(`  - ${step.name} (skipped: ${why})`);
      continue;
    }
    const t0 = performance.now();
    let error;
    try {
      await withTimeout(step.run(ctx), step.timeoutMs, step.name);
    } catch (e) {
      error = e;
    }
    const ms = performance.now() - t0;
    const status = error ? 'failed' : 'passed';
    outcome.set(step.name, status);
    const shot = join(artifacts, `${id}${error ? '.FAILED' : ''}.png`);
    await ctx.page.screenshot({ path: shot }).catch(() => {});
    if (error) {
      writeFileSync(join(artifacts, `${id}.FAILED.txt`), `${step.name}\n\n${error.stack ?? error}\n`);
      await ctx.page.content().then((html) => writeFileSync(join(artifacts, `${id}.FAILED.html`), html)).catch(() => {});
      log(`  ✗ ${step.name} (${(ms / 1000).toFixed(1)} s)\n${indent(error.message ?? String(error))}\n    screenshot: ${shot}`);
    } else {
      log(`  ✓ ${step.name} (${(ms / 1000).toFixed(1)} s)`);
    }
    results.push({ name: step.name, status, ms, error: error?.message });
  }
  const count = (s) => results.filter((r) => r.status === s).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped'), results };
}

/** The steps --grep selects, plus every step they need (transitively): those run first. */
function selection(suite, grep) {
  const byName = new Map(suite.steps.map((s) => [s.name, s]));
  const chosen = new Set();
  const add = (name) => {
    if (chosen.has(name)) return;
    chosen.add(name);
    for (const need of byName.get(name)?.needs ?? []) add(need);
  };
  for (const s of suite.steps) if (!grep || grep.test(s.name)) add(s.name);
  return chosen;
}

function withTimeout(promise, ms, name) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`step "${name}" did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function slug(s) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

function indent(text) {
  return text.split('\n').slice(0, 12).map((l) => `    ${l}`).join('\n');
}
