/**
 * JSON Schema of `slice.json`. This object is the source of truth; the build writes it to
 * `schemas/slice.schema.json`, which VS Code uses through `contributes.jsonValidation`.
 */
import { STAGES } from './types';

export const SHA256_PATTERN = '^[0-9a-f]{64}$';

const versionRef = {
  type: 'object',
  required: ['name', 'version'],
  properties: {
    name: { type: 'string', minLength: 1 },
    version: { type: 'string', minLength: 1 },
    sha256: { type: 'string', pattern: SHA256_PATTERN },
  },
  additionalProperties: false,
} as const;

const featureTypes = {
  type: 'object',
  additionalProperties: { enum: ['number', 'string', 'boolean'] },
} as const;

// RFC 3339 with a timezone, the form src/core/time.ts parseInstant reads (seconds optional).
// The shape parseInstant reads (src/core/time.ts): RFC 3339's T or t or a space between date and time, Z or z.
export const TIMESTAMP_PATTERN = '^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?([Zz]|[+-]\\d{2}:\\d{2})$';
const isoTime = { type: 'string', pattern: TIMESTAMP_PATTERN } as const;

// Only the six stages: a misspelt one would silently never be over budget.
const stageBudgets = {
  type: 'object',
  description: `Budget in ms of each stage (${STAGES.join(', ')}); a stage over its own is flagged stage_over_budget.`,
  properties: Object.fromEntries(STAGES.map((s) => [s, { type: 'number', minimum: 0 }])),
  additionalProperties: false,
} as const;

export const MANIFEST_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://recreplay.dev/schemas/slice.schema.json',
  title: 'RecReplay slice manifest (recreplay.slice/1)',
  type: 'object',
  required: ['format', 'name', 'description', 'frozenAt', 'source', 'clock', 'seed', 'versions', 'schema', 'files', 'redaction', 'faults'],
  properties: {
    format: { const: 'recreplay.slice/1', description: 'Slice format identifier.' },
    name: { type: 'string', minLength: 1, description: 'Short name of the slice.' },
    description: { type: 'string', description: 'What fault or window the slice holds.' },
    frozenAt: { ...isoTime, description: 'When the slice was frozen (RFC 3339 with a timezone, e.g. 2025-07-21T09:12:03Z).' },
    source: {
      type: 'object',
      required: ['kind'],
      properties: {
        kind: { enum: ['logs', 'synthetic', 'hybrid'] },
        query: { type: 'string' },
        window: { type: 'object', required: ['from', 'to'], properties: { from: isoTime, to: isoTime } },
        generator: { type: 'string' },
        fittedFrom: { type: 'string' },
      },
    },
    clock: {
      type: 'object',
      required: ['start', 'timezone'],
      properties: { start: isoTime, timezone: { type: 'string', minLength: 1 } },
    },
    seed: { type: 'integer', minimum: 0, maximum: 4294967295, description: 'Seed of every random stream in a replay.' },
    versions: {
      type: 'object',
      properties: { model: versionRef, preprocessing: versionRef, featurePipeline: versionRef, code: versionRef },
      additionalProperties: versionRef,
    },
    schema: {
      type: 'object',
      required: ['user', 'item', 'context', 'candidate'],
      properties: { user: featureTypes, item: featureTypes, context: featureTypes, candidate: featureTypes },
    },
    files: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['path', 'sha256', 'bytes'],
        properties: {
          path: { type: 'string', minLength: 1, description: 'Relative path inside the slice folder.' },
          sha256: { type: 'string', pattern: SHA256_PATTERN },
          // Counts past 2^53 are not integers a double holds (1e308 "is" one to JSON): no file has them.
          bytes: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          records: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          chunks: {
            type: 'object',
            required: ['size', 'sha256'],
            properties: {
              // 1 KiB to 1 GiB (hashing.ts): a chunk is read into one buffer.
              size: { type: 'integer', minimum: 1024, maximum: 1073741824 },
              sha256: { type: 'array', items: { type: 'string', pattern: SHA256_PATTERN } },
            },
          },
        },
      },
    },
    redaction: {
      type: 'object',
      required: ['identifiers', 'dropped'],
      properties: { identifiers: { type: 'string' }, dropped: { type: 'array', items: { type: 'string' } } },
    },
    faults: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kind', 'event'],
        properties: { kind: { type: 'string' }, event: { type: 'string' }, note: { type: 'string' } },
      },
    },
    pipeline: {
      type: 'object',
      required: ['k', 'budgetMs'],
      properties: {
        k: { type: 'integer', minimum: 1 },
        budgetMs: { type: 'number', exclusiveMinimum: 0 },
        stageBudgetMs: stageBudgets,
        staleAfterSec: { type: 'number', minimum: 0 },
        maxPerCategory: { type: 'integer', minimum: 0 },
      },
      // A misspelt key ("staleAfterSecs") would leave its field at the default, silently.
      additionalProperties: false,
    },
  },
} as const;
