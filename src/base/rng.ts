/**
 * Randomness for the core comes in through this interface: the driver passes
 * a cryptographic source in live use, the simulator a seeded one so that every
 * run repeats exactly.
 */
export interface Rng {
  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number;
}

/**
 * xoshiro128** (Blackman and Vigna), seeded through splitmix32: fast, small
 * state, good statistical quality, and the same sequence for the same seed on
 * every platform. Not for secrets.
 */
export class SeededRng implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A new generator whose stream is independent of this one's continuation. */
  fork(): SeededRng {
    return new SeededRng(this.nextU32() ^ 0x5bd1e995);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A float in [0, 1) with 32 bits of randomness. */
export function randomFloat(rng: Rng): number {
  return rng.nextU32() / 4294967296;
}

/** An integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(randomFloat(rng) * n);
}

/** True with probability `p`. */
export function chance(rng: Rng, p: number): boolean {
  return p > 0 && randomFloat(rng) < p;
}

/** Fills `out` with random bytes. */
export function randomBytes(rng: Rng, out: Uint8Array): Uint8Array {
  for (let i = 0; i < out.length; i += 4) {
    const v = rng.nextU32();
    out[i] = v & 0xff;
    if (i + 1 < out.length) out[i + 1] = (v >>> 8) & 0xff;
    if (i + 2 < out.length) out[i + 2] = (v >>> 16) & 0xff;
    if (i + 3 < out.length) out[i + 3] = v >>> 24;
  }
  return out;
}
