import { shownName } from '../errors';
import { suggest } from '../expr/suggest';
import type { FeatureType } from '../slice/types';
import { RECORDS_PER_STEP, type Steps } from '../steps';

/** The keys a linear artifact may have; any other is reported (a misspelt "bais" was silently a bias of 0). */
const ARTIFACT_KEYS = ['format', 'name', 'version', 'weights', 'bias', 'sigmoid'];
/** What `online.NAME` can read (ReplayState.online). */
const ONLINE = ['impressions', 'clicks', 'ctr'];
/** User fields featureReader reads after the user's features. */
const USER_FIELDS = ['id', 'segment'];

/**
 * What is odd about these weights for this slice: a weight whose feature the slice's schema does
 * not have (it adds 0 to every score — a typo, usually), and a plain weight on a string feature
 * (it adds nothing: a one-hot "name=value" term weighs a string). Unknown top-level keys too.
 */
export function* linearWarnings(keys: readonly string[], names: readonly string[], schema: Readonly<Record<'user' | 'item' | 'context' | 'candidate', Readonly<Record<string, FeatureType>>>>): Steps<string[]> {
  const out: string[] = [];
  // Past MAX_LISTED the weights are counted by problem, not listed: an artifact of a million
  // hashed features printed a million lines (190 MB of warnings) before the run.
  const more = { absent: 0, string: 0, never: 0 };
  let listed = 0;
  const warn = (kind: keyof typeof more, text: () => string) => {
    if (listed++ < MAX_LISTED) out.push(text());
    else more[kind]++;
  };
  for (const k of keys) {
    if (!ARTIFACT_KEYS.includes(k)) out.push(`the artifact's key "${shownName(k)}" is not one the linear ranker reads, and is ignored${hint(suggest(k, ARTIFACT_KEYS))}`);
  }
  for (let i = 0; i < names.length; i++) {
    if (i % RECORDS_PER_STEP === RECORDS_PER_STEP - 1) yield;
    const name = names[i] as string;
    const eq = name.indexOf('=');
    const base = eq > 0 ? name.slice(0, eq) : name;
    // As featureReader reads names: only user., context. and online. are scopes; "price.eur" is a feature.
    const dot = base.indexOf('.');
    const head = dot > 0 ? base.slice(0, dot) : '';
    const scope = head === 'user' || head === 'context' || head === 'online' ? head : '';
    const key = scope ? base.slice(dot + 1) : base;
    let known: string[];
    let type: FeatureType | undefined;
    if (scope === 'user') {
      known = [...Object.keys(schema.user), ...USER_FIELDS];
      // The user's features are read first (featureReader): a feature named like a field is the one scored.
      type = schema.user[key] ?? (USER_FIELDS.includes(key) ? 'string' : undefined);
    } else if (scope === 'context') {
      known = Object.keys(schema.context);
      type = schema.context[key];
    } else if (scope === 'online') {
      known = ONLINE;
      type = ONLINE.includes(key) ? 'number' : undefined;
    } else {
      known = [...new Set([...Object.keys(schema.candidate), ...Object.keys(schema.item)])];
      // A candidate's value wins over the item's (featureReader): its type is the one read first.
      type = Object.hasOwn(schema.candidate, base) ? schema.candidate[base] : Object.hasOwn(schema.item, base) ? schema.item[base] : undefined;
    }
    const has = scope === '' ? known.includes(base) : known.includes(key);
    if (!has) {
      // (The near name is looked for only for a warning listed: a million suggest() calls took seconds.)
      warn('absent', () => {
        const near = suggest(scope === '' ? base : key, known);
        return `weight "${shownName(name)}": the manifest's schema lists no feature "${shownName(base)}" — if the records lack it too, it adds 0 to every score${hint(near === undefined ? undefined : scope === '' ? near : `${scope}.${near}`)}`;
      });
    } else if (eq < 0 && type === 'string') {
      warn('string', () => `weight "${shownName(name)}" is on a feature the manifest types "string": a weight multiplies numbers only, so its other values add 0; weigh one value with a one-hot term, e.g. "${shownName(base)}=VALUE"`);
    } else if (eq > 0) {
      const never = neverMatches(base, name.slice(eq + 1), type);
      if (never !== undefined) warn('never', () => `weight "${shownName(name)}" never matches: ${never}`);
    }
  }
  const counted = [
    more.absent ? `${more.absent} on features the manifest's schema lists none of` : '',
    more.string ? `${more.string} plain weights on string features` : '',
    more.never ? `${more.never} one-hot terms that never match` : '',
  ].filter(Boolean);
  if (counted.length) out.push(`and ${more.absent + more.string + more.never} more weights like these: ${counted.join(', ')}`);
  return out;
}

/** How many weights are warned about one by one (the rest are counted). */
const MAX_LISTED = 10;

const hint = (s: string | undefined) => (s === undefined ? '' : `; did you mean "${s}"?`);

/**
 * Why the one-hot term `base=text` can never hold for a feature of this type, and what to write
 * instead; undefined when it can. Scoring compares String(value) with the text: a number's is
 * JavaScript's shortest ("1", not "1.0"; "0.5", not ".5"), a boolean's "true" or "false".
 */
function neverMatches(base: string, text: string, type: FeatureType | undefined): string | undefined {
  const b = shownName(base);
  if (type === 'boolean') {
    if (text === 'true' || text === 'false') return undefined;
    const t = text.trim().toLowerCase();
    const fix = t === 'true' || t === '1' ? 'true' : t === 'false' || t === '0' ? 'false' : undefined;
    return `"${b}" is a boolean feature, whose values read "true" and "false"${fix === undefined ? '' : `; write "${b}=${fix}"`}`;
  }
  if (type === 'number') {
    const n = text.trim() === '' ? Number.NaN : Number(text);
    if (Number.isFinite(n) && String(n) === text) return undefined;
    if (!Number.isFinite(n)) return `"${b}" is a number feature, and "${shownName(text)}" is no number's text`;
    return `"${b}" is a number feature, whose value ${shownName(text)} reads "${String(n)}" (a one-hot term compares that text); write "${b}=${String(n)}"`;
  }
  return undefined;
}
