/**
 * Helpers of the benches that measure parts of the pipeline which may not be in this checkout yet:
 * a module loaded by path at run time (so a missing one makes its bench print "not available"
 * instead of failing to start), and a small seeded random stream.
 */
import { errorMessage } from '../shared/errors.ts';

/**
 * The module at `relativePath` (from `bench/`), or a sentence saying it is not available.
 * Loaded through a computed specifier so that the bench type-checks and starts without it.
 */
export async function loadOptional<T>(relativePath: string): Promise<T | string> {
  const specifier = new URL(relativePath, import.meta.url).href;
  try {
    return (await import(specifier)) as T;
  } catch (err) {
    return `not available: ${relativePath.replace(/^\.\.\//, '')} cannot be loaded in this checkout (${errorMessage(err).split('\n')[0] ?? ''}).`;
  }
}

/** mulberry32: a small seeded stream of numbers in [0, 1), so a bench draws the same scenario each time. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
}
