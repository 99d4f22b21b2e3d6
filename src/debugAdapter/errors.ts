import type { DebugProtocol } from '@vscode/debugprotocol';
import { IntegrityError, UserError } from '../core/errors';
import { ChangedWhileOpenError } from '../core/slice/reader';
import { ExprError } from '../core/expr';

/** Error ids in DAP error responses; stable so clients and tests can tell them apart. */
export const ERROR_IDS = {
  launch: 2001,
  notLaunched: 2002,
  running: 2003,
  expression: 2004,
  unknownReference: 2005,
  badArguments: 2006,
  unsupported: 2007,
  slice: 2008,
  internal: 2099,
} as const;

/**
 * A request the adapter refuses with a sentence a user can act on. `showUser` decides whether
 * VS Code pops it up (launch errors) or only reports it where it was asked (watch, hover).
 */
export class AdapterError extends Error {
  constructor(
    message: string,
    readonly id: number = ERROR_IDS.badArguments,
    readonly showUser = true,
  ) {
    super(message);
  }
}

/** What to do about a modified slice, as a launch configuration says it. */
export const FORCE_HINT = 'Re-freeze the slice, restore the original file, or add "force": true to the launch configuration to replay it anyway.';

/** The DAP error message for anything a handler threw, and whether it was expected. */
/** Longest text the adapter sends as a message (an error, a breakpoint's reason): user text quoted whole made 400 KB answers. */
export const MAX_MESSAGE = 2000;

/** `text` at most MAX_MESSAGE characters: its start and its end (where the advice is), the middle said as cut. */
export function bounded(text: string, max = MAX_MESSAGE): string {
  if (text.length <= max) return text;
  const tail = Math.floor(max / 5);
  // Not between the two halves of a surrogate pair.
  let a = max - tail - 40;
  if (/[\uD800-\uDBFF]/.test(text[a - 1] ?? '')) a--;
  let b = text.length - tail;
  if (/[\uDC00-\uDFFF]/.test(text[b] ?? '')) b++;
  return `${text.slice(0, a)} … (${b - a} characters cut) … ${text.slice(b)}`;
}

export function toDapMessage(e: unknown, command: string): { message: DebugProtocol.Message; expected: boolean } {
  const r = toDapMessageWhole(e, command);
  r.message.format = bounded(r.message.format);
  return r;
}

function toDapMessageWhole(e: unknown, command: string): { message: DebugProtocol.Message; expected: boolean } {
  if (e instanceof AdapterError) return { message: { id: e.id, format: e.message, showUser: e.showUser }, expected: true };
  if (e instanceof ExprError) return { message: { id: ERROR_IDS.expression, format: e.describe(), showUser: true }, expected: true };
  // The core's advice for a modified slice names the CLI's --force, which no DAP client can pass:
  // here it is the launch argument.
  if (e instanceof IntegrityError && !(e instanceof ChangedWhileOpenError)) {
    const id = command === 'launch' ? ERROR_IDS.launch : ERROR_IDS.slice;
    return { message: { id, format: new UserError(e.message, e.where, FORCE_HINT, e.code).describe(), showUser: true }, expected: true };
  }
  if (e instanceof UserError) {
    const id = command === 'launch' ? ERROR_IDS.launch : ERROR_IDS.slice;
    return { message: { id, format: e.describe(), showUser: true }, expected: true };
  }
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT' || err?.code === 'EACCES' || err?.code === 'ENOTDIR') {
    return { message: { id: ERROR_IDS.slice, format: err.message, showUser: true }, expected: true };
  }
  const text = e instanceof Error ? e.message : String(e);
  return {
    message: { id: ERROR_IDS.internal, format: `internal error in the RecReplay adapter while handling '${command}': ${text} (the stack trace is in the adapter log)`, showUser: true },
    expected: false,
  };
}
