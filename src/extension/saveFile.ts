import type * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';

/** What a save needs of vscode.workspace.fs (so it can be given another). */
export type SaveFs = Pick<vscode.FileSystem, 'writeFile' | 'rename' | 'delete'>;

/**
 * Writes `bytes` to `target` through a temp file beside it, renamed into place: a write that fails
 * part way (a full disk) leaves the file that was there, or none, never half of the new one. The
 * temp file is removed when anything fails.
 */
export async function saveThroughTemp(fs: SaveFs, target: vscode.Uri, bytes: Uint8Array): Promise<void> {
  const slash = target.path.lastIndexOf('/');
  const temp = target.with({ path: `${target.path.slice(0, slash + 1)}.${target.path.slice(slash + 1)}.${randomBytes(4).toString('hex')}.tmp` });
  try {
    await fs.writeFile(temp, bytes);
    await fs.rename(temp, target, { overwrite: true });
  } catch (e) {
    await Promise.resolve(fs.delete(temp)).catch(() => undefined);
    throw e;
  }
}
