import { printable } from '../shared/printable';
import type { DebugProtocol } from '@vscode/debugprotocol';

/** One child as a container describes it; the registry turns it into a DAP Variable. */
export interface VarSpec {
  name: string;
  value: string;
  type?: string;
  child?: Container;
  evaluateName?: string;
  /** Offered to "Break on Value Change" (dataBreakpointInfo). */
  dataId?: string;
  dataDescription?: string;
}

/** Something expandable: named children, or indexed children served a page at a time. */
export interface Container {
  /** Set for lists: the client pages through them with start/count. */
  readonly indexed?: number;
  /** Set for maps whose keys are data (a score per candidate): as many are served as for a list. */
  readonly named?: number;
  list(start: number, count: number): VarSpec[];
}

/** Children returned when a client asks for a list without paging: enough to see, never a whole catalogue. */
const UNPAGED_LIMIT = 500;
const PREVIEW = 80;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `prefix.key`, or `prefix["key"]` when the key is not an identifier. */
export function member(prefix: string | undefined, key: string): string | undefined {
  if (prefix === undefined) return undefined;
  return IDENT.test(key) ? `${prefix}.${key}` : `${prefix}[${JSON.stringify(key)}]`;
}

/** A number as people read it: up to 4 decimals, NaN and Infinity spelled out. */
export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(4)));
}

function isList(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}

/** A one-line preview of a value, clipped: nested lists and maps show their first entries. */
export function preview(v: unknown, depth = 0): string {
  let s: string;
  if (v === null || v === undefined) s = 'null';
  else if (typeof v === 'number') s = fmtNum(v);
  else if (typeof v === 'string') s = JSON.stringify(v);
  else if (typeof v === 'boolean') s = String(v);
  else if (depth > 1) s = isList(v) ? `[${v.length}]` : '{…}';
  else if (isList(v)) {
    const n = depth ? 3 : 10;
    s = `[${Array.from(v as ArrayLike<unknown>, (x) => preview(x, depth + 1)).slice(0, n).join(', ')}${v.length > n ? ', …' : ''}]`;
  } else if (typeof v === 'object') {
    const keys = Object.keys(v as object);
    const n = depth ? 3 : 8;
    s = `{${keys.slice(0, n).map((k) => `${k}: ${preview((v as Record<string, unknown>)[k], depth + 1)}`).join(', ')}${keys.length > n ? ', …' : ''}}`;
  } else s = String(v);
  return s.length > PREVIEW ? `${s.slice(0, PREVIEW - 1)}…` : s;
}

/** A plain value as a child: scalars inline, lists and objects expandable. */
export function valueSpec(name: string, v: unknown, evaluateName?: string): VarSpec {
  const spec: VarSpec = { name, value: preview(v), ...(evaluateName ? { evaluateName } : {}) };
  if (isList(v)) {
    spec.type = 'list';
    if (v.length > 0) spec.child = listContainer(v, evaluateName);
  } else if (typeof v === 'object' && v !== null) {
    spec.type = 'map';
    if (Object.keys(v).length > 0) spec.child = objectContainer(v as Record<string, unknown>, evaluateName);
  } else {
    spec.type = v === null || v === undefined ? 'null' : typeof v === 'boolean' ? 'bool' : typeof v;
  }
  return spec;
}

/**
 * Named children of an object, `start`/`count` of them: a map keyed by data (the scores of 30,000
 * candidates) is served a page at a time as lists are, not as one 1.7 MB answer.
 */
export function objectContainer(o: Record<string, unknown>, prefix?: string, extra?: (key: string, spec: VarSpec) => VarSpec): Container {
  let keys: string[] | undefined;
  const keysOf = () => (keys ??= Object.keys(o).filter((k) => o[k] !== undefined));
  return {
    get named() {
      return keysOf().length;
    },
    list: (start, count) =>
      keysOf()
        .slice(start, start + count)
        .map((k) => {
          const spec = valueSpec(k, o[k], member(prefix, k));
          return extra ? extra(k, spec) : spec;
        }),
  };
}

/** Indexed children of a list, paged. */
export function listContainer(a: ArrayLike<unknown>, prefix?: string): Container {
  return {
    indexed: a.length,
    list: (start, count) => {
      const out: VarSpec[] = [];
      for (let i = start; i < Math.min(a.length, start + count); i++) out.push(valueSpec(`[${i}]`, a[i], prefix === undefined ? undefined : `${prefix}[${i}]`));
      return out;
    },
  };
}

/** Named children computed when the client expands them. */
export function lazyContainer(make: () => VarSpec[]): Container {
  return { list: () => make() };
}

/**
 * Variable references of the current stop. They are only valid until the replay moves
 * (the client asks again after every stopped event), so `reset` drops them all.
 */
export class VariableRegistry {
  /** The client asked for types (initialize supportsVariableType): the spec says to send them only then. */
  withTypes = false;
  /** The client pages through lists (initialize supportsVariablePaging). */
  paging = false;
  private containers = new Map<number, Container>();
  private dataIds = new Map<number, Map<string, { dataId: string; description: string }>>();
  private next = 1;

  reset(): void {
    this.containers.clear();
    this.dataIds.clear();
  }

  /** Whether `ref` was ever given out (by this session): one that was, and is gone, belongs to an earlier stop. */
  issued(ref: number): boolean {
    return Number.isInteger(ref) && ref >= 1 && ref < this.next;
  }

  /** Registers a container and returns its reference. */
  add(c: Container): number {
    const ref = this.next++;
    this.containers.set(ref, c);
    return ref;
  }

  has(ref: number): boolean {
    return this.containers.has(ref);
  }

  /** A container's children as DAP variables, honouring the client's paging. */
  variables(ref: number, args: DebugProtocol.VariablesArguments): DebugProtocol.Variable[] | undefined {
    const c = this.containers.get(ref);
    if (c === undefined) return undefined;
    if (args.filter === 'named' && c.indexed !== undefined) return [];
    if (args.filter === 'indexed' && c.indexed === undefined) return [];
    const start = Math.max(0, args.start ?? 0);
    const paged = args.count !== undefined && args.count > 0;
    // Without a count the spec says all: a client that cannot page gets them all; one that can
    // (VS Code) gets a first page and a row that says how to get the rest.
    const count = paged ? (args.count as number) : this.paging ? UNPAGED_LIMIT : Number.MAX_SAFE_INTEGER;
    const specs = c.list(start, count);
    const out = specs.map((s) => this.toVariable(ref, s));
    const total = c.indexed ?? c.named;
    if (!paged && total !== undefined && total > start + count) {
      out.push({ name: '…', value: `${total - start - count} more: page with start/count`, variablesReference: 0 });
    }
    return out;
  }

  /** The data breakpoint id offered for child `name` of container `ref`. */
  dataIdOf(ref: number, name: string): { dataId: string; description: string } | undefined {
    const known = this.dataIds.get(ref)?.get(name);
    if (known !== undefined) return known;
    // The client may ask before it listed the children (a scope it has not expanded): look now.
    const spec = this.containers.get(ref)?.list(0, UNPAGED_LIMIT).find((s) => printable(s.name) === name);
    return spec?.dataId ? { dataId: spec.dataId, description: spec.dataDescription ?? spec.dataId } : undefined;
  }

  private toVariable(parent: number, s: VarSpec): DebugProtocol.Variable {
    // Names and values from the slice as the Variables view may draw them: a bidi override in an
    // item id (i_evil\u202e01_i reads i_evili_10) or a control character is shown as its escape.
    const v: DebugProtocol.Variable = { name: printable(s.name), value: printable(s.value), variablesReference: 0 };
    if (s.type && this.withTypes) v.type = s.type;
    if (s.evaluateName) v.evaluateName = s.evaluateName;
    if (s.child) {
      v.variablesReference = this.add(s.child);
      if (s.child.indexed !== undefined) v.indexedVariables = s.child.indexed;
    }
    if (s.dataId) {
      let m = this.dataIds.get(parent);
      if (!m) this.dataIds.set(parent, (m = new Map()));
      // Under the name the client was shown, which is the one it asks dataBreakpointInfo with.
      m.set(v.name, { dataId: s.dataId, description: s.dataDescription ?? s.dataId });
    }
    return v;
  }
}
