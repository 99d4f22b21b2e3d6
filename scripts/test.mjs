// Runs every test file under test/ with Node's own test runner (TypeScript through tsx).
// Node 20's `--test` takes no globs, so the files are listed here.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (name === 'e2e' || name === 'fixtures' || name === 'node_modules') continue;
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

// Some tests run the built bundles (dist/cli.js, the debug adapter, the extension). `npm test`
// builds first; a filtered run (`node scripts/test.mjs cli`) builds too when any source is newer
// than the oldest bundle, so no test ever runs yesterday's build.
function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    t = Math.max(t, st.isDirectory() ? newest(p) : st.mtimeMs);
  }
  return t;
}
const bundles = ['dist/cli.js', 'dist/extension.js', 'dist/debugAdapter.js', 'dist/replayWorker.js', 'dist/webview/timeline.js'];
const built = bundles.every((b) => existsSync(b)) ? Math.min(...bundles.map((b) => statSync(b).mtimeMs)) : 0;
const sources = Math.max(newest('src'), newest('media'), statSync('scripts/build.mjs').mtimeMs, statSync('package.json').mtimeMs);
if (built < sources) {
  process.stderr.write('dist/ is older than the sources: building first (npm run build)\n');
  const b = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

const filter = process.argv.slice(2);
let files = collect('test', []);
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
