import { RANKER_KINDS } from '../core/rankers';

/**
 * Workspace trust for rankers. The built-in rankers only read data (logged scores, replay state,
 * JSON artifacts) and run anywhere; a ranker of any other kind the core can load (one that would
 * start a process or call an endpoint) runs code on the workspace's say-so, so it needs a trusted
 * workspace. Today the core loads only the built-in kinds.
 */
export const BUILT_IN_RANKER_KINDS = ['recorded', 'popularity', 'linear', 'embedding'] as const;

/** The kind of a ranker spec: `linear:rankers/m.json` → `linear`. */
export function rankerKind(spec: string): string {
  const colon = spec.indexOf(':');
  return (colon < 0 ? spec : spec.slice(0, colon)).trim();
}

/** Whether a ranker spec may run in an untrusted workspace. */
export function rankerAllowedUntrusted(spec: string): boolean {
  return (BUILT_IN_RANKER_KINDS as readonly string[]).includes(rankerKind(spec));
}

/** The kinds the core's loadRanker knows (`linear:PATH` → `linear`). */
const LOADABLE_KINDS: readonly string[] = RANKER_KINDS.map((k) => rankerKind(k));

/** Why a configuration cannot run in this workspace, or undefined when it can. */
export function trustProblem(specs: readonly (string | undefined)[], trusted: boolean): string | undefined {
  if (trusted) return undefined;
  const bad = specs.filter((s): s is string => s !== undefined && !rankerAllowedUntrusted(s));
  if (bad.length === 0) return undefined;
  // A kind the core cannot load (`linaer:m.json`, or one this version does not have) is no ranker
  // at all: say so, not that trusting the workspace would help.
  const unknown = bad.filter((b) => !LOADABLE_KINDS.includes(rankerKind(b)));
  if (unknown.length) return `Unknown ranker ${unknown.map((b) => `"${b}"`).join(' and ')}: use one of ${RANKER_KINDS.join(', ')}.`;
  return `The ranker ${bad.map((b) => `"${b}"`).join(' and ')} runs code outside the editor, which this untrusted workspace does not allow. Trust the workspace (Manage Workspace Trust), or use a built-in ranker: ${BUILT_IN_RANKER_KINDS.join(', ')}.`;
}
