/**
 * TCP timestamps (RFC 7323): the values are a 32-bit clock that wraps, so
 * every comparison of two TS.Val (or of TS.Ecr with a TS.Val of ours) is
 * modular, as sequence numbers are (RFC 7323 §5.2: "the comparison is
 * performed as 32-bit signed arithmetic"). PAWS (§5.3 R1), TS.Recent
 * updates (§4.3), RTT samples (§4) and Eifel's check (RFC 3522) all go
 * through `tsDiff`. Our own clock and TS.Recent live here too.
 */
import { type Instant, seqLe } from '../base/index.js';
import { type TcpRepr } from '../wire/index.js';
import { type Tcb } from './tcb.js';

/**
 * `a − b` for two timestamp values, as a signed 32-bit number: negative when
 * `a` is older than `b`, positive when newer, 0 when equal (RFC 7323 §5.2).
 */
export function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** Our TSval at `now`. */
export function tsClock(c: Tcb, now: Instant): number {
  // A 1 ms timestamp clock (RFC 7323 §5.4 allows 1 ms to 1 s), offset per connection.
  return (Math.floor(now / 1000) + c.opt.timestampOffset) >>> 0;
}

/** TS.Recent takes the TSval of a segment that is newer and not beyond our last ACK (RFC 7323 §4.3). */
export function updateTimestampRecent(c: Tcb, now: Instant, seg: TcpRepr): void {
  // RFC 7323 §4.3: TS.Recent follows segments at or before Last.ACK.sent.
  const ts = seg.options.timestamp;
  if (!c.opt.timestampsOn || ts === null) return;
  if (
    (!c.opt.tsRecentSet || tsDiff(ts.value, c.opt.tsRecent) >= 0) &&
    seqLe(seg.seq, c.opt.lastAckSent)
  ) {
    c.opt.tsRecent = ts.value;
    c.opt.tsRecentSet = true;
    c.opt.tsRecentAt = now;
  }
}
