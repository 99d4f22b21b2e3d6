/**
 * Deterministic random streams. Every draw in the engine comes from a stream derived from
 * (seed, component, event id), so any event can be re-executed alone once its state is restored.
 */

/** 32-bit FNV-1a over a string, continuing from `h`. */
function fnv1a(text: string, h = 0x811c9dc5): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A small, fast PRNG (sfc32) — good statistical quality, trivially reproducible. */
export class RandomStream {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a >>> 0;
    this.b = b >>> 0;
    this.c = c >>> 0;
    this.d = d >>> 0;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** The stream for one (seed, component, key) triple; the same triple always gives the same draws. */
export function streamFor(seed: number, component: string, key: string | number): RandomStream {
  const s = String(seed);
  const k = String(key);
  return new RandomStream(
    fnv1a(s + '\u0000' + component + '\u0000' + k, 0x811c9dc5),
    fnv1a(k + '\u0001' + component, 0x9e3779b9),
    fnv1a(component + '\u0002' + s, 0x85ebca6b),
    fnv1a(s + '\u0003' + k, 0xc2b2ae35),
  );
}
