import { UserError, shown } from '../errors';
import { checkRecord } from './events';
import type { FeatureType, ItemRecord, UserRecord } from './types';

// Records as the lines writeSlice writes: JSON that reads back as what was given (no number
// silently turned into null), checked as the reader will check it.

const NOT_FINITE_HINT = 'Write null for a missing value, or fix the producer of the record.';

/** Keys from the record down to the value hasNonFinite found (reused: no allocation while all is well). */
const pathKeys: (string | number)[] = [];

/** Whether hasNonFinite met an object with a toJSON (what is written is then not what it walked). */
let sawToJSON = false;

function hasNonFinite(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (typeof v !== 'object' || v === null) return false;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') sawToJSON = true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      pathKeys.push(i);
      if (hasNonFinite(v[i])) return true;
      pathKeys.pop();
    }
    return false;
  }
  for (const k in v) {
    pathKeys.push(k);
    if (hasNonFinite((v as Record<string, unknown>)[k])) return true;
    pathKeys.pop();
  }
  return false;
}

/**
 * JSON.stringify writes NaN and ±Infinity as null, silently changing the record: any such number,
 * however deep, is refused with its path (e.g. `system.latencyMs.score`).
 */
function checkFinite(value: unknown, file: string, record: number): void {
  pathKeys.length = 0;
  if (!hasNonFinite(value)) return;
  const field = pathKeys.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
  let v: unknown = value;
  for (const k of pathKeys) v = (v as Record<string | number, unknown>)[k];
  throw new UserError(`${field} is ${String(v)}, which JSON cannot hold (it would be written as null)`, { file, line: record, field }, NOT_FINITE_HINT);
}

/**
 * A record as the line it will be written as. What is checked is that line read back, not the
 * object: a getter, a toJSON or a class instance writes something else than it shows.
 */
export function lineOf(value: unknown, file: string, record: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    // Valid JSON all the same, but deeper than JSON.stringify goes (a few thousand levels): "Maximum
    // call stack size exceeded" and a hint about kinds of values said nothing of what to change.
    if (e instanceof RangeError) {
      throw new UserError(`${file} record ${record} is nested too deeply to be written as JSON (objects or arrays inside one another a few thousand levels deep)`, { file, line: record }, 'Flatten the record: a field of a few levels holds what a deep nest does (an event\'s extra fields are kept and shown as they are).');
    }
    // A BigInt, a cycle: JSON cannot hold it.
    throw new UserError(`${file} record ${record} cannot be written as JSON: ${(e as Error).message}`, { file, line: record }, 'Records hold JSON values only: numbers, strings, booleans, null, arrays and plain objects.');
  }
  if (typeof text !== 'string') throw new UserError(`${file} record ${record} is ${String(value)}, not a JSON object`, { file, line: record }, 'Pass one plain object per record.');
  sawToJSON = false;
  checkFinite(value, file, record);
  if (sawToJSON) {
    // A toJSON may return what the walk above never saw: the values as written are checked too.
    let bad: string | undefined;
    JSON.stringify(value, (k, v: unknown) => {
      if (bad === undefined && typeof v === 'number' && !Number.isFinite(v)) bad = k;
      return v;
    });
    if (bad !== undefined) throw new UserError(`${bad} is not finite in ${file} record ${record} as its toJSON writes it (it would be written as null)`, { file, line: record, field: bad }, NOT_FINITE_HINT);
  }
  return text;
}

/**
 * Items and users, as written: each line gets the reader's checks (so the slice opens) and the
 * finite-number check. The bytes are gathered in parts of at most 32 MiB of text: a catalogue
 * joined into one string failed past ~512 MiB with a bare "Invalid string length".
 */
export function recordLines(records: unknown, file: 'items' | 'users', types?: Readonly<Record<string, FeatureType>>): { text: Buffer; rows: (ItemRecord | UserRecord)[] } {
  if (!Array.isArray(records)) throw new UserError(`${file} must be an array of records, got ${shown(records)}`, { field: file }, `Pass the ${file} as an array (e.g. [...set]).`);
  const kind = file === 'items' ? 'item' : 'user';
  const parts: Buffer[] = [];
  let lines: string[] = [];
  let pending = 0;
  const rows: (ItemRecord | UserRecord)[] = [];
  for (let i = 0; i < records.length; i++) {
    const line = lineOf(records[i], file, i + 1);
    const row: unknown = JSON.parse(line);
    checkRecord(row, file, i + 1, kind, types);
    lines.push(line + '\n');
    pending += line.length + 1;
    if (pending >= 32 * 1024 * 1024) {
      parts.push(Buffer.from(lines.join('')));
      lines = [];
      pending = 0;
    }
    rows.push(row as ItemRecord | UserRecord);
  }
  parts.push(Buffer.from(lines.join('')));
  return { text: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), rows };
}
