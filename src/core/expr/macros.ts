import type { Macro } from './ast';
import { absorb, notBool, type Fn } from './operators';
import { fail, isMap, mapKeys, typeName } from './values';
import { ExprError, WorkLimitError } from './errors';
import { MAX_MACRO_STEPS, work as budget } from './budget';

// A module-local alias: under a CommonJS transform an import is a property read at every use (see links.ts).
const work = budget;
export { MAX_MACRO_STEPS, work };

/** The elements a macro ranges over: a list's items or a map's keys (as in CEL). */
function range(e: Macro, v: unknown): readonly unknown[] {
  if (Array.isArray(v)) return v;
  if (isMap(v)) return mapKeys(v);
  return fail(e.target, `${e.macro}() needs a list or a map, got ${typeName(v)}`);
}

function step(e: Macro): void {
  if (--work.left < 0) throw new WorkLimitError('runtime', `${e.macro}() and the macros around it visit more than ${MAX_MACRO_STEPS.toLocaleString('en-US')} elements in one evaluation: nest fewer macros, or filter first`, e.start, e.end);
}

/**
 * Expands a macro into a loop writing its variable to `slot`. `exists` and `all` absorb errors
 * like `||` and `&&` do (one true element decides `exists` even if another errs); the others
 * stop at the first error.
 */
export function compileMacro(e: Macro, target: Fn, slot: number, filter: Fn | null, body: Fn): Fn {
  const pred = `the predicate of ${e.macro}()`;
  switch (e.macro) {
    case 'exists':
    case 'all': {
      const decisive = e.macro === 'exists';
      return (s, locals) => {
        const items = range(e, target(s, locals));
        let i = 0;
        let err: ExprError | undefined;
        // Fast path without a try per element; the first error moves to the absorbing loop below.
        try {
          for (; i < items.length; i++) {
            locals[slot] = items[i];
            step(e);
            const v = body(s, locals);
            if (v === decisive) return decisive;
            if (v !== !decisive) {
              err = notBool(e.body, v, pred);
              break;
            }
          }
        } catch (x) {
          err = absorb(x);
        }
        if (err === undefined) return !decisive;
        for (i++; i < items.length; i++) {
          locals[slot] = items[i];
          step(e);
          let v: unknown;
          try {
            v = body(s, locals);
          } catch (x) {
            absorb(x);
            continue;
          }
          if (v === decisive) return decisive;
        }
        throw err;
      };
    }
    case 'exists_one':
      return (s, locals) => {
        const items = range(e, target(s, locals));
        let n = 0;
        for (let i = 0; i < items.length; i++) {
          locals[slot] = items[i];
          step(e);
          const v = body(s, locals);
          if (v === true) n++;
          else if (v !== false) throw notBool(e.body, v, pred);
        }
        return n === 1;
      };
    case 'filter':
      return (s, locals) => {
        const items = range(e, target(s, locals));
        const out: unknown[] = [];
        for (let i = 0; i < items.length; i++) {
          locals[slot] = items[i];
          step(e);
          const v = body(s, locals);
          if (v === true) out.push(items[i]);
          else if (v !== false) throw notBool(e.body, v, pred);
        }
        return out;
      };
    case 'map':
      return (s, locals) => {
        const items = range(e, target(s, locals));
        const out: unknown[] = [];
        for (let i = 0; i < items.length; i++) {
          locals[slot] = items[i];
          step(e);
          if (filter !== null) {
            const keep = filter(s, locals);
            if (keep === false) continue;
            if (keep !== true) throw notBool(e.filter ?? e.body, keep, 'the filter of map()');
          }
          out.push(body(s, locals));
        }
        return out;
      };
  }
}
