import { readFileSync, statSync } from 'node:fs';
import { UserError } from '../errors';
import { sha256 } from '../slice/hashing';

/**
 * The largest ranker artifact read (256 MiB): it is parsed as one JSON text, and V8's strings stop
 * at ~512 M characters, past which JSON.parse can only fail with a message about string length.
 */
export const MAX_ARTIFACT_BYTES = 256 * 1024 * 1024;

/** Reads a JSON artifact; errors name the file and what to fix. */
export function readArtifact(path: string, kind: string): { value: Record<string, unknown>; sha256: string } {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) {
    throw new UserError(`${kind} artifact not found`, { file: path }, `Check the path after "${kind}:" (relative to the current folder).`, 'E_ARTIFACT');
  }
  if (!st.isFile()) {
    throw new UserError(`${kind} artifact is ${st.isDirectory() ? 'a folder' : 'not a regular file'}`, { file: path }, `Give the path of the JSON file after "${kind}:".`, 'E_ARTIFACT');
  }
  if (st.size > MAX_ARTIFACT_BYTES) {
    throw new UserError(
      `${kind} artifact is ${(st.size / 2 ** 20).toFixed(0)} MiB, over the ${MAX_ARTIFACT_BYTES / 2 ** 20} MiB an artifact may have`,
      { file: path },
      kind === 'embedding' ? 'Keep only the vectors of the users and items the slice holds (the ranker reads no others).' : 'An artifact is read whole as one JSON text: make it smaller.',
      'E_ARTIFACT',
    );
  }
  const bytes = readFileSync(path);
  let value: unknown;
  try {
    // A byte-order mark (an editor's "UTF-8 with BOM") is not JSON, but says nothing: it is skipped, as in slice.json.
    const text = bytes.toString('utf8');
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw new UserError(`${kind} artifact is not valid JSON: ${(e as Error).message}`, { file: path }, undefined, 'E_ARTIFACT');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UserError(`${kind} artifact must be a JSON object`, { file: path }, undefined, 'E_ARTIFACT');
  }
  return { value: value as Record<string, unknown>, sha256: sha256(bytes) };
}

/** A wrong-shape error for one artifact field. */
export function shapeError(path: string, field: string, message: string, hint?: string): UserError {
  return new UserError(message, { file: path, field }, hint, 'E_ARTIFACT');
}
