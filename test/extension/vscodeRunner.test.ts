import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findVsCode } from '../vscode/runTest';
import { tmp } from '../helpers';

test('test:vscode finds VS Code from $VSCODE_EXECUTABLE or a cached .vscode-test build, and nothing else', () => {
  const d = tmp();
  assert.equal(findVsCode({}, join(d, 'none')).path, undefined);
  const bin = join(d, 'code-bin');
  writeFileSync(bin, '');
  assert.equal(findVsCode({ VSCODE_EXECUTABLE: bin }, join(d, 'none')).path, bin);
  const missing = findVsCode({ VSCODE_EXECUTABLE: join(d, 'gone') }, join(d, 'none'));
  assert.equal(missing.path, undefined);
  assert.match(missing.looked.join(' '), /VSCODE_EXECUTABLE=.*gone/);
  const cache = join(d, '.vscode-test');
  mkdirSync(join(cache, 'vscode-linux-x64-1.100.3'), { recursive: true });
  assert.equal(findVsCode({}, cache).path, undefined, 'an empty build folder is not a build');
  writeFileSync(join(cache, 'vscode-linux-x64-1.100.3', 'code'), '');
  assert.equal(findVsCode({}, cache).path, join(cache, 'vscode-linux-x64-1.100.3', 'code'));
});
