import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { parseLaunchArguments } from '../../src/debugAdapter/launchConfig';
import { AdapterError } from '../../src/debugAdapter/errors';

test('a launch "slice" or "trace" given as a file:// URI is its path; one starting with "~" is said not to be expanded (both read as folders under cwd: "no slice.json in /cwd/file:/…")', () => {
  const cfg = parseLaunchArguments({ slice: pathToFileURL('/data/my slices/a.slice').href, trace: 'file:///tmp/out' }, '/work');
  assert.equal(cfg.slice, '/data/my slices/a.slice');
  assert.equal(cfg.trace, '/tmp/out');
  for (const [args, field] of [[{ slice: '~/x.slice' }, 'slice'], [{ slice: '/a.slice', trace: '~' }, 'trace']] as const) {
    assert.throws(
      () => parseLaunchArguments(args, '/work'),
      (e: unknown) => e instanceof AdapterError && e.message.startsWith(`launch argument "${field}" starts with "~", which is not expanded: write \${userHome}`),
    );
  }
  assert.throws(() => parseLaunchArguments({ slice: 'file://host/x.slice' }, '/work'), (e: unknown) => e instanceof AdapterError && /launch argument "slice" is the URI "file:\/\/host\/x\.slice", which is no file path/.test(e.message));
  // Relative and absolute paths as before.
  assert.equal(parseLaunchArguments({ slice: 'a.slice' }, '/work').slice, '/work/a.slice');
  assert.equal(parseLaunchArguments({ slice: '/x/a.slice' }, '/work').slice, '/x/a.slice');
});
