import { readFileSync, statSync } from 'node:fs';
import { UserError, jsonSyntaxError, shown, shownName } from '../errors';
import { sha256 } from '../slice/hashing';
import { fileText } from '../slice/utf8';

/** How many keys written twice are listed one by one (the rest are counted). */
export const MAX_REPEATS = 10;

/**
 * Keys an artifact writes twice in one object (manifest.ts repeatedKeys), as warnings: JSON.parse
 * keeps the last, so a weight or a vector given twice (two exports merged, a hand edit) was used
 * with its second value, and a second "weights" or "items" object replaced the first whole,
 * without a word (slice.json says so of its own repeated keys). `limit`: how many were collected
 * (past it, the count is "at least"); `count`: how many there are, when `repeats` holds only the first.
 */
export function repeatWarnings(repeats: readonly { field: string; line: number }[], limit = Infinity, count = repeats.length): string[] {
  const out = repeats.slice(0, MAX_REPEATS).map((r) => `line ${r.line}: "${shownName(r.field)}" is written twice in one object; JSON keeps the last one, so the first is ignored: remove one of them`);
  if (count > MAX_REPEATS) out.push(`and ${count >= limit ? 'at least ' : ''}${count - MAX_REPEATS} more keys written twice`);
  return out;
}

/**
 * The largest ranker artifact read (256 MiB): it is parsed as one JSON text, and V8's strings stop
 * at ~512 M characters, past which JSON.parse can only fail with a message about string length.
 */
export const MAX_ARTIFACT_BYTES = 256 * 1024 * 1024;

/** Reads a JSON artifact (its object, sha256 and text as parsed); errors name the file and what to fix. */
export function readArtifact(path: string, kind: string): { value: Record<string, unknown>; sha256: string; text: string } {
  checkArtifactFile(path, kind);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw unreadable(e, path, kind);
  }
  return parseArtifact(bytes, path, kind);
}

/** A file system error reading an artifact, said as the artifact's (EACCES printed Node's own words, with no hint). */
function unreadable(e: unknown, path: string, kind: string): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') {
    return new UserError(`${kind} artifact cannot be read: permission denied (${code})`, { file: path }, 'Check the permissions of the file and of its folders: the user running recreplay must be able to read them.', 'E_UNREADABLE');
  }
  if (code === 'ENOENT') return new UserError(`${kind} artifact not found`, { file: path }, `Check the path after "${kind}:" (relative to the current folder).`, 'E_ARTIFACT');
  if (code === 'ENOTDIR') return new UserError(`${kind} artifact not found: a part of its path is a file, not a folder`, { file: path }, `Check the path after "${kind}:".`, 'E_ARTIFACT');
  if (code === 'EISDIR') return new UserError(`${kind} artifact is a folder`, { file: path }, `Give the path of the JSON file after "${kind}:".`, 'E_ARTIFACT');
  return e;
}

/**
 * Artifacts of fewer bytes than this are read on the caller's thread even by the async loaders: a
 * thread's start cost the editor ~40 ms, where the read takes a few (a 64 KiB linear artifact, ~1,500
 * weights: under 15 ms, cold). Tests lower it to 0 to send every artifact to a thread.
 */
export const artifactThreads = { from: 64 * 1024 };

/** That the artifact is there, a file, and not too large to read whole (readArtifact's first checks); its size in bytes. */
export function checkArtifactFile(path: string, kind: string): number {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path, { throwIfNoEntry: false });
  } catch (e) {
    throw unreadable(e, path, kind);
  }
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
  return st.size;
}

/** An artifact's bytes as its JSON object, with its sha256 and text; errors name the file, line and column. */
function parseArtifact(bytes: Buffer, path: string, kind: string): { value: Record<string, unknown>; sha256: string; text: string } {
  let value: unknown;
  // A byte-order mark (an editor's "UTF-8 with BOM") is not JSON, but says nothing: it is skipped, as in slice.json.
  // Not UTF-8 (a Latin-1 "é"): refused with the line and column, as slice files are; decoded to U+FFFD, "café" and "cafè" became one weight.
  const whole = fileText(bytes, path);
  const text = whole.charCodeAt(0) === 0xfeff ? whole.slice(1) : whole;
  const example = kind === 'linear' ? '{"weights": {"ctr_7d": 4.0}, "bias": -1}' : kind === 'embedding' ? '{"dim": 16, "users": {"u1": [...]}, "items": {"i1": [...]}}' : 'an object';
  // An export cut off before it wrote anything (a full disk, a `>` redirect of a failed command) read
  // "not valid JSON: Unexpected end of JSON input" at 1:1, and asked to fix the JSON there.
  if (text.trim() === '') {
    throw new UserError(
      `${kind} artifact is empty (${bytes.length === 0 ? '0 bytes' : `${bytes.length} bytes, none of them JSON`})`,
      { file: path },
      `Write the artifact again (the export that made it may have failed): one JSON object, e.g. ${example}.`,
      'E_ARTIFACT',
    );
  }
  try {
    value = JSON.parse(text);
  } catch (e) {
    const { reason, line, column } = jsonSyntaxError(text, e);
    const nan = /\bNaN\b|Infinity/.test(text) ? ' NaN and Infinity are not JSON numbers: write a number (or leave the entry out).' : '';
    throw new UserError(`${kind} artifact is not valid JSON: ${reason}`, { file: path, line, column }, `Fix the JSON at that line and column (the artifact is one JSON object, e.g. ${example}).${nan}`, 'E_ARTIFACT');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UserError(`${kind} artifact must be a JSON object, got ${shown(value)}`, { file: path }, `Write the artifact as one JSON object, e.g. ${example}.`, 'E_ARTIFACT');
  }
  return { value: value as Record<string, unknown>, sha256: sha256(bytes), text };
}

/** A wrong-shape error for one artifact field. */
export function shapeError(path: string, field: string, message: string, hint?: string): UserError {
  return new UserError(message, { file: path, field }, hint, 'E_ARTIFACT');
}
