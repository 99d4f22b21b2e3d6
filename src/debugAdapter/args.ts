import { METRIC_SERIES_REQUEST } from '../shared/dap';
import { shown } from '../core/errors';
import { AdapterError, ERROR_IDS } from './errors';

/** `count`: a whole number, 0 or more (a frame index, a number of frames). */
type Kind = 'string' | 'number' | 'integer' | 'count' | 'boolean';
/** The JSON type a request argument must have: `'string?'` is optional (absent or null). */
export type Spec = Kind | `${Kind}?` | { readonly each: Spec; readonly optional?: true } | { readonly fields: Fields; readonly optional?: true };
type Fields = Readonly<Record<string, Spec>>;

const list = (each: Spec, optional?: true): Spec => (optional ? { each, optional } : { each });
const obj = (fields: Fields, optional?: true): Spec => (optional ? { fields, optional } : { fields });

const SOURCE = obj({ path: 'string?', name: 'string?', sourceReference: 'integer?' });
const THREAD: Fields = { threadId: 'integer', granularity: 'string?' };

/**
 * The argument types of the requests the adapter serves (the DAP specification's, plus
 * recreplay/metricSeries). `launch` checks its own arguments (launchConfig.ts); requests not
 * listed take no arguments the adapter reads.
 */
const REQUEST_ARGS: Readonly<Record<string, Fields>> = {
  setBreakpoints: {
    source: SOURCE,
    breakpoints: list(obj({ line: 'integer', column: 'integer?', condition: 'string?', hitCondition: 'string?', logMessage: 'string?' }), true),
    lines: list('integer', true),
  },
  setFunctionBreakpoints: { breakpoints: list(obj({ name: 'string', condition: 'string?', hitCondition: 'string?' })) },
  setExceptionBreakpoints: { filters: list('string'), filterOptions: list(obj({ filterId: 'string', condition: 'string?' }), true) },
  dataBreakpointInfo: { name: 'string', variablesReference: 'integer?', frameId: 'integer?' },
  setDataBreakpoints: { breakpoints: list(obj({ dataId: 'string', accessType: 'string?', condition: 'string?', hitCondition: 'string?' })) },
  breakpointLocations: { source: SOURCE, line: 'integer', endLine: 'integer?', column: 'integer?', endColumn: 'integer?' },
  continue: THREAD,
  next: THREAD,
  stepIn: THREAD,
  stepOut: THREAD,
  stepBack: THREAD,
  reverseContinue: THREAD,
  pause: { threadId: 'integer' },
  cancel: { requestId: 'integer?', progressId: 'string?' },
  gotoTargets: { source: SOURCE, line: 'integer', column: 'integer?' },
  goto: { threadId: 'integer', targetId: 'integer' },
  restartFrame: { frameId: 'integer' },
  stackTrace: { threadId: 'integer', startFrame: 'count?', levels: 'count?' },
  scopes: { frameId: 'integer' },
  variables: { variablesReference: 'integer', start: 'integer?', count: 'integer?', filter: 'string?' },
  evaluate: { expression: 'string', frameId: 'integer?', context: 'string?' },
  completions: { text: 'string', column: 'integer', line: 'integer?', frameId: 'integer?' },
  exceptionInfo: { threadId: 'integer' },
  [METRIC_SERIES_REQUEST]: { metric: 'string', lane: 'string?', from: 'integer?', to: 'integer?', maxPoints: 'integer?', cumulative: 'boolean?', known: obj({ bucketSize: 'integer', buckets: 'count' }, true), faults: 'boolean?' },
};

const WHAT: Record<Kind, string> = { string: 'a string', number: 'a number', integer: 'a whole number', count: 'a whole number, 0 or more', boolean: 'true or false' };

/** The first type mismatch of `v` against `spec`, as a sentence naming the argument; undefined when it fits. */
function mismatch(v: unknown, spec: Spec, path: string): string | undefined {
  const optional = typeof spec === 'string' ? spec.endsWith('?') : spec.optional === true;
  if (v === undefined || v === null) return optional ? undefined : `"${path}" is missing`;
  if (typeof spec === 'string') {
    const kind = spec.replace('?', '') as Kind;
    const ok =
      kind === 'integer' ? Number.isInteger(v) : kind === 'count' ? Number.isInteger(v) && (v as number) >= 0 : kind === 'number' ? typeof v === 'number' && Number.isFinite(v) : typeof v === kind;
    return ok ? undefined : `"${path}" must be ${WHAT[kind]}, but it is ${shown(v)}`;
  }
  if ('each' in spec) {
    if (!Array.isArray(v)) return `"${path}" must be an array, but it is ${shown(v)}`;
    for (let i = 0; i < v.length; i++) {
      const m = mismatch(v[i], spec.each, `${path}[${i}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (typeof v !== 'object' || Array.isArray(v)) return `"${path}" must be an object, but it is ${shown(v)}`;
  return fieldsMismatch(v as Record<string, unknown>, spec.fields, `${path}.`);
}

function fieldsMismatch(v: Record<string, unknown>, fields: Fields, prefix: string): string | undefined {
  for (const [key, spec] of Object.entries(fields)) {
    const m = mismatch(v[key], spec, `${prefix}${key}`);
    if (m) return m;
  }
  return undefined;
}

/** Refuses (error 2006) arguments of the wrong JSON type before a handler sees them. */
export function checkArguments(command: string, args: unknown): void {
  // Own entries only: a command named 'constructor' or '__proto__' has no argument types.
  if (!Object.hasOwn(REQUEST_ARGS, command)) return;
  const fields = REQUEST_ARGS[command] as Fields;
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new AdapterError(`bad arguments for '${command}': the arguments must be an object, but they are ${shown(args)}`, ERROR_IDS.badArguments, false);
  const m = fieldsMismatch(args as Record<string, unknown>, fields, '');
  if (m) throw new AdapterError(`bad arguments for '${command}': ${m}`, ERROR_IDS.badArguments, false);
}
