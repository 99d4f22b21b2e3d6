/**
 * Import first in every extension unit test: routes `require('vscode')` to the typed fake, since
 * the real module only exists inside the extension host.
 */
import Module from 'node:module';
import { join } from 'node:path';
import '../helpers';

const fake = join(__dirname, 'vscodeFake.ts');
type Resolve = (request: string, ...rest: unknown[]) => string;
const mod = Module as unknown as { _resolveFilename: Resolve };
const original = mod._resolveFilename;
mod._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
  return original.call(this, request === 'vscode' ? fake : request, ...rest);
};
