/**
 * Seeded randomness and Kombo-style ids for the sandbox: a fast PRNG, string and id drawing, and
 * the id-order sort the server pages in. Shared by the static generator (`data.ts`) and the
 * simulated clock (`timeline.ts`).
 */
// ---------------------------------------------------------------------------------------------
// Randomness

/** 32-bit FNV-1a; used to derive independent seeds from strings. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Small seeded PRNG (sfc32, 128-bit state). A 32-bit-state generator is not enough here: streams
 * seeded per integration could overlap and repeat whole id sequences.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 spreads a small seed over the whole state.
    let s = seed >>> 0;
    const mix = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks by weight; `table` pairs are `[value, weight]`. */
  weighted<T>(table: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of table) total += w;
    let r = this.next() * total;
    for (const [v, w] of table) {
      r -= w;
      if (r < 0) return v;
    }
    return (table[table.length - 1] as readonly [T, number])[0];
  }
}

// Kombo ids look like base58 (no 0, O, I, l): "26vafvWSRmbhNcxJYqjCzuJg".
const ID_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const HEX = '0123456789abcdef';
export const DIGITS = '0123456789';
const charBuf: number[] = [];

/**
 * A random string over `alphabet`. Built in one go: appending char by char leaves V8 rope strings
 * that cost ~30 bytes per character and make every later comparison flatten them.
 */
export function randomString(rng: Rng, alphabet: string, n: number): string {
  charBuf.length = n;
  for (let i = 0; i < n; i++) charBuf[i] = alphabet.charCodeAt(Math.floor(rng.next() * alphabet.length));
  return String.fromCharCode.apply(null, charBuf);
}

const B58_5 = 58 ** 5;

/** 24 base58 chars, 5 per random draw (58^5 < 2^32): ids are the most drawn values of all. */
function randomId(rng: Rng): string {
  charBuf.length = 24;
  for (let i = 0; i < 24; i += 5) {
    let v = Math.floor(rng.next() * B58_5);
    for (let j = i; j < i + 5 && j < 24; j++) {
      charBuf[j] = ID_ALPHABET.charCodeAt(v % 58);
      v = Math.floor(v / 58);
    }
  }
  return String.fromCharCode.apply(null, charBuf);
}

/**
 * Hands out Kombo-style ids that are unique across one dataset (all integrations, all models).
 * The caller passes its own random stream so one integration's ids do not depend on how many
 * ids another integration drew.
 */
export class IdFactory {
  private readonly used: Set<string>;

  constructor(used?: Iterable<string>) {
    this.used = new Set(used);
  }

  next(rng: Rng): string {
    for (;;) {
      const id = randomId(rng);
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
  }

  /** Marks an id as taken (e.g. one that came from a hand-built dataset). */
  reserve(id: string): void {
    this.used.add(id);
  }
}

const compareIds = (a: Record<string, unknown>, b: Record<string, unknown>): number => {
  const x = a.id as string;
  const y = b.id as string;
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * Records ordered by `id` (UTF-16 code unit order, i.e. byte order for ASCII ids), as a new array.
 *
 * A comparator sort over hundreds of thousands of heap-scattered records was the slowest step of
 * generation, so ASCII ids are sorted by a numeric key (first 4 chars, then the position) in a
 * typed array, and only runs that share the 4-char prefix fall back to string comparison.
 */
export function sortById<T extends Record<string, unknown>>(records: readonly T[]): T[] {
  const n = records.length;
  if (n >= 1 << 24) return [...records].sort(compareIds);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const id = String((records[i] as T).id);
    let k = 0;
    for (let c = 0; c < 4; c++) {
      const code = c < id.length ? id.charCodeAt(c) + 1 : 0;
      if (code > 128) return [...records].sort(compareIds);
      k = k * 129 + code;
    }
    keys[i] = k * 16_777_216 + i;
  }
  keys.sort();
  const out = new Array<T>(n);
  let runStart = 0;
  for (let i = 0; i < n; i++) {
    out[i] = records[(keys[i] as number) % 16_777_216] as T;
    const prefix = Math.floor((keys[i] as number) / 16_777_216);
    const next = i + 1 < n ? Math.floor((keys[i + 1] as number) / 16_777_216) : -1;
    if (next !== prefix) {
      if (i > runStart) {
        const run = out.slice(runStart, i + 1).sort(compareIds);
        for (let j = 0; j < run.length; j++) out[runStart + j] = run[j] as T;
      }
      runStart = i + 1;
    }
  }
  return out;
}
