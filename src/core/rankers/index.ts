import { resolve } from 'node:path';
import { UserError } from '../errors';
import type { Slice } from '../slice/reader';
import { PopularityRanker, RecordedRanker } from './builtin';
import { EmbeddingRanker } from './embedding';
import { LinearRanker } from './linear';
import type { Ranker } from './types';
import { runSteps, type StepRunner, type Steps } from '../steps';

export type { Ranker, RankerInfo, ScoreRequest } from './types';
export const RANKER_KINDS = ['recorded', 'popularity', 'linear:PATH', 'embedding:PATH'] as const;

/** Builds a ranker from a spec such as `recorded`, `popularity`, `linear:model.json`, `embedding:vec.json`. */
export function loadRanker(spec: string, opts: { cwd?: string; slice?: Slice } = {}): Ranker {
  return runSteps(loadRankerSteps(spec, opts));
}

/** loadRanker in slices of work (see steps.ts): an embedding ranker over a million items takes seconds. */
export function* loadRankerSteps(spec: string, opts: { cwd?: string; slice?: Slice } = {}): Steps<Ranker> {
  return (yield* loadWith(spec, opts, (path) => EmbeddingRanker.loadSteps(path, opts.slice))) as Ranker;
}

/**
 * loadRanker for a thread that must stay responsive (the editor's extension host): the slices of
 * work run a pause of `runner` apart, and an embedding artifact is read and parsed on a thread of
 * its own (~2 s for a 150 MB artifact, which no slicing splits).
 */
export async function loadRankerAsync(spec: string, opts: { cwd?: string; slice?: Slice } = {}, runner?: StepRunner): Promise<Ranker> {
  let embedding: string | undefined;
  const ranker = runSteps(
    loadWith(spec, opts, (path) => {
      embedding = path;
      return undefined;
    }),
  );
  return ranker ?? EmbeddingRanker.loadAsync(embedding as string, opts.slice, runner);
}

/** The ranker a spec names; `embedding` gives the steps that load that kind (undefined: the caller loads it, and so gets undefined). */
function* loadWith(spec: string, opts: { cwd?: string; slice?: Slice }, embedding: (path: string) => Steps<Ranker> | undefined): Steps<Ranker | undefined> {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const arg = colon < 0 ? '' : spec.slice(colon + 1);
  const path = () => {
    if (!arg) throw new UserError(`ranker "${kind}" needs an artifact path`, { field: 'ranker' }, `Write ${kind}:PATH, e.g. ${kind}:rankers/model.json.`, 'E_RANKER');
    return resolve(opts.cwd ?? process.cwd(), arg);
  };
  switch (kind) {
    case 'recorded':
    case 'popularity':
      // `popularity:x` is not a popularity ranker with a setting: there is none to set.
      if (colon >= 0) throw new UserError(`ranker "${kind}" takes no argument, got "${spec}"`, { field: 'ranker' }, `Write ${kind}; only ${RANKER_KINDS.filter((k) => k.includes(':')).join(' and ')} take a path.`, 'E_RANKER');
      return kind === 'recorded' ? new RecordedRanker() : new PopularityRanker();
    case 'linear':
      return new LinearRanker(path(), opts.slice);
    case 'embedding': {
      const steps = embedding(path());
      return steps ? yield* steps : undefined;
    }
    default:
      throw new UserError(`unknown ranker "${spec}"`, { field: 'ranker' }, `Use one of: ${RANKER_KINDS.join(', ')}.`, 'E_RANKER');
  }
}
