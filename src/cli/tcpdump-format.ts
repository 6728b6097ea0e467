/**
 * One line per packet in the words of `tcpdump -n` (4.99, default verbosity,
 * no -e): the same layout, field order and quirks, so that `tcpts decode`
 * output can be compared with tcpdump's line for line.
 *
 * A printer is not a stack: tcpdump shows packets a host would drop (bad
 * checksums, multicast listener reports, fragments) and so must we. The
 * strict `parse*` functions of wire/ verify checksums and refuse what a host
 * ignores, so this module reads headers through wire/'s field accessors and
 * address formatters instead, and uses wire/'s TCP option list and flag/option
 * text. What it does not decode it says so with tcpdump's own markers:
 * `[|tcp]` when the capture ends inside a header, `(invalid)` for impossible
 * lengths.
 *
 * Deliberately not reproduced (tcpdump has hundreds of dissectors): the
 * application protocols tcpdump recognises by port (DNS, NTP, HTTP, ...),
 * which print here as plain `UDP, length N` / TCP; IP protocols other than
 * TCP, UDP, ICMP/ICMPv6 and IP-in-IP (printed as `ip-proto-N length`); LLC
 * frames and MPTCP options (marked "not decoded by tcpts"); the hex dumps
 * tcpdump adds on the lines after unknown types; the interface name of a
 * Linux cooked v2 capture (tcpdump looks the index up on the reading host;
 * tcpts prints `#index`). Everything else is meant to match tcpdump 4.99.3
 * byte for byte, and the tests in test/cli hold it to that.
 */
import { seq } from '../base/index.js';
import type { Instant } from '../base/index.js';
import {
  ARP_HLEN,
  ARP_HTYPE,
  ARP_OPER,
  ARP_PLEN,
  ARP_PTYPE,
  ArpOperation,
  ETHERNET_HEADER_LENGTH,
  EtherType,
  IPV6_HEADER_LENGTH,
  IpProtocol,
  TcpFlags,
  ethernetType,
  formatIpv4Address,
  formatIpv6Address,
  formatMacAddress,
  formatTcpFlags,
  formatTcpOptions,
  ipv4Dst,
  ipv4HeaderLength,
  ipv4Protocol,
  ipv4Src,
  ipv4TotalLength,
  ipv6Dst,
  ipv6Src,
  TcpOptionCursor,
  TcpOptionStep,
  listTcpOptions,
  parseArp,
  readIpv4Address,
  tcpAckOf,
  tcpDstPort,
  tcpFlagsOf,
  tcpSeqOf,
  tcpSrcPort,
} from '../wire/index.js';
import type { TcpOptionEntry } from '../wire/index.js';
import { LinkType, parseSll, parseSll2, rawIpEtherType } from '../link/index.js';
import type { PcapRecord } from '../link/index.js';

/** Options of {@link TcpdumpFormatter}. */
export interface TcpdumpFormatOptions {
  /** Print absolute TCP sequence numbers, like `tcpdump -S`. Default false (relative). */
  absolute?: boolean;
}

const MICROS_PER_DAY = 86_400_000_000;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * tcpdump's default timestamp, `HH:MM:SS.uuuuuu`, as it prints with TZ=UTC:
 * the time of day in UTC of a time in microseconds since 1970-01-01 UTC.
 */
export function formatTimestamp(time: Instant): string {
  const ofDay = ((time % MICROS_PER_DAY) + MICROS_PER_DAY) % MICROS_PER_DAY;
  const seconds = Math.floor(ofDay / 1_000_000);
  const micros = ofDay - seconds * 1_000_000;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${pad2(h)}:${pad2(m)}:${pad2(s)}.${String(micros).padStart(6, '0')}`;
}

function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

function u32(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0
  );
}

/**
 * An IPv6 address as tcpdump prints it: RFC 5952 text (wire/'s formatter),
 * except that an IPv4-compatible address (::a.b.c.d, RFC 4291 §2.5.5.1,
 * deprecated but still printed so by tcpdump's addrtostr6 and inet_ntop)
 * keeps its dotted tail. `::` and `::1` are not IPv4-compatible.
 */
function ipv6Text(address: Uint8Array): string {
  for (let i = 0; i < 12; i++) if (address[i] !== 0) return formatIpv6Address(address);
  if (address[12] === 0 && address[13] === 0) return formatIpv6Address(address);
  return `::${formatIpv4Address(readIpv4Address(address, 12))}`;
}

function hex(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0');
  return text;
}

/** What the IP layer tells the transport printers. */
interface IpContext {
  /** 4 or 6: tcpdump keeps a sequence-number table per family. */
  version: 4 | 6;
  src: string;
  dst: string;
  /** The raw addresses (views), for tcpdump's ordering of a connection's two directions. */
  srcBytes: Uint8Array;
  dstBytes: Uint8Array;
  /**
   * True when the fixed header names this transport directly; then the
   * transport prints `addr.port > addr.port`, else only `port > port` (the IP
   * layer has printed the addresses, before its extension headers).
   */
  direct: boolean;
  /** The packet is a fragment (MF set, or an IPv6 Fragment header). */
  fragmented: boolean;
}

/** ISNs of one TCP connection as tcpdump records them (print-tcp.c's tcp_seq_hash). */
interface TcpIsns {
  seq: number;
  ack: number;
}

const TRANSPORTS_PRINTING_ADDRESSES: ReadonlySet<number> = new Set([
  IpProtocol.Tcp,
  IpProtocol.Udp,
  // SCTP and DCCP print their own addresses in tcpdump too.
  132,
  33,
]);

/** IANA protocol numbers wire/ has no name for, which tcpdump treats specially. */
const IGMP = 2;
const IP_IN_IP = 4;
const IPV6_IN_IP = 41;
/** Protocol 77, "Sun ND", which tcpdump still names. */
const ND = 77;

const ICMP_NAMES: Readonly<Record<number, string>> = {
  0: 'echo reply',
  4: 'source quench',
  8: 'echo request',
  10: 'router solicitation',
  13: 'time stamp request',
  14: 'time stamp reply',
  15: 'information request',
  16: 'information reply',
  17: 'address mask request',
};

const ICMP6_NAMES: Readonly<Record<number, string>> = {
  1: 'destination unreachable',
  2: 'packet too big',
  3: 'time exceeded in-transit',
  4: 'parameter problem',
  128: 'echo request',
  129: 'echo reply',
  130: 'multicast listener query',
  131: 'multicast listener report',
  132: 'multicast listener done',
  133: 'router solicitation',
  134: 'router advertisement',
  135: 'neighbor solicitation',
  136: 'neighbor advertisement',
  137: 'redirect',
  138: 'router renumbering',
  141: 'inverse neighbor solicitation',
  142: 'inverse neighbor advertisement',
  143: 'multicast listener report v2',
  144: 'ha discovery request',
  145: 'ha discovery reply',
  146: 'mobile router solicitation',
  147: 'mobile router advertisement',
  155: 'RPL',
  200: 'mtrace response',
  201: 'mtrace message',
};

const ICMP6_UNREACH_NAMES: Readonly<Record<number, string>> = {
  0: 'unreachable route',
  // The leading space is tcpdump's (print-icmp6.c's table has it).
  1: ' unreachable prohibited',
  2: 'beyond scope',
  3: 'unreachable address',
  4: 'unreachable port',
};

/** ARPHRD_* hardware types, named as print-arp.c names them. */
const ARP_HARDWARE: Readonly<Record<number, string>> = {
  1: 'Ethernet',
  6: 'TokenRing',
  7: 'ArcNet',
  15: 'FrameRelay',
  19: 'ATM',
  23: 'Strip',
  24: 'IEEE 1394',
  32: 'InfiniBand',
};

/** print-sll.c's names of the Linux packet types (packet(7) PACKET_HOST, ...). */
const SLL_DIRECTIONS: Readonly<Record<number, string>> = {
  0: 'In',
  1: 'B',
  2: 'M',
  3: 'P',
  4: 'Out',
};

const ARP_OPERATIONS: Readonly<Record<number, string>> = {
  1: 'Request',
  2: 'Reply',
  3: 'Reverse Request',
  4: 'Reverse Reply',
  8: 'Inverse Request',
  9: 'Inverse Reply',
  10: 'NACK Reply',
};

/**
 * Formats packets one after another. It keeps per-connection state (the ISNs
 * tcpdump subtracts to print relative sequence numbers), so use one formatter
 * per capture, in capture order.
 */
export class TcpdumpFormatter {
  private readonly absolute: boolean;
  private readonly isns: Map<string, TcpIsns>;

  constructor(options: TcpdumpFormatOptions = {}) {
    this.absolute = options.absolute ?? false;
    this.isns = new Map();
  }

  /** The whole line for one record: timestamp, space, packet. */
  formatRecord(record: PcapRecord): string {
    // print.c's pretty_print_packet refuses impossible record headers before
    // anything else, without a timestamp.
    const caplen = record.data.length;
    const len = record.originalLength;
    const problems: string[] = [];
    if (caplen === 0) problems.push(' caplen==0');
    if (len === 0) problems.push(' len==0');
    else if (len < caplen) problems.push(` len(${len}) < caplen(${caplen})`);
    if (problems.length > 0) return `[Invalid header:${problems.join(',')}]`;
    return `${formatTimestamp(record.time)} ${this.formatPacket(record)}`;
  }

  /** The line without its timestamp. */
  formatPacket(record: PcapRecord): string {
    const data = record.data;
    const wire = record.originalLength > data.length ? record.originalLength : data.length;
    switch (record.linkType) {
      case LinkType.Ethernet:
        return this.ethernet(data, wire);
      case LinkType.Raw: {
        // print-ip.c's ipN_print: the version nibble picks the printer.
        if (data.length < 1) return `truncated-ip ${wire}`;
        const etherType = rawIpEtherType(data);
        if (etherType === -1) return `unknown ip ${data[0]! >>> 4}`;
        return this.network(etherType, data, wire);
      }
      case LinkType.Ipv4:
        return this.ip4(data, wire);
      case LinkType.Ipv6:
        return this.ip6(data, wire);
      case LinkType.LinuxSll:
      case LinkType.LinuxSll2: {
        const v1 = record.linkType === LinkType.LinuxSll;
        const sll = v1 ? parseSll(data) : parseSll2(data);
        if (sll === null) return v1 ? '[|sll]' : '[|sll2]';
        const headerLength = data.length - sll.payload.length;
        const packet = this.network(sll.protocol, sll.payload, wire - headerLength);
        if (v1) return packet;
        // For v2 tcpdump adds the interface and direction, naming the
        // interface from the reading host's own table; tcpts prints its index.
        const direction = SLL_DIRECTIONS[sll.packetType] ?? '?';
        return `${`#${sll.interfaceIndex}`.padEnd(5)} ${direction.padEnd(3)} ${packet}`;
      }
      default:
        return `link type ${String(record.linkType)} not supported`;
    }
  }

  private ethernet(frame: Uint8Array, wire: number): string {
    if (frame.length < ETHERNET_HEADER_LENGTH) return ' [|ether]';
    let etherType = ethernetType(frame);
    let offset = ETHERNET_HEADER_LENGTH;
    // 802.1Q / 802.1ad tags (IEEE 802.1Q §9): without -e tcpdump 4.99 shows
    // nothing of them and goes on with the inner EtherType.
    while (
      (etherType === EtherType.Vlan || etherType === EtherType.QinQ) &&
      frame.length >= offset + 4
    ) {
      etherType = u16(frame, offset + 2);
      offset += 4;
    }
    if (etherType < 0x0600) {
      // IEEE 802.3 length field: an LLC frame (STP, ...), which tcpts does not decode.
      return `802.3, length ${etherType}: LLC (not decoded by tcpts)`;
    }
    if (
      etherType !== EtherType.Ipv4 &&
      etherType !== EtherType.Ipv6 &&
      etherType !== EtherType.Arp
    ) {
      // tcpdump falls back to the link header (as with -e), then a hex dump
      // on the lines that follow, which tcpts leaves out.
      return (
        `${formatMacAddress(frame.subarray(6, 12))} > ${formatMacAddress(frame.subarray(0, 6))}` +
        `, ethertype ${etherTypeName(etherType)}, length ${wire}: `
      );
    }
    return this.network(etherType, frame.subarray(offset), wire - offset);
  }

  /** Dispatches on an EtherType: IPv4, IPv6 or ARP. */
  private network(etherType: number, packet: Uint8Array, length: number): string {
    switch (etherType) {
      case EtherType.Ipv4:
        return this.ip4(packet, length);
      case EtherType.Ipv6:
        return this.ip6(packet, length);
      case EtherType.Arp:
        return arp(packet, length);
      default:
        return `ethertype ${etherTypeName(etherType)}, length ${length}`;
    }
  }

  /** print-ip.c's ip_print as tcpdump 4.99.3 has it, default verbosity. */
  private ip4(packet: Uint8Array, length: number): string {
    if (packet.length < 1) return ' [|ip]';
    const version = packet[0]! >>> 4;
    if (version !== 4) {
      return version === 6
        ? 'IP6, wrong link-layer encapsulation (invalid)'
        : `IP${version} (invalid)`;
    }
    let out = 'IP ';
    if (packet.length < 20) return `${out} [|ip]`;
    if (length < 20) return `${out}truncated-ip ${length}`;
    const hlen = ipv4HeaderLength(packet);
    // RFC 791: the IHL counts 32-bit words and is at least 5.
    if (hlen < 20) return `${out}bad-hlen ${hlen}`;
    const len = ipv4TotalLength(packet);
    if (len > length) out += `truncated-ip - ${len - length} bytes missing! `;
    if (len < hlen) return `${out}bad-len ${len}`;
    // Bytes past the total length are link padding (tcpdump cuts its snapshot there too).
    const captured = packet.subarray(0, len < packet.length ? len : packet.length);
    const src = formatIpv4Address(ipv4Src(packet));
    const dst = formatIpv4Address(ipv4Dst(packet));
    const flagsOffset = u16(packet, 6);
    const protocol = ipv4Protocol(packet);
    if ((flagsOffset & 0x1fff) !== 0) {
      // Not the first fragment: no transport header to show (RFC 791 §2.3).
      return `${out}${src} > ${dst}: ip-proto-${protocol}`;
    }
    if (!TRANSPORTS_PRINTING_ADDRESSES.has(protocol)) out += `${src} > ${dst}: `;
    if (captured.length < hlen)
      return `${out} [remaining caplen(${captured.length}) < header length(${hlen})] [|ip]`;
    const context: IpContext = {
      version: 4,
      src,
      dst,
      srcBytes: packet.subarray(12, 16),
      dstBytes: packet.subarray(16, 20),
      direct: true,
      fragmented: (flagsOffset & 0x2000) !== 0,
    };
    return out + this.transport(protocol, captured.subarray(hlen), len - hlen, context);
  }

  /**
   * print-ip6.c's ip6_print as tcpdump 4.99.3 has it, default verbosity: the
   * fixed header, then the extension headers it names, then the upper layer.
   * A zero payload length (RFC 2675 jumbogram) needs a Jumbo Payload option.
   */
  private ip6(packet: Uint8Array, length: number): string {
    if (packet.length < IPV6_HEADER_LENGTH) return ' [|ip6]';
    if (length < IPV6_HEADER_LENGTH) return `truncated-ip6 ${length}`;
    let out = 'IP6 ';
    const version = packet[0]! >>> 4;
    if (version !== 6) return `${out}version error: ${version} != 6`;
    let payloadLength = u16(packet, 4);
    let len: number;
    if (payloadLength !== 0) {
      len = payloadLength + IPV6_HEADER_LENGTH;
      if (length < len) out += `truncated-ip6 - ${len - length} bytes missing!`;
    } else {
      len = length + IPV6_HEADER_LENGTH;
    }
    let captured = packet.subarray(0, Math.min(len, packet.length));
    const src = ipv6Text(ipv6Src(packet));
    const dst = ipv6Text(ipv6Dst(packet));
    let next = packet[6]!;
    const context: IpContext = {
      version: 6,
      src,
      dst,
      srcBytes: packet.subarray(8, 24),
      dstBytes: packet.subarray(24, 40),
      direct: TRANSPORTS_PRINTING_ADDRESSES.has(next),
      fragmented: false,
    };
    let previous = -1;
    let foundExtension = false;
    let foundHopByHop = false;
    let jumbo = false;
    let at = 0;
    let advance = IPV6_HEADER_LENGTH;
    let total = 0;
    // As tcpdump: walk while the header just processed started inside the capture.
    while (at < captured.length && advance > 0) {
      if (len < advance) return `${out} [|ip6]`;
      at += advance;
      len -= advance;
      total += advance;
      if (at === IPV6_HEADER_LENGTH && !context.direct) out += `${src} > ${dst}: `;
      switch (next) {
        case IpProtocol.HopByHop: {
          // RFC 8200 §4.1: once, and right after the IPv6 header.
          if (foundHopByHop)
            return `${out}[The Hop-by-Hop Options header was already found] (invalid)`;
          if (previous !== -1) {
            return `${out}[The Hop-by-Hop Options header don't follow the IPv6 header] (invalid)`;
          }
          if (captured.length < at + 2) return `${out} [|hbhopt]`;
          advance = (captured[at + 1]! + 1) * 8;
          let problem: string | null = null;
          if (captured.length < at + advance) {
            problem = ' [|hbhopt]';
          } else {
            out += 'HBH ';
            const options = hopByHopOptions(captured, at + 2, advance - 2, payloadLength);
            if (options.jumbo >= 0) {
              jumbo = true;
              payloadLength = options.jumbo;
            }
            if (options.problem !== null) problem = `${options.problem} [|hbhopt]`;
          }
          if (problem !== null) out += problem;
          if (payloadLength === 0 && !jumbo) {
            return `${out}[No valid Jumbo Payload Hop-by-Hop option found] (invalid)`;
          }
          if (problem !== null) return out;
          foundExtension = true;
          foundHopByHop = true;
          next = captured[at]!;
          break;
        }
        case IpProtocol.Ipv6DestOptions:
          if (captured.length < at + 2) return `${out} [|dstopt]`;
          advance = (captured[at + 1]! + 1) * 8;
          if (captured.length < at + advance) return `${out} [|dstopt]`;
          out += 'DSTOPT ';
          foundExtension = true;
          next = captured[at]!;
          break;
        case IpProtocol.Ipv6Fragment: {
          if (captured.length < at + 4) return `${out} [|frag6]`;
          const offset = u16(captured, at + 2) & 0xfff8;
          // print-frag6.c: this fragment's bytes after the Fragment header, from the header's length.
          out += `frag (${offset}|${(IPV6_HEADER_LENGTH + u16(packet, 4) - at - 8) >>> 0})`;
          context.fragmented = true;
          // Only the first fragment holds the upper-layer header (RFC 8200 §4.5).
          if (offset !== 0) return out;
          out += ' ';
          advance = 8;
          if (captured.length <= at + advance) return out;
          foundExtension = true;
          next = captured[at]!;
          break;
        }
        case IpProtocol.Ipv6Route: {
          if (captured.length <= at) return `${out} [|ip6]`;
          const routing = routingHeader(captured, at);
          if (routing === null) return `${out} [|rt6]`;
          out += routing.text;
          if (routing.stop) return out;
          advance = (captured[at + 1]! + 1) * 8;
          foundExtension = true;
          next = captured[at]!;
          break;
        }
        default: {
          if (jumbo) {
            len = payloadLength + IPV6_HEADER_LENGTH;
            if (len < total) return `${out} [|ip6]`;
            if (length < len) out += `truncated-ip6 - ${len - length} bytes missing!`;
            captured = packet.subarray(0, Math.min(len, packet.length));
            len -= total;
          } else if (payloadLength === 0) {
            // No payload: there is nothing after the fixed header to show.
            if (foundExtension) return `${out} [|ip6]`;
            captured = packet.subarray(0, IPV6_HEADER_LENGTH);
            len = 0;
          }
          if (next === IpProtocol.Ipv6NoNext) return `${out}no next header`;
          return out + this.transport(next, captured.subarray(at), len, context);
        }
      }
      previous = next;
    }
    return out;
  }

  /** ip_demux_print: the upper-layer printer for protocol `protocol`. */
  private transport(
    protocol: number,
    bytes: Uint8Array,
    length: number,
    context: IpContext,
  ): string {
    switch (protocol) {
      case IpProtocol.Tcp:
        return this.tcp(bytes, length, context);
      case IpProtocol.Udp:
        return udp(bytes, length, context);
      case IpProtocol.Icmp:
        if (context.version === 4) return icmp(bytes, length);
        return '[ICMP requires IPv4] (invalid)';
      case IGMP:
        if (context.version === 6) return '[IGMP requires IPv4] (invalid)';
        break;
      case IpProtocol.Icmpv6:
        if (context.version === 6) return icmp6(bytes, length);
        return '[ICMPv6 requires IPv6] (invalid)';
      case IP_IN_IP:
        // RFC 2003 / RFC 4213 tunnels: tcpdump prints the inner packet after the outer addresses.
        return this.ip4(bytes, length);
      case IPV6_IN_IP:
        return this.ip6(bytes, length);
      case ND:
        return ` nd ${length}`;
      default:
        break;
    }
    // The space before ip-proto is tcpdump's: its default case starts with one.
    return ` ip-proto-${protocol} ${length}`;
  }

  /** print-tcp.c's tcp_print, default verbosity. */
  private tcp(segment: Uint8Array, length: number, ip: IpContext): string {
    if (segment.length < 4) return `${ip.src} > ${ip.dst}: [|tcp]`;
    const sport = tcpSrcPort(segment);
    const dport = tcpDstPort(segment);
    let out = ip.direct ? `${ip.src}.${sport} > ${ip.dst}.${dport}: ` : `${sport} > ${dport}: `;
    if (segment.length < 20) return `${out} [|tcp]`;
    const hlen = (segment[12]! >>> 4) * 4;
    if (hlen < 20) {
      return `${out} tcp ${(length - hlen) >>> 0} [bad hdr length ${hlen} - too short, < 20]`;
    }
    let seqNumber: number = tcpSeqOf(segment);
    let ackNumber: number = tcpAckOf(segment);
    const flags = tcpFlagsOf(segment);
    const window = u16(segment, 14);
    const urgent = u16(segment, 18);
    out += `Flags [${formatTcpFlags(flags)}]`;
    let isns: TcpIsns | null = null;
    let reversed = false;
    if (!this.absolute && (flags & TcpFlags.ACK) !== 0) {
      // tcpdump numbers each direction from its ISN, learnt from the first
      // segment with ACK it sees (normally the SYN-ACK) and relearnt on every
      // SYN. Both directions share one entry, ordered by port, then address.
      reversed = sport > dport || (sport === dport && compareBytes(ip.srcBytes, ip.dstBytes) > 0);
      const key = reversed
        ? `${ip.version}:${hex(ip.dstBytes)}:${hex(ip.srcBytes)}:${dport}:${sport}`
        : `${ip.version}:${hex(ip.srcBytes)}:${hex(ip.dstBytes)}:${sport}:${dport}`;
      const known = this.isns.get(key);
      if (known === undefined || (flags & TcpFlags.SYN) !== 0) {
        isns = reversed
          ? { seq: (ackNumber - 1) >>> 0, ack: seqNumber }
          : { seq: seqNumber, ack: (ackNumber - 1) >>> 0 };
        this.isns.set(key, isns);
      } else {
        isns = known;
        if (reversed) {
          seqNumber = (seqNumber - known.ack) >>> 0;
          ackNumber = (ackNumber - known.seq) >>> 0;
        } else {
          seqNumber = (seqNumber - known.seq) >>> 0;
          ackNumber = (ackNumber - known.ack) >>> 0;
        }
      }
    }
    if (hlen > length) return `${out} [bad hdr length ${hlen} - too long, > ${length}]`;
    const dataLength = length - hlen;
    if (dataLength > 0 || (flags & (TcpFlags.SYN | TcpFlags.FIN | TcpFlags.RST)) !== 0) {
      out += `, seq ${seqNumber}`;
      if (dataLength > 0) out += `:${(seqNumber + dataLength) >>> 0}`;
    }
    if ((flags & TcpFlags.ACK) !== 0) out += `, ack ${ackNumber}`;
    out += `, win ${window}`;
    if ((flags & TcpFlags.URG) !== 0) out += `, urg ${urgent}`;
    if (hlen > 20) {
      // SACK edges relative to the peer's ISN, as tcpdump prints them.
      const base = isns === null ? 0 : reversed ? isns.seq : isns.ack;
      const entries = segment.length < hlen ? null : listTcpOptions(segment.subarray(0, hlen));
      if (entries === null || typeof entries === 'string' || !wireTextMatchesTcpdump(entries)) {
        // Malformed, cut short by the snapshot, or kinds wire/ does not name:
        // walk them the way tcpdump does, which may end the line early.
        const options = tcpdumpOptionWalk(segment, hlen, base);
        out += `, options [${options.text}`;
        if (!options.complete) return out;
        out += ']';
      } else {
        out += `, options [${formatTcpOptions(base === 0 ? entries : relativeSack(entries, base))}]`;
      }
    }
    return `${out}, length ${dataLength}`;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return 0;
}

function relativeSack(entries: TcpOptionEntry[], base: number): TcpOptionEntry[] {
  const out: TcpOptionEntry[] = [];
  for (const entry of entries) {
    if (entry.kind !== 'sack') {
      out.push(entry);
      continue;
    }
    out.push({
      kind: 'sack',
      blocks: entry.blocks.map((block) => ({
        left: seq(block.left - base),
        right: seq(block.right - base),
      })),
    });
  }
  return out;
}

function etherTypeName(etherType: number): string {
  const code = `0x${etherType.toString(16).padStart(4, '0')}`;
  switch (etherType) {
    case EtherType.Ipv4:
      return `IPv4 (${code})`;
    case EtherType.Ipv6:
      return `IPv6 (${code})`;
    case EtherType.Arp:
      return `ARP (${code})`;
    case EtherType.Vlan:
      return `802.1Q (${code})`;
    case EtherType.QinQ:
      return `802.1Q-QinQ (${code})`;
    default:
      return `Unknown (${code})`;
  }
}

/** print-udp.c's udp_print, default verbosity, without its port-based dissectors. */
function udp(datagram: Uint8Array, length: number, ip: IpContext): string {
  if (datagram.length < 4) return `${ip.direct ? `${ip.src} > ${ip.dst}: ` : ''} [|udp]`;
  const sport = u16(datagram, 0);
  const dport = u16(datagram, 2);
  const addresses = ip.direct
    ? `${ip.src}.${sport} > ${ip.dst}.${dport}: `
    : `${sport} > ${dport}: `;
  if (length < 8) return `${addresses}truncated-udp ${length}`;
  if (datagram.length < 6) return `${addresses} [|udp]`;
  let udpLength = u16(datagram, 4);
  // RFC 2675: a zero length in a jumbogram means "see the IP length".
  if (udpLength === 0 && length > 65535) udpLength = length;
  if (udpLength < 8) return `${addresses}truncated-udplength ${udpLength}`;
  udpLength -= 8;
  let payload = length - 8;
  if (udpLength < payload) payload = udpLength;
  if (datagram.length < 8) return `${addresses} [|udp]`;
  if (udpLength > payload && !ip.fragmented) {
    return `${addresses}UDP, bad length ${udpLength} > ${payload}`;
  }
  return `${addresses}UDP, length ${udpLength}`;
}

const TRUNCATED_ICMP = ' [|icmp]';

/** print-icmp.c's icmp_print, default verbosity. `length` is the ICMP message length. */
function icmp(message: Uint8Array, length: number): string {
  if (message.length < 2) return TRUNCATED_ICMP;
  const type = message[0]!;
  const code = message[1]!;
  // The quoted datagram's destination, which most error messages name.
  const quotedDst = (): string | null =>
    message.length >= 28 ? formatIpv4Address(readIpv4Address(message, 24)) : null;
  let text: string | null;
  switch (type) {
    case 0:
    case 8:
      text =
        message.length < 8
          ? null
          : `echo ${type === 8 ? 'request' : 'reply'}, id ${u16(message, 4)}, seq ${u16(message, 6)}`;
      break;
    case 3:
      text = unreachable(message, code, quotedDst());
      break;
    case 5: {
      const dst = quotedDst();
      text =
        dst === null ? null : redirect(code, dst, formatIpv4Address(readIpv4Address(message, 4)));
      break;
    }
    case 11:
      text =
        quotedDst() === null
          ? null
          : code === 0
            ? 'time exceeded in-transit'
            : code === 1
              ? 'ip reassembly time exceeded'
              : `time exceeded-#${code}`;
      break;
    case 12:
      text =
        code !== 0
          ? `parameter problem - code ${code}`
          : message.length < 5
            ? null
            : `parameter problem - octet ${message[4]!}`;
      break;
    case 13:
      text =
        message.length < 8 ? null : `time stamp query id ${u16(message, 4)} seq ${u16(message, 6)}`;
      break;
    case 14:
      // RFC 792 timestamps: milliseconds since midnight UT.
      text =
        message.length < 20
          ? null
          : `time stamp reply id ${u16(message, 4)} seq ${u16(message, 6)}: org ${icmpTime(u32(message, 8))}` +
            `, recv ${icmpTime(u32(message, 12))}, xmit ${icmpTime(u32(message, 16))}`;
      break;
    case 18:
      text =
        message.length < 12
          ? null
          : `address mask is 0x${u32(message, 8).toString(16).padStart(8, '0')}`;
      break;
    default:
      text = ICMP_NAMES[type] ?? `type-#${type}`;
      break;
  }
  if (text === null) return TRUNCATED_ICMP;
  return `ICMP ${text}, length ${length}`;
}

/** print-icmp.c's icmp_tstamp_print: milliseconds as H:MM:SS.mmm (hours are not wrapped). */
function icmpTime(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  return `${pad2(hours)}:${pad2(minutes % 60)}:${pad2(seconds % 60)}.${String(ms % 1000).padStart(3, '0')}`;
}

/** The redirect texts of print-icmp.c, by code. */
function redirect(code: number, dst: string, gateway: string): string {
  switch (code) {
    case 0:
      return `redirect ${dst} to net ${gateway}`;
    case 1:
      return `redirect ${dst} to host ${gateway}`;
    case 2:
      return `redirect-tos ${dst} to net ${gateway}`;
    case 3:
      return `redirect-tos ${dst} to host ${gateway}`;
    default:
      return `redirect-#${code} ${dst} to ${gateway}`;
  }
}

/** The destination unreachable texts of print-icmp.c, by code. */
function unreachable(message: Uint8Array, code: number, dst: string | null): string | null {
  if (dst === null) return null;
  switch (code) {
    case 0:
      return `net ${dst} unreachable`;
    case 1:
      return `host ${dst} unreachable`;
    case 2:
      return `${dst} protocol ${message[17]!} unreachable`;
    case 3: {
      // The quoted datagram's transport ports follow its header.
      const quotedHeader = (message[8]! & 0x0f) * 4;
      const at = 8 + quotedHeader;
      if (message.length < at + 4) return null;
      const port = u16(message, at + 2);
      const protocol = message[17]!;
      if (protocol === IpProtocol.Tcp) return `${dst} tcp port ${port} unreachable`;
      if (protocol === IpProtocol.Udp) return `${dst} udp port ${port} unreachable`;
      return `${dst} protocol ${protocol} port ${port} unreachable`;
    }
    case 4: {
      // RFC 1191 §4: the next-hop MTU in the low half of the unused word.
      const mtu = u16(message, 6);
      return mtu !== 0
        ? `${dst} unreachable - need to frag (mtu ${mtu})`
        : `${dst} unreachable - need to frag`;
    }
    case 5:
      return `${dst} unreachable - source route failed`;
    case 6:
      return `net ${dst} unreachable - unknown`;
    case 7:
      return `host ${dst} unreachable - unknown`;
    case 8:
      return `${dst} unreachable - source host isolated`;
    case 9:
      return `net ${dst} unreachable - admin prohibited`;
    case 10:
      return `host ${dst} unreachable - admin prohibited`;
    case 11:
      return `net ${dst} unreachable - tos prohibited`;
    case 12:
      return `host ${dst} unreachable - tos prohibited`;
    case 13:
      return `host ${dst} unreachable - admin prohibited filter`;
    case 14:
      return `host ${dst} unreachable - host precedence violation`;
    case 15:
      return `host ${dst} unreachable - precedence cutoff`;
    default:
      return `${dst} unreachable - #${code}`;
  }
}

const TRUNCATED_ICMP6 = ' [|icmp6]';

/** print-icmp6.c's icmp6_print, default verbosity. `length` is the ICMPv6 message length. */
function icmp6(message: Uint8Array, length: number): string {
  if (length === 0) return 'ICMP6, length 0 (invalid)';
  if (message.length < 1) return TRUNCATED_ICMP6;
  const type = message[0]!;
  let out = `ICMP6, ${ICMP6_NAMES[type] ?? `unknown icmp6 type (${type})`}`;
  if (message.length < 2) return out + TRUNCATED_ICMP6;
  const code = message[1]!;
  // The quoted packet starts 8 bytes in; its destination is 24 bytes into that.
  const quotedDst = (): string | null =>
    message.length >= 48 ? ipv6Text(message.subarray(32, 48)) : null;
  switch (type) {
    case 1: {
      out += `, ${ICMP6_UNREACH_NAMES[code] ?? `unknown unreach code (${code})`}`;
      const dst = quotedDst();
      if (dst === null) return out + TRUNCATED_ICMP6;
      if (code === 0 || code === 1 || code === 3) {
        out += ` ${dst}`;
      } else if (code === 2) {
        out += ` ${dst}, source address ${ipv6Text(message.subarray(16, 32))}`;
      } else if (ICMP6_UNREACH_NAMES[code] === undefined) {
        // tcpdump hex-dumps the message on the next lines instead of its length.
        return out;
      } else if (code === 4) {
        const upper = quotedUpperLayer(message.subarray(8));
        if (upper === null) return out + TRUNCATED_ICMP6;
        const port = u16(message, 8 + upper.offset + 2);
        if (upper.protocol === IpProtocol.Tcp) out += `, ${dst} tcp port ${port}`;
        else if (upper.protocol === IpProtocol.Udp) out += `, ${dst} udp port ${port}`;
        else out += `, ${dst} protocol ${message[14]!} port ${port} unreachable`;
      }
      break;
    }
    case 2:
      if (message.length < 8) return out + TRUNCATED_ICMP6;
      out += `, mtu ${u32(message, 4)}`;
      break;
    case 3: {
      if (code === 0) {
        const dst = quotedDst();
        if (dst === null) return out + TRUNCATED_ICMP6;
        out += ` for ${dst}`;
      } else {
        out += code === 1 ? ' (reassembly)' : `, unknown code (${code})`;
      }
      break;
    }
    case 4: {
      if (quotedDst() === null) return out + TRUNCATED_ICMP6;
      const pointer = u32(message, 4);
      const kinds = ['erroneous', 'next header', 'option'];
      out += code < kinds.length ? `, ${kinds[code]!} - octet ${pointer}` : `, code-#${code}`;
      break;
    }
    case 128:
    case 129:
      if (message.length < 8) return out + TRUNCATED_ICMP6;
      out += `, id ${u16(message, 4)}, seq ${u16(message, 6)}`;
      break;
    case 130:
    case 131:
    case 132:
      if (message.length < 24) return out + TRUNCATED_ICMP6;
      if (type === 130 && length >= 28) {
        // print-icmp6.c's mldv2_query_print: the group and how many sources.
        out += ` v2 [gaddr ${ipv6Text(message.subarray(8, 24))}`;
        const sources = message.length >= 28 ? u16(message, 26) : 0;
        if (sources > 0) {
          out +=
            length < 28 + sources * 16 ? ' [invalid number of sources]' : `, ${sources} source(s)`;
        }
        out += ']';
        break;
      }
      // print-icmp6.c's mld6_print, with no separator before it (tcpdump's quirk).
      out += `max resp delay: ${u16(message, 4)} addr: ${ipv6Text(message.subarray(8, 24))}`;
      break;
    case 135:
      if (message.length < 24) return out + TRUNCATED_ICMP6;
      out += `, who has ${ipv6Text(message.subarray(8, 24))}`;
      break;
    case 136:
      if (message.length < 24) return out + TRUNCATED_ICMP6;
      out += `, tgt is ${ipv6Text(message.subarray(8, 24))}`;
      break;
    case 137:
      if (message.length < 40) return out + TRUNCATED_ICMP6;
      out += `, ${ipv6Text(message.subarray(24, 40))} to ${ipv6Text(message.subarray(8, 24))}`;
      break;
    case 144:
    case 146:
      // Mobile IPv6 (RFC 6275 §6.5, 6.7): the identifier.
      if (message.length < 6) return out + TRUNCATED_ICMP6;
      out += `, id 0x${u16(message, 4).toString(16).padStart(4, '0')}`;
      break;
    case 155: {
      // RFC 6550 RPL control messages, named by code (the high bit: secured).
      if ((code & 0x80) !== 0) {
        out += ', (SEC) [worktodo]';
        break;
      }
      const names = [
        'DODAG Information Solicitation',
        'DODAG Information Object',
        'Destination Advertisement Object',
        'Destination Advertisement Object Ack',
      ];
      out += `, (CLR)${names[code] ?? `RPL message, unknown code ${code}`}`;
      break;
    }
    case 143:
      if (length < 8) return `${out} [invalid len ${length}]`;
      if (message.length < 8) return out + TRUNCATED_ICMP6;
      out += `, ${u16(message, 6)} group record(s)`;
      break;
    default:
      break;
  }
  return `${out}, length ${length}`;
}

/**
 * print-icmp6.c's get_upperlayer: walks the quoted packet's extension headers
 * to its TCP or UDP header. Null when the quote ends first or leads elsewhere.
 */
function quotedUpperLayer(quoted: Uint8Array): { protocol: number; offset: number } | null {
  let next = quoted[6]!;
  let at = IPV6_HEADER_LENGTH;
  for (let hops = 0; hops < 16; hops++) {
    if (next === IpProtocol.Tcp || next === IpProtocol.Udp) {
      return quoted.length >= at + 4 ? { protocol: next, offset: at } : null;
    }
    if (
      next === IpProtocol.HopByHop ||
      next === IpProtocol.Ipv6DestOptions ||
      next === IpProtocol.Ipv6Route
    ) {
      if (quoted.length < at + 2) return null;
      next = quoted[at]!;
      at += (quoted[at + 1]! + 1) * 8;
    } else if (next === IpProtocol.Ipv6Fragment) {
      if (quoted.length < at + 8 || (u16(quoted, at + 2) & 0xfff8) !== 0) return null;
      next = quoted[at]!;
      at += 8;
    } else if (next === IpProtocol.Ah) {
      if (quoted.length < at + 2) return null;
      next = quoted[at]!;
      at += (quoted[at + 1]! + 2) * 4;
    } else {
      return null;
    }
  }
  return null;
}

/** print-arp.c's arp_print, default verbosity. `length` is the ARP packet's length on the wire. */
function arp(packet: Uint8Array, length: number): string {
  if (packet.length < 8) return ' [|arp]';
  const operation = u16(packet, ARP_OPER);
  const operationName = ARP_OPERATIONS[operation] ?? `Unknown (${operation})`;
  const repr = parseArp(packet);
  if (typeof repr !== 'string') {
    // Ethernet/IPv4 request or reply: what wire/ parses, and nearly every ARP packet.
    const spa = formatIpv4Address(repr.senderProtocol);
    if (repr.operation === ArpOperation.Reply) {
      return `ARP, Reply ${spa} is-at ${formatMacAddress(repr.senderHardware)}, length ${length}`;
    }
    const tha = isZero(repr.targetHardware) ? '' : ` (${formatMacAddress(repr.targetHardware)})`;
    return `ARP, Request who-has ${formatIpv4Address(repr.targetProtocol)}${tha} tell ${spa}, length ${length}`;
  }
  // Anything else, in tcpdump's generic terms: hardware addresses of any length.
  const htype = u16(packet, ARP_HTYPE);
  const ptype = u16(packet, ARP_PTYPE);
  const hln = packet[ARP_HLEN]!;
  const pln = packet[ARP_PLEN]!;
  if (packet.length < 8 + 2 * hln + 2 * pln) return ' [|arp]';
  if ((ptype !== EtherType.Ipv4 && ptype !== 0x1000) || pln !== 4 || hln === 0) {
    const hardware = ARP_HARDWARE[htype] ?? `Unknown Hardware (${htype})`;
    const protocol =
      ptype === EtherType.Ipv4
        ? 'IPv4'
        : `Unknown Protocol (0x${ptype.toString(16).padStart(4, '0')})`;
    return `ARP, ${hardware} (len ${hln}), ${protocol} (len ${pln}), length ${length}`;
  }
  const sha = linkAddress(packet.subarray(8, 8 + hln));
  const spa = formatIpv4Address(readIpv4Address(packet, 8 + hln));
  const tha = packet.subarray(12 + hln, 12 + 2 * hln);
  const tpa = formatIpv4Address(readIpv4Address(packet, 12 + 2 * hln));
  let text: string;
  switch (operation) {
    case 1:
      text = `who-has ${tpa}${isZero(tha) ? '' : ` (${linkAddress(tha)})`} tell ${spa}`;
      break;
    case 2:
      text = `${spa} is-at ${sha}`;
      break;
    case 3:
      text = `who-is ${linkAddress(tha)} tell ${sha}`;
      break;
    case 4:
      text = `${linkAddress(tha)} at ${tpa}`;
      break;
    case 8:
      text = `who-is ${linkAddress(tha)} tell ${spa}`;
      break;
    case 9:
      text = `${linkAddress(tha)} at ${spa}`;
      break;
    default:
      // tcpdump names the operation, then hex-dumps the packet on the next lines.
      return `ARP, ${operationName} `;
  }
  return `ARP, ${operationName} ${text}, length ${length}`;
}

function isZero(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte !== 0) return false;
  return true;
}

/** A hardware address of any length, as colon-separated hex (tcpdump's linkaddr_string). */
function linkAddress(bytes: Uint8Array): string {
  return bytes.length === 6
    ? formatMacAddress(bytes)
    : Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * print-rt6.c as tcpdump 4.99.3 has it: the routing header's length, type and
 * segments left, then the addresses of a type 0, 2 (RFC 6275) or 4 (segment
 * routing, RFC 8754) header. `text` ends the line when `stop` (a type
 * tcpdump does not know); null when the capture ends inside the header.
 */
function routingHeader(bytes: Uint8Array, at: number): { text: string; stop: boolean } | null {
  if (bytes.length < at + 4) return null;
  const units = bytes[at + 1]!;
  const type = bytes[at + 2]!;
  // RFC 5095 deprecated type 0.
  let text = `RT6 (len=${units}, type=${type}${type === 0 ? ' [Deprecated]' : ''}, segleft=${bytes[at + 3]!}`;
  if (type === 0 || type === 2) {
    if (bytes.length < at + 8) return null;
    const reserved = u32(bytes, at + 4);
    if (reserved !== 0) text += `, rsv=0x${reserved.toString(16)}`;
  } else if (type === 4) {
    if (bytes.length < at + 8) return null;
    text += `, last-entry=${bytes[at + 4]!}`;
    if (bytes[at + 5] !== 0) text += `, flags=0x${bytes[at + 5]!.toString(16)}`;
    text += `, tag=${u16(bytes, at + 6).toString(16)}`;
  } else {
    return { text: `${text} (unknown type) (invalid)`, stop: true };
  }
  // The addresses: 16 bytes for every two length units.
  if (units % 2 === 1) return null;
  for (let i = 0; i < units / 2; i++) {
    const address = at + 8 + i * 16;
    if (bytes.length < address + 16) return null;
    text += `, [${i}]${ipv6Text(bytes.subarray(address, address + 16))}`;
  }
  return { text: `${text}) `, stop: false };
}

/**
 * print-ip6opts.c's ip6_opt_process over the hop-by-hop options in
 * `bytes[start..start+len)` (RFC 8200 §4.2 TLVs): what tcpdump finds wrong
 * (null when nothing; an empty string when an option runs past the header),
 * and the length a valid Jumbo Payload option gives (RFC 2675 §2: only with a
 * zero payload length, and at least 65536), or -1.
 */
function hopByHopOptions(
  bytes: Uint8Array,
  start: number,
  len: number,
  payloadLength: number,
): { problem: string | null; jumbo: number } {
  let optionLength = 0;
  let sawJumbo = false;
  let jumbo = -1;
  for (let i = 0; i < len; i += optionLength) {
    const type = bytes[start + i]!;
    if (type === 0) {
      optionLength = 1;
    } else {
      if (i + 1 >= len) return { problem: '', jumbo };
      optionLength = bytes[start + i + 1]! + 2;
    }
    if (i + optionLength > len) return { problem: '', jumbo };
    const dataLength = bytes[start + i + 1]!;
    switch (type) {
      case 0x05:
        // RFC 2711 router alert: exactly 2 bytes of value.
        if (len - i < 4) return { problem: '(rtalert: trunc)', jumbo };
        if (dataLength !== 2) return { problem: `(rtalert: invalid len ${dataLength})`, jumbo };
        break;
      case 0xc2: {
        if (len - i < 6) return { problem: '(jumbo: trunc)', jumbo };
        if (dataLength !== 4) return { problem: `(jumbo: invalid len ${dataLength})`, jumbo };
        const value = u32(bytes, start + i + 2);
        if (!sawJumbo && payloadLength === 0 && value >= 65536) jumbo = value;
        sawJumbo = true;
        break;
      }
      case 0xc9:
        // RFC 6275 home address: at least a 16-byte address.
        if (len - i < 18) return { problem: '(homeaddr: trunc)', jumbo };
        if (dataLength < 16) return { problem: `(homeaddr: invalid len ${dataLength})`, jumbo };
        break;
      default:
        if (type !== 0 && len - i < 2) return { problem: `(type ${type}: trunc)`, jumbo };
        break;
    }
  }
  return { problem: null, jumbo };
}

/** TCP option kinds tcpdump names but wire/ lists as unknown: their text comes from {@link tcpdumpOptionWalk}. */
const TCPDUMP_ONLY_OPTION_NAMES: Readonly<Record<number, string>> = {
  6: 'echo',
  7: 'echoreply',
  11: 'cc',
  12: 'ccnew',
  // print-tcp.c names CCECHO with an empty string.
  13: '',
  19: 'md5',
  20: 'scps',
  28: 'uto',
  29: 'tcp-ao',
  30: 'mptcp',
  34: 'tfo',
  254: 'exp',
};

/** True when wire/'s option text is what tcpdump prints for these entries. */
function wireTextMatchesTcpdump(entries: readonly TcpOptionEntry[]): boolean {
  for (const entry of entries) {
    if (entry.kind === 'unknown' && TCPDUMP_ONLY_OPTION_NAMES[entry.code] !== undefined)
      return false;
  }
  return true;
}

/**
 * The option walk of print-tcp.c, for option areas wire/ refuses or does not
 * fully name: it prints each option as far as it goes, `[len N]` after one
 * whose length byte disagrees with its kind, `[bad opt]` where an option runs
 * past the header (and then stops the whole line, as tcpdump does), ` [|tcp]`
 * where the capture ends. `base` is subtracted from SACK edges.
 */
function tcpdumpOptionWalk(
  segment: Uint8Array,
  hlen: number,
  base: number,
): { text: string; complete: boolean } {
  walkCursor.reset(segment, 20, hlen);
  const result = walkOptions(walkCursor, hlen, base);
  walkCursor.clear();
  return result;
}

/** The cursor of {@link tcpdumpOptionWalk}. */
const walkCursor = new TcpOptionCursor();

/** {@link tcpdumpOptionWalk} over the area `cursor` was reset to. */
function walkOptions(
  cursor: TcpOptionCursor,
  hlen: number,
  base: number,
): { text: string; complete: boolean } {
  let text = '';
  let separator = '';
  const segment = cursor.bytes;
  const available = segment.length;
  // Running out of capture while reading an option's kind or length ends the
  // line at once; running out inside its data goes through print-tcp.c's trunc
  // label, which adds a '>', a leftover of its old `<...>` option syntax.
  const truncated = (inData: boolean) => ({
    text: `${text} [|tcp]${inData && separator !== '' ? '>' : ''}`,
    complete: false,
  });
  const bad = () => ({ text: `${text}[bad opt]${separator === '' ? '' : ']'}`, complete: false });
  for (let step = cursor.next(); step !== TcpOptionStep.End; step = cursor.next()) {
    text += separator;
    // The cursor checks what print-tcp.c checks before an option's data: a
    // kind or length byte past the capture, a length below 2 or past the header.
    if (step === TcpOptionStep.Truncated) return truncated(false);
    if (step === TcpOptionStep.Malformed) return bad();
    const kind = cursor.kind;
    const len = cursor.length;
    const at = cursor.offset + (kind > 1 ? 2 : 1);
    const remaining = hlen - at;
    text += TCPDUMP_ONLY_OPTION_NAMES[kind] ?? TCP_OPTION_NAMES[kind] ?? `unknown-${kind}`;
    let datalen = 0;
    // LENCHECK: the option's data must fit in the header, then in the capture.
    const check = (n: number): 'bad' | 'truncated' | null =>
      n > remaining ? 'bad' : at + n > available ? 'truncated' : null;
    let problem: 'bad' | 'truncated' | null = null;
    switch (kind) {
      case 0:
      case 1:
      case 4:
        break;
      case 2:
        datalen = 2;
        problem = check(2);
        if (problem === null) text += ` ${u16(segment, at)}`;
        break;
      case 3:
        datalen = 1;
        problem = check(1);
        if (problem === null) text += ` ${segment[at]!}`;
        break;
      case 5:
        datalen = len - 2;
        if (datalen % 8 !== 0) {
          text += ' invalid sack';
          break;
        }
        text += ` ${datalen / 8} `;
        for (let i = 0; i < datalen && problem === null; i += 8) {
          problem = check(i + 8);
          if (problem === null) {
            text += `{${(u32(segment, at + i) - base) >>> 0}:${(u32(segment, at + i + 4) - base) >>> 0}}`;
          }
        }
        break;
      case 6:
      case 7:
      case 11:
      case 12:
      case 13:
        datalen = 4;
        problem = check(4);
        if (problem === null) text += ` ${u32(segment, at)}`;
        break;
      case 8:
        datalen = 8;
        problem = check(8);
        if (problem === null) text += ` val ${u32(segment, at)} ecr ${u32(segment, at + 4)}`;
        break;
      case 19:
        datalen = 16;
        problem = check(16);
        // tcpdump cannot check the RFC 2385 signature without the secret (-M).
        if (problem === null) {
          text += ` shared secret not supplied with -M, can't check - ${hex(segment.subarray(at, at + 16))}`;
        }
        break;
      case 20:
        datalen = 2;
        problem = check(2);
        if (problem === null) {
          text += ` cap ${segment[at]!.toString(16).padStart(2, '0')} id ${segment[at + 1]!}`;
        }
        break;
      case 28: {
        datalen = 2;
        problem = check(2);
        if (problem !== null) break;
        // RFC 5482 §3: the granularity bit says minutes or seconds.
        const value = u16(segment, at);
        text += ` 0x${value.toString(16)} ${(value & 1) !== 0 ? (value >>> 1) * 60 : value >>> 1}`;
        break;
      }
      case 29:
        datalen = len - 2;
        if (datalen < 2) {
          text += ' (invalid)';
          break;
        }
        problem = check(datalen);
        if (problem !== null) break;
        text += ` keyid ${segment[at]!} rnextkeyid ${segment[at + 1]!}`;
        if (datalen > 2) text += ` mac 0x${hex(segment.subarray(at + 2, at + datalen))}`;
        break;
      case 34:
        datalen = len - 2;
        problem = check(datalen);
        if (problem === null) text += ` ${fastOpen(segment.subarray(at, at + datalen), false)}`;
        break;
      case 254: {
        datalen = len - 2;
        problem = check(datalen);
        if (problem === null && datalen < 2) problem = 'bad';
        if (problem !== null) break;
        // RFC 6994: experiments are told apart by a 16-bit magic; 0xf989 is RFC 7413 Fast Open.
        const magic = u16(segment, at);
        text += `-${magic === 0xf989 ? fastOpen(segment.subarray(at + 2, at + datalen), true) : magic.toString(16).padStart(4, '0')}`;
        break;
      }
      case 30:
        datalen = len - 2;
        problem = check(datalen);
        if (problem === null) text += ' (not decoded by tcpts)';
        break;
      default:
        datalen = len - 2;
        if (datalen > 0) text += ' 0x';
        for (let i = 0; i < datalen && problem === null; i++) {
          problem = check(i + 1);
          if (problem === null) text += segment[at + i]!.toString(16).padStart(2, '0');
        }
        break;
    }
    if (problem === 'bad') return bad();
    if (problem === 'truncated') return truncated(true);
    // print-tcp.c steps over the data the kind should have, not what the length byte says.
    cursor.resumeAt(at + datalen);
    if (datalen + (kind > 1 ? 2 : 1) !== len) text += `[len ${len}]`;
    separator = ',';
    if (kind === 0) break;
  }
  return { text, complete: true };
}

const TCP_OPTION_NAMES: Readonly<Record<number, string>> = {
  0: 'eol',
  1: 'nop',
  2: 'mss',
  3: 'wscale',
  4: 'sackOK',
  5: 'sack',
  8: 'TS',
};

/** print-tcp.c's print_tcp_fastopen_option (RFC 7413 §4.1.1). */
function fastOpen(cookie: Uint8Array, experimental: boolean): string {
  const prefix = experimental ? 'tfo' : '';
  if (cookie.length === 0) return `${prefix} cookiereq`;
  if (cookie.length % 2 !== 0 || cookie.length < 4 || cookie.length > 16)
    return `${prefix} (invalid)`;
  return `${prefix} cookie ${hex(cookie)}`;
}
