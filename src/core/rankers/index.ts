import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors';
import { ChangedWhileOpenError, type Slice } from '../slice/reader';
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
  const artifact = (kind: 'linear' | 'embedding', path: string): Steps<Ranker> =>
    kind === 'embedding'
      ? EmbeddingRanker.loadSteps(path, opts.slice)
      : // eslint-disable-next-line require-yield -- the synchronous loader reads a linear artifact in one piece, as it always has (the CLI has no thread to keep free)
        (function* () {
          return new LinearRanker(path, opts.slice);
        })();
  return checkSliceArtifact((yield* loadWith(spec, opts, artifact)) as Ranker, opts.slice);
}

/**
 * A ranker whose artifact is one of the slice's own files (`linear:my.slice/artifacts/model.json`),
 * read after the slice checked it: the bytes it was built from must still be the ones the manifest
 * lists. Changed in between, the run record said the slice was intact while the ranker had read
 * other weights (its artifact sha256 not the manifest's).
 */
function checkSliceArtifact<R extends Ranker>(ranker: R, slice: Slice | undefined): R {
  const { artifact, artifactSha256 } = ranker.info;
  if (slice === undefined || artifact === undefined || artifactSha256 === undefined) return ranker;
  let rel: string;
  try {
    rel = relative(realpathSync(slice.dir), realpathSync(artifact));
  } catch {
    // Gone meanwhile: what the ranker read is hashed in its info all the same, and the file is no longer the slice's.
    return ranker;
  }
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return ranker;
  const path = rel.split(sep).join('/');
  const entry = slice.manifest.files.find((f) => f.path === path);
  // A forced replay of a slice found modified says so already; a file the manifest does not list is not the slice's.
  if (entry === undefined || entry.sha256 === artifactSha256 || slice.modified.has(entry.path)) return ranker;
  void ranker.dispose?.();
  throw new ChangedWhileOpenError(entry.path, slice.dir, 'the ranker read it with another sha256 than the manifest lists');
}

/**
 * loadRanker for a thread that must stay responsive (the editor's extension host): the slices of
 * work run a pause of `runner` apart, and an embedding artifact is read and parsed on a thread of
 * its own (~2 s for a 150 MB artifact, which no slicing splits).
 */
export async function loadRankerAsync(spec: string, opts: { cwd?: string; slice?: Slice } = {}, runner?: StepRunner): Promise<Ranker> {
  let artifact: { kind: 'linear' | 'embedding'; path: string } | undefined;
  const ranker = runSteps(
    loadWith(spec, opts, (kind, path) => {
      artifact = { kind, path };
      return undefined;
    }),
  );
  if (artifact === undefined) return checkSliceArtifact(ranker as Ranker, opts.slice);
  // A linear artifact of a million hashed weights held the extension host ~3.5 s in one piece: it too is read on a thread of its own.
  const load = artifact.kind === 'linear' ? LinearRanker.loadAsync : EmbeddingRanker.loadAsync;
  return checkSliceArtifact(await load(artifact.path, opts.slice, runner), opts.slice);
}

/**
 * The ranker a spec names; `artifact` gives the steps that load an artifact's kind (undefined: the
 * caller loads it, and so gets undefined).
 */
function* loadWith(spec: string, opts: { cwd?: string; slice?: Slice }, artifact: (kind: 'linear' | 'embedding', path: string) => Steps<Ranker> | undefined): Steps<Ranker | undefined> {
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
    case 'embedding': {
      const steps = artifact(kind, path());
      return steps ? yield* steps : undefined;
    }
    default:
      throw new UserError(`unknown ranker "${spec}"`, { field: 'ranker' }, `Use one of: ${RANKER_KINDS.join(', ')}.`, 'E_RANKER');
  }
}
