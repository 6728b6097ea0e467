/**
 * DHCP messages (RFC 2131 §2, options of RFC 2132): parse what a client
 * sends, emit what a server answers. Pure: bytes in, a message or a named
 * drop reason out; nothing here throws on bad input.
 */

/** Why a DHCP message was dropped. */
export const DhcpDropReason = {
  /** Shorter than the fixed part and the magic cookie (RFC 2131 §2: 236 + 4 bytes). */
  Truncated: 'dhcp-truncated',
  /** op is not BOOTREQUEST (a server only takes requests). */
  NotRequest: 'dhcp-not-request',
  /** Not Ethernet (htype 1, hlen 6): the only hardware we serve. */
  BadHardware: 'dhcp-bad-hardware',
  /** The options do not start with 99.130.83.99 (RFC 2131 §3). */
  BadCookie: 'dhcp-bad-cookie',
  /** An option runs past the end of the message. */
  BadOption: 'dhcp-bad-option',
  /** No DHCP message type option (53), or one of a wrong length (RFC 2132 §9.6). */
  NoMessageType: 'dhcp-no-message-type',
} as const;
export type DhcpDropReason = (typeof DhcpDropReason)[keyof typeof DhcpDropReason];

/** RFC 2132 §9.6: the DHCP message types. */
export const DhcpMessageType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;

/** RFC 2132 option codes we read or write. */
export const DhcpOption = {
  Pad: 0,
  SubnetMask: 1,
  Router: 3,
  DnsServers: 6,
  HostName: 12,
  RequestedAddress: 50,
  LeaseTime: 51,
  MessageType: 53,
  ServerId: 54,
  RenewalTime: 58,
  RebindingTime: 59,
  End: 255,
} as const;

/** Offsets of the fixed part (RFC 2131 §2, Figure 1). */
const OP = 0;
const HTYPE = 1;
const HLEN = 2;
const XID = 4;
const FLAGS = 10;
const CIADDR = 12;
const YIADDR = 16;
const SIADDR = 20;
const GIADDR = 24;
const CHADDR = 28;
const COOKIE = 236;
const OPTIONS = 240;
const MAGIC_COOKIE = 0x63825363;
const BOOTREQUEST = 1;
const BOOTREPLY = 2;

/** A client's message, as far as a server needs it. IPv4 addresses are numbers. */
export interface DhcpRequest {
  messageType: number;
  xid: number;
  flags: number;
  ciaddr: number;
  giaddr: number;
  /** The client's MAC (6 bytes, copied). */
  chaddr: Uint8Array;
  /** Option 50, or null. */
  requestedAddress: number | null;
  /** Option 54, or null. */
  serverId: number | null;
}

function u32(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0
  );
}

function putU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}

/** Parses a client's DHCP message, or names why it is dropped. */
export function parseDhcpRequest(bytes: Uint8Array): DhcpRequest | DhcpDropReason {
  if (bytes.length < OPTIONS) return DhcpDropReason.Truncated;
  if (bytes[OP] !== BOOTREQUEST) return DhcpDropReason.NotRequest;
  if (bytes[HTYPE] !== 1 || bytes[HLEN] !== 6) return DhcpDropReason.BadHardware;
  if (u32(bytes, COOKIE) !== MAGIC_COOKIE) return DhcpDropReason.BadCookie;
  let messageType = -1;
  let requestedAddress: number | null = null;
  let serverId: number | null = null;
  let at = OPTIONS;
  let ended = false;
  while (at < bytes.length) {
    const code = bytes[at]!;
    if (code === DhcpOption.Pad) {
      at++;
      continue;
    }
    if (code === DhcpOption.End) {
      ended = true;
      break;
    }
    if (at + 2 > bytes.length) return DhcpDropReason.BadOption;
    const length = bytes[at + 1]!;
    const value = at + 2;
    if (value + length > bytes.length) return DhcpDropReason.BadOption;
    if (code === DhcpOption.MessageType) {
      if (length !== 1) return DhcpDropReason.NoMessageType;
      messageType = bytes[value]!;
    } else if (code === DhcpOption.RequestedAddress && length === 4) {
      requestedAddress = u32(bytes, value);
    } else if (code === DhcpOption.ServerId && length === 4) {
      serverId = u32(bytes, value);
    }
    at = value + length;
  }
  // RFC 2131 §4.1: options end with End; a message cut short of it lost some.
  if (!ended) return DhcpDropReason.BadOption;
  if (messageType < DhcpMessageType.Discover || messageType > DhcpMessageType.Inform)
    return DhcpDropReason.NoMessageType;
  return {
    messageType,
    xid: u32(bytes, XID),
    flags: (bytes[FLAGS]! << 8) | bytes[FLAGS + 1]!,
    ciaddr: u32(bytes, CIADDR),
    giaddr: u32(bytes, GIADDR),
    chaddr: bytes.slice(CHADDR, CHADDR + 6),
    requestedAddress,
    serverId,
  };
}

/** A server's answer (OFFER, ACK or NAK). */
export interface DhcpReply {
  messageType: number;
  xid: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  giaddr: number;
  chaddr: Uint8Array;
  serverId: number;
  /** Seconds; null for a NAK or an INFORM's ACK (RFC 2131 §3.4: no lease). */
  leaseTime: number | null;
  subnetMask: number | null;
  router: number | null;
  dnsServers: number[];
}

/** Emits a server's reply: the fixed part, the cookie, the options, End. */
export function emitDhcpReply(reply: DhcpReply): Uint8Array {
  const options: number[] = [DhcpOption.MessageType, 1, reply.messageType];
  const addressOption = (code: number, values: number[]): void => {
    options.push(code, values.length * 4);
    for (const v of values) options.push(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  };
  addressOption(DhcpOption.ServerId, [reply.serverId]);
  if (reply.leaseTime !== null) {
    addressOption(DhcpOption.LeaseTime, [reply.leaseTime]);
    // RFC 2131 §4.4.5: T1 at half the lease, T2 at seven eighths.
    addressOption(DhcpOption.RenewalTime, [Math.floor(reply.leaseTime / 2)]);
    addressOption(DhcpOption.RebindingTime, [Math.floor((reply.leaseTime * 7) / 8)]);
  }
  if (reply.subnetMask !== null) addressOption(DhcpOption.SubnetMask, [reply.subnetMask]);
  if (reply.router !== null) addressOption(DhcpOption.Router, [reply.router]);
  if (reply.dnsServers.length > 0) addressOption(DhcpOption.DnsServers, reply.dnsServers);
  options.push(DhcpOption.End);
  // BOOTP's minimum of 300 bytes (RFC 1542 §3.1.1): some clients want it.
  const bytes = new Uint8Array(Math.max(300, OPTIONS + options.length));
  bytes[OP] = BOOTREPLY;
  bytes[HTYPE] = 1;
  bytes[HLEN] = 6;
  putU32(bytes, XID, reply.xid);
  bytes[FLAGS] = reply.flags >>> 8;
  bytes[FLAGS + 1] = reply.flags & 0xff;
  putU32(bytes, CIADDR, reply.ciaddr);
  putU32(bytes, YIADDR, reply.yiaddr);
  putU32(bytes, SIADDR, 0);
  putU32(bytes, GIADDR, reply.giaddr);
  bytes.set(reply.chaddr.subarray(0, 6), CHADDR);
  putU32(bytes, COOKIE, MAGIC_COOKIE);
  bytes.set(options, OPTIONS);
  return bytes;
}

/** Builds a client's message (for tests, and for clients written against this codec). */
export function emitDhcpRequest(request: {
  messageType: number;
  xid: number;
  chaddr: Uint8Array;
  requestedAddress?: number;
  serverId?: number;
}): Uint8Array {
  const options: number[] = [DhcpOption.MessageType, 1, request.messageType];
  if (request.requestedAddress !== undefined) {
    const v = request.requestedAddress;
    options.push(
      DhcpOption.RequestedAddress,
      4,
      v >>> 24,
      (v >>> 16) & 0xff,
      (v >>> 8) & 0xff,
      v & 0xff,
    );
  }
  if (request.serverId !== undefined) {
    const v = request.serverId;
    options.push(DhcpOption.ServerId, 4, v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }
  options.push(DhcpOption.End);
  const bytes = new Uint8Array(Math.max(300, OPTIONS + options.length));
  bytes[OP] = BOOTREQUEST;
  bytes[HTYPE] = 1;
  bytes[HLEN] = 6;
  putU32(bytes, XID, request.xid);
  bytes.set(request.chaddr.subarray(0, 6), CHADDR);
  putU32(bytes, COOKIE, MAGIC_COOKIE);
  bytes.set(options, OPTIONS);
  return bytes;
}

/** Parses a server's reply (tests read OFFERs and ACKs with it), or null. */
export function parseDhcpReply(
  bytes: Uint8Array,
): { messageType: number; xid: number; yiaddr: number; options: Map<number, Uint8Array> } | null {
  if (bytes.length < OPTIONS || bytes[OP] !== BOOTREPLY || u32(bytes, COOKIE) !== MAGIC_COOKIE)
    return null;
  const options = new Map<number, Uint8Array>();
  let at = OPTIONS;
  while (at < bytes.length && bytes[at] !== DhcpOption.End) {
    if (bytes[at] === DhcpOption.Pad) {
      at++;
      continue;
    }
    if (at + 2 > bytes.length) return null;
    const length = bytes[at + 1]!;
    if (at + 2 + length > bytes.length) return null;
    options.set(bytes[at]!, bytes.slice(at + 2, at + 2 + length));
    at += 2 + length;
  }
  const type = options.get(DhcpOption.MessageType);
  if (type === undefined || type.length !== 1) return null;
  return { messageType: type[0]!, xid: u32(bytes, XID), yiaddr: u32(bytes, YIADDR), options };
}
