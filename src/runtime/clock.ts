/**
 * Time and randomness for live use. The core takes both as parameters
 * (DESIGN.md: no clock and no global random source below the sans-IO line);
 * this is where a real clock and a cryptographic source are made.
 */
import { instant, type Instant, type Rng } from '../base/index.js';

/** Where a driver reads the time: integral microseconds that never go backwards. */
export interface Clock {
  /** The current instant. Successive calls never return a smaller value. */
  now(): Instant;
}

/**
 * The process's monotonic clock (`performance.now()`, microseconds since the
 * process started). One shared epoch, so two drivers in the same process
 * agree on what "now" means: a frame one stamps is never "in the future" for
 * the other.
 */
export const realClock: Clock = {
  now(): Instant {
    return instant(Math.floor(performance.now() * 1000));
  },
};

/** The Web Crypto API's one call we use; every host we run on has it as `globalThis.crypto` (Node 19+, browsers, Workers, Deno). */
interface RandomSource {
  getRandomValues(array: Uint32Array): Uint32Array;
}

function hostRandomSource(): RandomSource {
  const crypto = (globalThis as { crypto?: Partial<RandomSource> }).crypto;
  if (crypto === undefined || typeof crypto.getRandomValues !== 'function') {
    throw new Error(
      'CryptoRng: this host has no globalThis.crypto.getRandomValues (Node 20+ and browsers do); ' +
        'pass a stack with an rng of your own',
    );
  }
  return crypto as RandomSource;
}

/** How many 32-bit words {@link CryptoRng} draws from the host at a time. */
const CRYPTO_RNG_BATCH = 256;

/**
 * An {@link Rng} backed by the host's CSPRNG (Web Crypto's
 * `crypto.getRandomValues`, the same source as Node's `randomFillSync`), for
 * ISN keys, SYN cookie secrets and ephemeral ports in live use, where they
 * must not be guessable (RFC 6528, RFC 6056). Words are drawn in batches so
 * that the per-call cost is an array read.
 */
export class CryptoRng implements Rng {
  private readonly words = new Uint32Array(CRYPTO_RNG_BATCH);
  private next = CRYPTO_RNG_BATCH;
  private readonly source = hostRandomSource();

  nextU32(): number {
    if (this.next >= CRYPTO_RNG_BATCH) {
      this.source.getRandomValues(this.words);
      this.next = 0;
    }
    return this.words[this.next++]!;
  }
}
