/**
 * What the TCP demultiplexer reads off an arriving segment: the connection
 * table's key (RFC 9293 §3.3.1: the 4-tuple identifies a connection), the
 * rule that matches a segment to a socket, the ECN codepoint of its IP
 * header (RFC 3168 §5), and the scratch repr a SYN cookie's SYN-ACK is
 * written into.
 */
import { seq } from '../base/index.js';
import { noTcpOptions, type TcpRepr } from '../wire/index.js';
import type { IpAddr } from './address.js';
import type { TcpSocket } from './sockets.js';

/** A SYN-ACK's TCP fields, written anew for every SYN cookie (see SynCookies.answer). */
export function emptyRepr(): TcpRepr {
  return {
    srcPort: 0,
    dstPort: 0,
    seq: seq(0),
    ack: seq(0),
    flags: 0,
    window: 0,
    urgent: 0,
    options: noTcpOptions(),
    payload: new Uint8Array(0),
  };
}

/** Whether a segment from `remote`:`remotePort` to `local`:`localPort` belongs to `socket`. */
export function demuxMatches(
  socket: TcpSocket,
  remote: IpAddr,
  remotePort: number,
  local: IpAddr,
  localPort: number,
): boolean {
  return (
    socket.remotePort === remotePort &&
    socket.localPort === localPort &&
    sameAddress(socket.remoteAddress, remote) &&
    sameAddress(socket.localAddress, local)
  );
}

function sameAddress(a: IpAddr, b: IpAddr): boolean {
  if (a === b) return true;
  if (a.family !== b.family) return false;
  return a.family === 4 ? a.v4 === b.v4 : a.text === b.text;
}

/** The connection table key: remote address and port, then local. */
export function tupleKey(
  remote: IpAddr,
  remotePort: number,
  local: IpAddr,
  localPort: number,
): string {
  return `${remote.text}|${remotePort}|${local.text}|${localPort}`;
}

/** The ECN field of an IP packet's header (RFC 3168 §5), for TCP's congestion echo. */
export function ecnCodepoint(packet: Uint8Array): number {
  if (packet.length < 2) return 0;
  return packet[0]! >>> 4 === 4 ? packet[1]! & 3 : (packet[1]! >>> 4) & 3;
}
