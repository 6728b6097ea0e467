/**
 * Valid frames of every protocol the stack reads, addressed to the stack
 * under test from addresses of the fuzz space (so that a valid frame never
 * speaks for the live peer): ARP; IPv4 with options and as fragments; IPv6
 * with extension headers and as fragments; ICMPv4 and ICMPv6 messages and
 * errors quoting TCP and UDP; NDP; UDP; TCP with every option and
 * option-length edge. They are the seeds the mutator starts from.
 */
import { chance, randomBytes, randomInt, type Rng } from '../../base/index.js';
import {
  ETHERNET_HEADER,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_TCP,
  PROTO_UDP,
  fixChecksums,
} from './dissect.js';

/** The addresses of the two hosts of a fuzz run and the ports the target serves. */
export interface FuzzAddresses {
  /** The live peer (a) and the target (b). */
  peerMac: Uint8Array;
  targetMac: Uint8Array;
  peer4: Uint8Array;
  target4: Uint8Array;
  peer6: Uint8Array;
  target6: Uint8Array;
  /** The target's TCP listener and UDP socket. */
  tcpPort: number;
  udpPort: number;
}

/** Fuzz-space IPv4 sources: 10.0.1.100 to 10.0.1.199 (the live hosts are .1 and .2). */
export function isFuzzSource4(addr: Uint8Array, at: number): boolean {
  return (
    addr[at] === 10 &&
    addr[at + 1] === 0 &&
    addr[at + 2] === 1 &&
    addr[at + 3]! >= 100 &&
    addr[at + 3]! < 200
  );
}

/** Fuzz-space IPv6 sources: fd00:0:0:1::f0xx:xxxx and fe80::f0xx:xxxx. */
export function isFuzzSource6(addr: Uint8Array, at: number): boolean {
  const global = addr[at] === 0xfd && addr[at + 1] === 0x00;
  const linkLocal = addr[at] === 0xfe && addr[at + 1] === 0x80;
  if (!global && !linkLocal) return false;
  for (let i = 2; i < 12; i++) {
    const expected = global && i === 7 ? 1 : 0;
    if (addr[at + i] !== expected) return false;
  }
  return addr[at + 12] === 0xf0;
}

function fuzzSource4(rng: Rng): Uint8Array {
  return Uint8Array.of(10, 0, 1, 100 + randomInt(rng, 100));
}

function fuzzSource6(rng: Rng): Uint8Array {
  const a = new Uint8Array(16);
  if (chance(rng, 0.8)) {
    a[0] = 0xfd;
    a[7] = 1;
  } else {
    a[0] = 0xfe;
    a[1] = 0x80;
  }
  a[12] = 0xf0;
  a[13] = randomInt(rng, 256);
  a[14] = randomInt(rng, 256);
  a[15] = randomInt(rng, 256);
  return a;
}

function fuzzMac(rng: Rng): Uint8Array {
  const m = randomBytes(rng, new Uint8Array(6));
  m[0] = 0x02; // locally administered, unicast
  m[1] = 0xf0;
  return m;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[randomInt(rng, items.length)]!;
}

function put16(f: Uint8Array, at: number, v: number): void {
  f[at] = (v >> 8) & 0xff;
  f[at + 1] = v & 0xff;
}

function put32(f: Uint8Array, at: number, v: number): void {
  put16(f, at, v >>> 16);
  put16(f, at + 2, v & 0xffff);
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function ethernet(
  dst: Uint8Array,
  src: Uint8Array,
  ethertype: number,
  payload: Uint8Array,
): Uint8Array {
  const f = new Uint8Array(ETHERNET_HEADER + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  put16(f, 12, ethertype);
  f.set(payload, ETHERNET_HEADER);
  return f;
}

// ------------------------------------------------------------------ upper layers

/** TCP options, from well-formed to every length edge (RFC 9293 §3.1, RFC 7323, RFC 2018). */
function tcpOptions(rng: Rng): Uint8Array {
  const parts: number[][] = [];
  const count = randomInt(rng, 5);
  for (let i = 0; i < count; i++) {
    switch (randomInt(rng, 14)) {
      case 0:
        parts.push([2, 4, randomInt(rng, 256), randomInt(rng, 256)]); // MSS
        break;
      case 1:
        parts.push([3, 3, pick(rng, [0, 7, 14, 15, 255])]); // window scale, beyond 14 too
        break;
      case 2:
        parts.push([4, 2]); // SACK permitted
        break;
      case 3: {
        const ts = [8, 10];
        for (let k = 0; k < 8; k++) ts.push(randomInt(rng, 256));
        parts.push(ts);
        break;
      }
      case 4: {
        const blocks = 1 + randomInt(rng, 4);
        const sack = [5, 2 + 8 * blocks];
        for (let k = 0; k < 8 * blocks; k++) sack.push(randomInt(rng, 256));
        parts.push(sack);
        break;
      }
      case 5:
        parts.push([1]); // NOP
        break;
      case 6:
        parts.push([0]); // EOL
        break;
      case 7:
        parts.push([pick(rng, [2, 3, 4, 5, 8]), pick(rng, [0, 1])]); // length 0 or 1: malformed
        break;
      case 8:
        parts.push([pick(rng, [2, 3, 4, 8]), pick(rng, [2, 3, 5, 9, 11, 40])]); // wrong length for the kind
        break;
      case 9:
        parts.push([5, pick(rng, [3, 9, 11, 34, 42])]); // SACK not a multiple of 8
        break;
      case 10:
        parts.push([pick(rng, [19, 28, 30, 34, 99, 253, 254]), 2 + randomInt(rng, 8)]); // unknown or unused kinds
        break;
      case 11:
        parts.push([2, 40]); // runs past the end of the header
        break;
      case 12:
        parts.push([2]); // a kind with no length byte at the end
        break;
      default:
        parts.push([2, 4, 0, 0]); // MSS 0
    }
  }
  const flat = parts.flat();
  let bytes = flat.slice(0, 40);
  while (bytes.length % 4 !== 0) bytes = [...bytes, chance(rng, 0.5) ? 0 : 1];
  return Uint8Array.from(bytes);
}

const TCP_FLAG_SETS = [
  0x02, 0x12, 0x10, 0x04, 0x14, 0x11, 0x18, 0x03, 0x3f, 0x00, 0x20, 0x06, 0xc2, 0x01,
];

function tcp(rng: Rng, dstPort: number): Uint8Array {
  const options = chance(rng, 0.7) ? tcpOptions(rng) : new Uint8Array(0);
  const data = randomBytes(rng, new Uint8Array(chance(rng, 0.6) ? 0 : randomInt(rng, 600)));
  const h = new Uint8Array(20 + options.length + data.length);
  put16(h, 0, 1024 + randomInt(rng, 60000));
  put16(h, 2, dstPort);
  put32(h, 4, rng.nextU32());
  put32(h, 8, rng.nextU32());
  h[12] = ((20 + options.length) / 4) << 4;
  h[13] = pick(rng, TCP_FLAG_SETS);
  put16(h, 14, randomInt(rng, 65536));
  put16(h, 18, chance(rng, 0.1) ? randomInt(rng, 65536) : 0);
  h.set(options, 20);
  h.set(data, 20 + options.length);
  return h;
}

function udp(rng: Rng, dstPort: number): Uint8Array {
  const data = randomBytes(rng, new Uint8Array(randomInt(rng, 1200)));
  const h = new Uint8Array(8 + data.length);
  put16(h, 0, 1024 + randomInt(rng, 60000));
  put16(h, 2, dstPort);
  put16(h, 4, h.length);
  h.set(data, 8);
  return h;
}

// ------------------------------------------------------------------ IPv4

/** IPv4 options (RFC 791 §3.1): padding, record route, timestamp, router alert, and bad lengths. */
function ipv4Options(rng: Rng): Uint8Array {
  const o: number[] = [];
  switch (randomInt(rng, 7)) {
    case 0:
      o.push(1, 1, 1, 0);
      break;
    case 1: {
      o.push(7, 11, 4); // record route, room for two addresses
      for (let i = 0; i < 8; i++) o.push(0);
      o.push(0);
      break;
    }
    case 2: {
      o.push(68, 12, 5, 0); // timestamp
      for (let i = 0; i < 8; i++) o.push(randomInt(rng, 256));
      break;
    }
    case 3:
      o.push(148, 4, 0, 0); // router alert (RFC 2113)
      break;
    case 4:
      o.push(7, pick(rng, [0, 1, 2, 40]), 4, 0); // bad lengths
      break;
    case 5:
      o.push(pick(rng, [130, 131, 137, 25, 200]), 4, 0, 0); // security, source routes, unknown
      break;
    default:
      for (let i = 0; i < 4 * (1 + randomInt(rng, 10)); i++) o.push(randomInt(rng, 256));
  }
  while (o.length % 4 !== 0) o.push(0);
  return Uint8Array.from(o.slice(0, 40));
}

function ipv4Header(
  rng: Rng,
  src: Uint8Array,
  dst: Uint8Array,
  protocol: number,
  payloadLength: number,
  options: Uint8Array,
  fragment: { id: number; offset: number; more: boolean } | null,
): Uint8Array {
  const h = new Uint8Array(20 + options.length);
  h[0] = 0x40 | ((20 + options.length) / 4);
  h[1] = chance(rng, 0.1) ? randomInt(rng, 256) : 0;
  put16(h, 2, h.length + payloadLength);
  put16(h, 4, fragment?.id ?? randomInt(rng, 65536));
  const flags = fragment === null ? (chance(rng, 0.5) ? 0x4000 : 0) : fragment.more ? 0x2000 : 0;
  put16(h, 6, flags | ((fragment?.offset ?? 0) >> 3));
  h[8] = pick(rng, [64, 1, 255, 2]);
  h[9] = protocol;
  h.set(src, 12);
  h.set(dst, 16);
  h.set(options, 20);
  return h;
}

function ipv4Frame(
  rng: Rng,
  addr: FuzzAddresses,
  protocol: number,
  payload: Uint8Array,
): Uint8Array {
  const options = chance(rng, 0.25) ? ipv4Options(rng) : new Uint8Array(0);
  const dst = chance(rng, 0.05) ? Uint8Array.of(10, 0, 1, 255) : addr.target4;
  const header = ipv4Header(rng, fuzzSource4(rng), dst, protocol, payload.length, options, null);
  const frame = ethernet(addr.targetMac, fuzzMac(rng), ETHERTYPE_IPV4, concat([header, payload]));
  fixChecksums(frame);
  return frame;
}

/** A datagram cut into fragments (RFC 791), sent in any order, sometimes overlapping or short of one. */
function ipv4Fragments(rng: Rng, addr: FuzzAddresses): Uint8Array[] {
  const protocol = chance(rng, 0.7) ? PROTO_UDP : PROTO_TCP;
  const body = protocol === PROTO_UDP ? udp(rng, addr.udpPort) : tcp(rng, addr.tcpPort);
  const src = fuzzSource4(rng);
  // The checksum of the whole datagram, computed as if unfragmented.
  const whole = ethernet(
    addr.targetMac,
    fuzzMac(rng),
    ETHERTYPE_IPV4,
    concat([
      ipv4Header(rng, src, addr.target4, protocol, body.length, new Uint8Array(0), null),
      body,
    ]),
  );
  fixChecksums(whole);
  const payload = whole.subarray(ETHERNET_HEADER + 20);
  const id = randomInt(rng, 65536);
  const pieces = 2 + randomInt(rng, 3);
  const step = Math.max(8, Math.ceil(payload.length / pieces / 8) * 8);
  const frames: Uint8Array[] = [];
  const mac = fuzzMac(rng);
  for (let offset = 0; offset < payload.length; offset += step) {
    const start = chance(rng, 0.1) && offset >= 8 ? offset - 8 : offset; // an overlap
    const end = Math.min(payload.length, offset + step);
    const more = end < payload.length;
    const header = ipv4Header(rng, src, addr.target4, protocol, end - start, new Uint8Array(0), {
      id,
      offset: start,
      more,
    });
    const f = ethernet(
      addr.targetMac,
      mac,
      ETHERTYPE_IPV4,
      concat([header, payload.subarray(start, end)]),
    );
    fixChecksums(f);
    frames.push(f);
  }
  if (chance(rng, 0.2) && frames.length > 1) frames.splice(randomInt(rng, frames.length), 1);
  for (let i = frames.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    [frames[i], frames[j]] = [frames[j]!, frames[i]!];
  }
  return frames;
}

/** ICMPv4 (RFC 792): echo, and errors quoting a TCP or UDP header (a fuzz one or one of `quotes`). */
function icmpv4(rng: Rng, addr: FuzzAddresses, quotes: Uint8Array[]): Uint8Array {
  if (chance(rng, 0.2)) {
    const m = new Uint8Array(8 + randomInt(rng, 64));
    m[0] = 8;
    put16(m, 4, randomInt(rng, 65536));
    return ipv4Frame(rng, addr, PROTO_ICMP, m);
  }
  const [type, code] = pick(rng, [
    [3, 0],
    [3, 1],
    [3, 2],
    [3, 3],
    [3, 4],
    [3, 13],
    [11, 0],
    [12, 0],
    [4, 0],
    [5, 1],
    [3, 99],
  ] as const);
  let quote: Uint8Array;
  const live = quotes.filter(
    (q) => q.length > ETHERNET_HEADER + 28 && q[12] === 0x08 && q[13] === 0x00,
  );
  if (live.length > 0 && chance(rng, 0.5)) {
    // A quote of a real segment of a live connection: the stack must judge it (RFC 5927).
    const q = pick(rng, live);
    quote = q.subarray(ETHERNET_HEADER, Math.min(q.length, ETHERNET_HEADER + 60 + 8));
  } else {
    const protocol = chance(rng, 0.5) ? PROTO_TCP : PROTO_UDP;
    const inner = protocol === PROTO_TCP ? tcp(rng, 1024 + randomInt(rng, 60000)) : udp(rng, 53);
    const h = ipv4Header(
      rng,
      addr.target4,
      fuzzSource4(rng),
      protocol,
      inner.length,
      new Uint8Array(0),
      null,
    );
    quote = concat([h, inner]).subarray(0, 20 + pick(rng, [8, 4, 0, 20, 28]));
  }
  const m = new Uint8Array(8 + quote.length);
  m[0] = type;
  m[1] = code;
  if (type === 3 && code === 4)
    put16(m, 6, pick(rng, [0, 68, 296, 576, 1006, 1400, 1500, 9000, 65535]));
  if (type === 12) m[4] = randomInt(rng, 28);
  m.set(quote, 8);
  return ipv4Frame(rng, addr, PROTO_ICMP, m);
}

/** ARP requests and replies (RFC 826) from fuzz-space senders, gratuitous ones too. */
function arp(rng: Rng, addr: FuzzAddresses): Uint8Array {
  const p = new Uint8Array(28);
  put16(p, 0, 1);
  put16(p, 2, ETHERTYPE_IPV4);
  p[4] = 6;
  p[5] = 4;
  const op = chance(rng, 0.5) ? 1 : 2;
  put16(p, 6, op);
  const mac = fuzzMac(rng);
  const sender = fuzzSource4(rng);
  p.set(mac, 8);
  p.set(sender, 14);
  if (op === 2) p.set(addr.targetMac, 18);
  p.set(chance(rng, 0.1) ? sender : addr.target4, 24);
  const broadcast = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
  return ethernet(op === 1 ? broadcast : addr.targetMac, mac, ETHERTYPE_ARP, p);
}

// ------------------------------------------------------------------ IPv6

/** Options of a hop-by-hop or destination options header (RFC 8200 §4.2): every action of an unknown type. */
function ipv6OptionsHeader(rng: Rng, next: number): Uint8Array {
  const o: number[] = [next, 0];
  switch (randomInt(rng, 5)) {
    case 0:
      o.push(1, 4, 0, 0, 0, 0); // PadN
      break;
    case 1:
      o.push(5, 2, 0, 0, 1, 0); // router alert (RFC 2711), PadN
      break;
    case 2:
      o.push(pick(rng, [0x1e, 0x5e, 0x9e, 0xde]), 4, 0, 0, 0, 0); // unknown: skip, discard, ICMP, ICMP unless multicast
      break;
    case 3:
      o.push(0, 0, 0, 0, 0, 0); // Pad1s
      break;
    default:
      o.push(1, pick(rng, [0, 5, 200]), 0, 0, 0, 0); // PadN whose length does not fit
  }
  return Uint8Array.from(o);
}

function ipv6RoutingHeader(rng: Rng, next: number): Uint8Array {
  const type = pick(rng, [0, 2, 3, 4, 253]);
  const h = new Uint8Array(24);
  h[0] = next;
  h[1] = 2;
  h[2] = type;
  h[3] = chance(rng, 0.5) ? 0 : 1; // segments left
  return h;
}

function ipv6Frame(
  rng: Rng,
  addr: FuzzAddresses,
  protocol: number,
  payload: Uint8Array,
  options: {
    hopLimit?: number;
    src?: Uint8Array;
    dst?: Uint8Array;
    dstMac?: Uint8Array;
    extensions?: boolean;
  } = {},
): Uint8Array {
  const headers: Uint8Array[] = [];
  let next = protocol;
  if (options.extensions ?? chance(rng, 0.3)) {
    const chain = randomInt(rng, 3) + 1;
    const built: Uint8Array[] = [];
    for (let i = 0; i < chain; i++) {
      const which = randomInt(rng, 3);
      const h = which === 2 ? ipv6RoutingHeader(rng, next) : ipv6OptionsHeader(rng, next);
      // Hop-by-hop must come first (RFC 8200 §4.1); sometimes it does not.
      next = which === 0 ? 0 : which === 1 ? 60 : 43;
      built.unshift(h);
    }
    headers.push(...built);
  }
  const body = concat([...headers, payload]);
  const h = new Uint8Array(40);
  h[0] = 0x60;
  put16(h, 4, body.length);
  h[6] = next;
  h[7] = options.hopLimit ?? pick(rng, [64, 255, 1]);
  h.set(options.src ?? fuzzSource6(rng), 8);
  h.set(options.dst ?? addr.target6, 24);
  const frame = ethernet(
    options.dstMac ?? addr.targetMac,
    fuzzMac(rng),
    ETHERTYPE_IPV6,
    concat([h, body]),
  );
  fixChecksums(frame);
  return frame;
}

/** An IPv6 datagram cut into fragments (RFC 8200 §4.5), any order, sometimes overlapping (RFC 5722) or atomic (RFC 6946). */
function ipv6Fragments(rng: Rng, addr: FuzzAddresses): Uint8Array[] {
  const protocol = chance(rng, 0.6) ? PROTO_UDP : chance(rng, 0.5) ? PROTO_TCP : PROTO_ICMPV6;
  const src = fuzzSource6(rng);
  let body: Uint8Array;
  if (protocol === PROTO_UDP) body = udp(rng, addr.udpPort);
  else if (protocol === PROTO_TCP) body = tcp(rng, addr.tcpPort);
  else {
    body = new Uint8Array(8 + randomInt(rng, 1500));
    body[0] = 128; // echo request
  }
  const whole = ipv6Frame(rng, addr, protocol, body, { src, extensions: false });
  const payload = whole.subarray(ETHERNET_HEADER + 40);
  const id = rng.nextU32();
  const atomic = chance(rng, 0.1);
  const pieces = atomic ? 1 : 2 + randomInt(rng, 3);
  const step = Math.max(8, Math.ceil(payload.length / pieces / 8) * 8);
  const frames: Uint8Array[] = [];
  for (let offset = 0; offset < payload.length; offset += step) {
    const start = chance(rng, 0.1) && offset >= 8 ? offset - 8 : offset;
    const end = atomic ? payload.length : Math.min(payload.length, offset + step);
    const more = end < payload.length;
    const fh = new Uint8Array(8);
    fh[0] = protocol;
    put16(fh, 2, start | (more ? 1 : 0));
    put32(fh, 4, id);
    const body6 = concat([fh, payload.subarray(start, end)]);
    const h = new Uint8Array(40);
    h[0] = 0x60;
    put16(h, 4, body6.length);
    h[6] = 44;
    h[7] = 64;
    h.set(src, 8);
    h.set(addr.target6, 24);
    frames.push(ethernet(addr.targetMac, fuzzMac(rng), ETHERTYPE_IPV6, concat([h, body6])));
    if (atomic) break;
  }
  if (chance(rng, 0.2) && frames.length > 1) frames.splice(randomInt(rng, frames.length), 1);
  for (let i = frames.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    [frames[i], frames[j]] = [frames[j]!, frames[i]!];
  }
  return frames;
}

/** ICMPv6 (RFC 4443): echo, errors quoting TCP or UDP (a fuzz one or a live one), packet too big. */
function icmpv6(rng: Rng, addr: FuzzAddresses, quotes: Uint8Array[]): Uint8Array {
  if (chance(rng, 0.2)) {
    const m = new Uint8Array(8 + randomInt(rng, 64));
    m[0] = 128;
    return ipv6Frame(rng, addr, PROTO_ICMPV6, m);
  }
  const [type, code] = pick(rng, [
    [1, 0],
    [1, 1],
    [1, 3],
    [1, 4],
    [1, 6],
    [2, 0],
    [3, 0],
    [4, 0],
    [4, 1],
    [4, 2],
    [1, 99],
    [200, 0],
  ] as const);
  let quote: Uint8Array;
  const live = quotes.filter(
    (q) => q.length > ETHERNET_HEADER + 48 && q[12] === 0x86 && q[13] === 0xdd,
  );
  if (live.length > 0 && chance(rng, 0.5)) {
    const q = pick(rng, live);
    quote = q.subarray(ETHERNET_HEADER, Math.min(q.length, ETHERNET_HEADER + 40 + 60));
  } else {
    const protocol = chance(rng, 0.5) ? PROTO_TCP : PROTO_UDP;
    const inner = protocol === PROTO_TCP ? tcp(rng, 1024 + randomInt(rng, 60000)) : udp(rng, 53);
    const h = new Uint8Array(40);
    h[0] = 0x60;
    put16(h, 4, inner.length);
    h[6] = protocol;
    h[7] = 64;
    h.set(addr.target6, 8);
    h.set(fuzzSource6(rng), 24);
    quote = concat([h, inner]).subarray(0, 40 + pick(rng, [8, 4, 0, 20]));
  }
  const m = new Uint8Array(8 + quote.length);
  m[0] = type;
  m[1] = code;
  if (type === 2) put32(m, 4, pick(rng, [0, 68, 1200, 1280, 1281, 1500, 65535, 0xffffffff]));
  if (type === 4) put32(m, 4, randomInt(rng, 48));
  m.set(quote, 8);
  return ipv6Frame(rng, addr, PROTO_ICMPV6, m, { extensions: false });
}

/** NDP (RFC 4861) from fuzz-space addresses: solicitations, advertisements, RS, RA, redirects, with options. */
function ndp(rng: Rng, addr: FuzzAddresses): Uint8Array {
  const type = pick(rng, [133, 134, 135, 135, 136, 136, 137]);
  const src = fuzzSource6(rng);
  const mac = fuzzMac(rng);
  let m: Uint8Array;
  switch (type) {
    case 135: {
      m = new Uint8Array(32);
      m.set(chance(rng, 0.8) ? addr.target6 : fuzzSource6(rng), 8);
      m[24] = 1; // source link-layer address
      m[25] = 1;
      m.set(mac, 26);
      break;
    }
    case 136: {
      m = new Uint8Array(32);
      m[4] = pick(rng, [0x20, 0x40, 0x60, 0xe0, 0x00]);
      m.set(src, 8);
      m[24] = 2; // target link-layer address
      m[25] = 1;
      m.set(mac, 26);
      break;
    }
    case 137: {
      m = new Uint8Array(40);
      m.set(fuzzSource6(rng), 8);
      m.set(fuzzSource6(rng), 24);
      break;
    }
    default:
      m = new Uint8Array(16);
  }
  m[0] = type;
  if (chance(rng, 0.1)) m[1] = 1; // code must be 0
  if (chance(rng, 0.15) && m.length >= 26) m[25] = pick(rng, [0, 3, 200]); // option lengths: zero, past the end
  const solicited = Uint8Array.of(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 2);
  const toSolicited = type === 135 && chance(rng, 0.5);
  return ipv6Frame(rng, addr, PROTO_ICMPV6, m, {
    hopLimit: chance(rng, 0.85) ? 255 : 64,
    src,
    extensions: false,
    ...(toSolicited ? { dst: solicited, dstMac: Uint8Array.of(0x33, 0x33, 0xff, 0, 0, 2) } : {}),
  });
}

/** The protocols the builder draws from, with their weights. */
const KINDS = [
  ['arp', 8],
  ['ipv4-udp', 8],
  ['ipv4-tcp', 14],
  ['ipv4-icmp', 10],
  ['ipv4-fragments', 6],
  ['ipv6-udp', 8],
  ['ipv6-tcp', 14],
  ['ipv6-icmp', 10],
  ['ipv6-fragments', 6],
  ['ndp', 8],
  ['other-ethertype', 1],
] as const;
const TOTAL_WEIGHT = KINDS.reduce((s, k) => s + k[1], 0);

/**
 * One or more valid frames (fragments come as a set) of a protocol drawn
 * at random; `quotes` are frames the live peer sent, for ICMP errors.
 */
export function buildFrames(rng: Rng, addr: FuzzAddresses, quotes: Uint8Array[]): Uint8Array[] {
  let r = randomInt(rng, TOTAL_WEIGHT);
  let kind: string = KINDS[0][0];
  for (const [k, w] of KINDS) {
    if (r < w) {
      kind = k;
      break;
    }
    r -= w;
  }
  const tcpPort = chance(rng, 0.6) ? addr.tcpPort : 1 + randomInt(rng, 65535);
  const udpPort = chance(rng, 0.6) ? addr.udpPort : 1 + randomInt(rng, 65535);
  switch (kind) {
    case 'arp':
      return [arp(rng, addr)];
    case 'ipv4-udp':
      return [ipv4Frame(rng, addr, PROTO_UDP, udp(rng, udpPort))];
    case 'ipv4-tcp':
      return [ipv4Frame(rng, addr, PROTO_TCP, tcp(rng, tcpPort))];
    case 'ipv4-icmp':
      return [icmpv4(rng, addr, quotes)];
    case 'ipv4-fragments':
      return ipv4Fragments(rng, addr);
    case 'ipv6-udp':
      return [ipv6Frame(rng, addr, PROTO_UDP, udp(rng, udpPort))];
    case 'ipv6-tcp':
      return [ipv6Frame(rng, addr, PROTO_TCP, tcp(rng, tcpPort))];
    case 'ipv6-icmp':
      return [icmpv6(rng, addr, quotes)];
    case 'ipv6-fragments':
      return ipv6Fragments(rng, addr);
    case 'ndp':
      return [ndp(rng, addr)];
    default:
      return [
        ethernet(
          addr.targetMac,
          fuzzMac(rng),
          pick(rng, [0x8100, 0x88cc, 0x0000, 0x05dc, 0xffff]),
          randomBytes(rng, new Uint8Array(randomInt(rng, 100))),
        ),
      ];
  }
}
