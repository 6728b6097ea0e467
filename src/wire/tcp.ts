import type { SeqNum } from '../base/index.js';

/** TCP header flag bits (RFC 9293 §3.1, RFC 3168 for ECE/CWR). */
export const TcpFlags = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** One SACK block (RFC 2018): bytes [left, right) held by the receiver. */
export interface SackBlock {
  left: SeqNum;
  right: SeqNum;
}

/** The timestamps option (RFC 7323 §3). */
export interface TcpTimestamp {
  value: number;
  echo: number;
}

/**
 * The TCP options tcpts understands. Absent options use sentinels rather than
 * optional fields so every repr has the same shape.
 */
export interface TcpOptions {
  /** Maximum segment size (RFC 9293 §3.7.1); 0 when absent. */
  mss: number;
  /** Window scale shift (RFC 7323 §2); -1 when absent. */
  windowScale: number;
  /** SACK-permitted (RFC 2018). */
  sackPermitted: boolean;
  /** SACK blocks, at most 4 on the wire (3 with timestamps). */
  sackBlocks: SackBlock[];
  /** Timestamps, or null when absent. */
  timestamp: TcpTimestamp | null;
}

/** A TCP segment as plain data. `window` is the raw 16-bit header field (unscaled). */
export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: SeqNum;
  ack: SeqNum;
  flags: number;
  window: number;
  urgent: number;
  options: TcpOptions;
  payload: Uint8Array;
}

/** Options with nothing set. */
export function noTcpOptions(): TcpOptions {
  return { mss: 0, windowScale: -1, sackPermitted: false, sackBlocks: [], timestamp: null };
}
