import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from './helpers';

// The figures the guides quote — examples/README.md, README.md, docs/cli.md, docs/debugging.md —
// read from the pages and checked against what the built CLI prints, so a change to the examples
// or the engine that moves them fails here instead of leaving the guides wrong.
const ROOT = join(__dirname, '..');
const page = (p: string) => readFileSync(join(ROOT, p), 'utf8');
const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'dist/cli.js'), ...args], { encoding: 'utf8', cwd: ROOT });
const runJson = (args: string[]) => {
  const r = cli([...args, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { metrics: Record<string, number>; faults: Record<string, { firstEvent: number }>; trace: string };
};
/** A figure a page writes with `digits` decimals ("~0.29", "0.86"), against the value it stands for. */
const near = (shown: string, actual: number | undefined, what: string) => {
  const digits = shown.split('.')[1]?.length ?? 0;
  assert.equal(Number(actual?.toFixed(digits)), Number(shown), `${what}: the page says ${shown}, the run gives ${actual}`);
};
/** Splits a `npx recreplay …` command of a page (with `\` continuations and one quoted argument) into its arguments. */
function args(command: string): string[] {
  const out: string[] = [];
  for (const m of command.replace(/\\\n\s*/g, ' ').replace(/^npx recreplay /, '').matchAll(/'([^']*)'|(\S+)/g)) out.push((m[1] ?? m[2]) as string);
  return out;
}

test('examples/README.md: cold start with the fresh ranker — exposure parity and coverage as the table gives them', () => {
  const row = /\| `slices\/cold-start\.slice` \|.*parity rises to ~([\d.]+), coverage from ([\d.]+) to ([\d.]+)\. \|/.exec(page('examples/README.md'));
  assert.ok(row, 'the table gives the cold-start figures');
  const [, parity, before, after] = row as unknown as [string, string, string, string];
  const prod = runJson(['run', 'examples/slices/cold-start.slice', '--ranker', 'linear:examples/rankers/cold-start-linear.json']);
  const fresh = runJson(['run', 'examples/slices/cold-start.slice', '--ranker', 'linear:examples/rankers/cold-start-fresh.json']);
  assert.equal(prod.metrics['exposure_parity'], 0);
  near(parity, fresh.metrics['exposure_parity'], 'exposure_parity with cold-start-fresh.json');
  near(before, prod.metrics['coverage@10'], 'coverage@10 with cold-start-linear.json');
  near(after, fresh.metrics['coverage@10'], 'coverage@10 with cold-start-fresh.json');
});

test('examples/README.md: the latency cascade — the first faults and the per-event hit rate before the surge, during it and under the fallback', () => {
  const row = /\| `slices\/latency-cascade\.slice` \|.*From event ~(\d+) the queue grows;.*\(`stage_over_budget`, first at event (\d+)\).*\(`over_budget`, first at event (\d+)\).*hit rate drops from ([\d.]+) before the surge to ~([\d.]+) during it, ~([\d.]+) once the fallback is served/.exec(page('examples/README.md'));
  assert.ok(row, 'the table gives the latency-cascade figures');
  const [, surge, stageFirst, overFirst, before, during, fallback] = (row as unknown as string[]).map(String);
  const r = runJson(['run', 'examples/slices/latency-cascade.slice', '--ranker', 'linear:examples/rankers/search-linear.json', '--trace', tmp()]);
  assert.equal(r.faults['stage_over_budget']?.firstEvent, Number(stageFirst));
  assert.equal(r.faults['over_budget']?.firstEvent, Number(overFirst));
  const events = readFileSync(r.trace, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as { n: number; metrics: { hit: number | null }; stages: { serve: { fallback: boolean } } });
  // "per-event hit in the trace": the mean of the events that have one (a click to hit).
  const hitRate = (pick: (e: (typeof events)[number]) => boolean) => {
    const hits = events.filter((e) => pick(e) && e.metrics.hit !== null).map((e) => e.metrics.hit as number);
    return hits.reduce((a, b) => a + b, 0) / hits.length;
  };
  near(before as string, hitRate((e) => e.n < Number(surge)), `hit rate before event ${surge}`);
  near(during as string, hitRate((e) => e.n >= Number(surge)), `hit rate from event ${surge}`);
  near(fallback as string, hitRate((e) => e.stages.serve.fallback), 'hit rate of the events served the fallback');
});

test('README.md quick start: the headless question never holds with the production ranker (exit 1); with the fresh one, two new items reach ranks 9 and 10 at event 1', () => {
  const readme = page('README.md');
  const cmd = /```sh\n(npx recreplay run examples\/slices\/cold-start\.slice [^`]*?--break '[^']+')\n```/.exec(readme)?.[1];
  assert.ok(cmd, 'the README shows the headless --break command');
  const never = cli(args(cmd));
  assert.equal(never.status, 1, never.stderr + never.stdout);
  assert.match(readme, /exit code 1 = never held, 0 = stopped/);
  const ranks = /it stops at event 1's `outcome` with two new items at ranks (\d+) and (\d+)/.exec(readme);
  assert.ok(ranks, 'the README says where the fresh ranker stops');
  const fresh = args(cmd).map((a) => a.replace('cold-start-linear.json', 'cold-start-fresh.json'));
  const j = JSON.parse(cli([...fresh, '--json']).stdout) as { event: number; ranking: { rank: number; item: string }[] };
  assert.equal(j.event, 1);
  const items = readFileSync(join(ROOT, 'examples/slices/cold-start.slice/items.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; group?: string });
  const isNew = new Set(items.filter((i) => i.group === 'new').map((i) => i.id));
  assert.deepEqual(j.ranking.filter((r) => r.rank <= 10 && isNew.has(r.item)).map((r) => r.rank), [Number(ranks[1]), Number(ranks[2])]);
});

test('docs/debugging.md, "From the command line": the --break example stops where the page says, with the values it shows', () => {
  const doc = page('docs/debugging.md');
  const cmd = /From the root of a checkout[^\n]*\n\n```sh\n([\s\S]*?)\n```/.exec(doc)?.[1];
  const claim = /It stops at event (\d+) \(`(e\d+)`\), where `(rank\("i_\d+"\)) = (\d+)` and `user\.segment = "(\w+)"`/.exec(doc);
  assert.ok(cmd && claim, 'the page shows a --break command and where it stops');
  const r = cli(args(cmd));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^at event ${claim[1]} \\(${claim[2]}\\), line ${claim[1]} of `, 'm'));
  assert.match(r.stdout, new RegExp(`^  ${(claim[3] as string).replace(/[()"]/g, '\\$&')}\\s+=\\s+${claim[4]}$`, 'm'));
  assert.match(r.stdout, new RegExp(`^  user\\.segment\\s+=\\s+"${claim[5]}"$`, 'm'));
});

test('docs/cli.md: the info --json and verify --json samples of cold-start are what the commands print', () => {
  const doc = page('docs/cli.md');
  const info = /```\n\$ recreplay info examples\/slices\/cold-start\.slice --json\n([\s\S]*?)```/.exec(doc)?.[1];
  const verify = /```\n\$ recreplay verify examples\/slices\/cold-start\.slice --json\n(.*)\n/.exec(doc)?.[1];
  assert.ok(info && verify, 'the page shows both samples');
  const r = cli(['info', 'examples/slices/cold-start.slice', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const actual = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(actual), [...info.matchAll(/^ {2}"(\w+)":/gm)].map((m) => m[1]), 'the same fields, in the same order');
  // Every field the sample gives whole (the folder is the reader's, the manifest is cut short).
  for (const [, key, value] of info.matchAll(/^ {2}"(\w+)": (.*?),?$/gm)) {
    if (key === 'dir' || key === 'manifest') continue;
    assert.deepEqual(actual[key as string], JSON.parse(value as string), `info --json: ${key}`);
  }
  const v = cli(['verify', 'examples/slices/cold-start.slice', '--json']);
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), verify);
});
