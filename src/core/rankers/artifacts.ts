import { readFileSync, statSync } from 'node:fs';
import { UserError } from '../errors';
import { sha256 } from '../slice/hashing';

/** Reads a JSON artifact; errors name the file and what to fix. */
export function readArtifact(path: string, kind: string): { value: Record<string, unknown>; sha256: string } {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) {
    throw new UserError(`${kind} artifact not found`, { file: path }, `Check the path after "${kind}:" (relative to the current folder).`, 'E_ARTIFACT');
  }
  if (!st.isFile()) {
    throw new UserError(`${kind} artifact is ${st.isDirectory() ? 'a folder' : 'not a regular file'}`, { file: path }, `Give the path of the JSON file after "${kind}:".`, 'E_ARTIFACT');
  }
  const bytes = readFileSync(path);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
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
