/**
 * Mutations of a valid frame: bit flips, interesting values, the length
 * fields of each layer set to their edges, truncation, growth, inserted or
 * removed bytes, random runs, and splices of two frames. Afterwards the
 * checksums are made right again for about half of the frames, so that a
 * mutation reaches the layer above the checksum instead of stopping there.
 */
import { chance, randomBytes, randomInt, type Rng } from '../../base/index.js';
import { ETHERNET_HEADER, dissect, fixChecksums } from './dissect.js';

const INTERESTING_BYTES = [
  0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x0f, 0x10, 0x3f, 0x40, 0x45, 0x60, 0x7f, 0x80, 0xfe, 0xff,
];
const INTERESTING_WORDS = [
  0, 1, 7, 8, 19, 20, 39, 40, 41, 576, 1279, 1280, 1500, 0x7fff, 0x8000, 0xfffe, 0xffff,
];

/** Offsets of the length and header-length fields of the frame's layers, as far as they can be found. */
function lengthFields(frame: Uint8Array): Array<{ at: number; width: 1 | 2 }> {
  const d = dissect(frame);
  const fields: Array<{ at: number; width: 1 | 2 }> = [];
  if (d.kind === 'ipv4') {
    fields.push({ at: d.ip, width: 1 }, { at: d.ip + 2, width: 2 }, { at: d.ip + 6, width: 2 });
    if (d.l4 > d.ip + 20) fields.push({ at: d.ip + 21, width: 1 }); // the first option's length
  } else if (d.kind === 'ipv6') {
    fields.push({ at: d.ip + 4, width: 2 }, { at: d.ip + 6, width: 1 });
    if (d.l4 > d.ip + 40) fields.push({ at: d.ip + 41, width: 1 }, { at: d.ip + 42, width: 2 });
  } else if (d.kind === 'arp') {
    fields.push({ at: d.ip + 4, width: 1 }, { at: d.ip + 5, width: 1 }, { at: d.ip + 6, width: 2 });
  }
  if (d.l4 > 0) {
    if (d.protocol === 6)
      fields.push(
        { at: d.l4 + 12, width: 1 },
        { at: d.l4 + 21, width: 1 },
        { at: d.l4 + 20, width: 1 },
      );
    else if (d.protocol === 17) fields.push({ at: d.l4 + 4, width: 2 });
    else if (d.protocol === 1 || d.protocol === 58)
      fields.push({ at: d.l4, width: 1 }, { at: d.l4 + 1, width: 1 }, { at: d.l4 + 25, width: 1 });
  }
  return fields.filter((f) => f.at + f.width <= frame.length);
}

/** One mutation of `frame` (which it may change in place); returns the mutated frame. */
function mutateOnce(rng: Rng, frame: Uint8Array, corpus: readonly Uint8Array[]): Uint8Array {
  const n = frame.length;
  switch (randomInt(rng, 9)) {
    case 0: {
      if (n === 0) return frame;
      const flips = 1 + randomInt(rng, 4);
      for (let i = 0; i < flips; i++) {
        const at = randomInt(rng, n);
        frame[at] = frame[at]! ^ (1 << randomInt(rng, 8));
      }
      return frame;
    }
    case 1: {
      if (n === 0) return frame;
      // Past the Ethernet header most of the time: the MACs matter less.
      const at =
        n > ETHERNET_HEADER && chance(rng, 0.9)
          ? ETHERNET_HEADER + randomInt(rng, n - ETHERNET_HEADER)
          : randomInt(rng, n);
      frame[at] = INTERESTING_BYTES[randomInt(rng, INTERESTING_BYTES.length)]!;
      return frame;
    }
    case 2:
    case 3: {
      const fields = lengthFields(frame);
      if (fields.length === 0) return frame;
      const f = fields[randomInt(rng, fields.length)]!;
      if (f.width === 1) {
        frame[f.at] = chance(rng, 0.5)
          ? INTERESTING_BYTES[randomInt(rng, INTERESTING_BYTES.length)]!
          : (frame[f.at]! + (chance(rng, 0.5) ? 1 : 255)) & 0xff;
      } else {
        const old = (frame[f.at]! << 8) | frame[f.at + 1]!;
        const v = chance(rng, 0.5)
          ? INTERESTING_WORDS[randomInt(rng, INTERESTING_WORDS.length)]!
          : (old + (chance(rng, 0.5) ? 1 : 0xffff) + randomInt(rng, 3) * 8) & 0xffff;
        frame[f.at] = v >> 8;
        frame[f.at + 1] = v & 0xff;
      }
      return frame;
    }
    case 4:
      return frame.slice(0, randomInt(rng, n + 1)); // truncated
    case 5: {
      const extra = randomBytes(rng, new Uint8Array(1 + randomInt(rng, 64)));
      const out = new Uint8Array(n + extra.length);
      out.set(frame, 0);
      out.set(extra, n);
      return out;
    }
    case 6: {
      // Bytes inserted or removed in the middle: every field after moves.
      const at = randomInt(rng, n + 1);
      if (chance(rng, 0.5) && at < n) {
        const cut = 1 + randomInt(rng, Math.min(8, n - at));
        const out = new Uint8Array(n - cut);
        out.set(frame.subarray(0, at), 0);
        out.set(frame.subarray(at + cut), at);
        return out;
      }
      const ins = randomBytes(rng, new Uint8Array(1 + randomInt(rng, 8)));
      const out = new Uint8Array(n + ins.length);
      out.set(frame.subarray(0, at), 0);
      out.set(ins, at);
      out.set(frame.subarray(at), at + ins.length);
      return out;
    }
    case 7: {
      if (n === 0) return frame;
      const at = randomInt(rng, n);
      const run = randomBytes(rng, new Uint8Array(Math.min(n - at, 1 + randomInt(rng, 16))));
      frame.set(run, at);
      return frame;
    }
    default: {
      if (corpus.length === 0) return frame;
      const other = corpus[randomInt(rng, corpus.length)]!;
      const at = randomInt(rng, n + 1);
      const from = randomInt(rng, other.length + 1);
      const out = new Uint8Array(at + other.length - from);
      out.set(frame.subarray(0, at), 0);
      out.set(other.subarray(from), at);
      return out;
    }
  }
}

/**
 * A mutated copy of `frame`: one to four mutations, then, half of the time,
 * checksums fixed. `corpus` gives the other halves of splices.
 */
export function mutate(rng: Rng, frame: Uint8Array, corpus: readonly Uint8Array[]): Uint8Array {
  let out: Uint8Array = frame.slice(); // slice: a copy, the original stays as it was
  const count = 1 + randomInt(rng, 4);
  for (let i = 0; i < count; i++) out = mutateOnce(rng, out, corpus);
  if (chance(rng, 0.5)) fixChecksums(out);
  return out;
}
