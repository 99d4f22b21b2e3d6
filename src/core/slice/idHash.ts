/**
 * The 32-bit hash open-addressing tables of ids place an id by (writeWarnings' repeated-event check,
 * the users index): FNV-1a over its UTF-16 code units, then a murmur3 finaliser so that the low
 * bits — the slot — depend on every character (FNV's low bits depend only on the characters' low bits).
 */
export function idHash(id: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
