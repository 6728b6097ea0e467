/**
 * Option negotiation on the handshake: MSS (RFC 9293 §3.7.1, RFC 6691),
 * window scale (RFC 7323 §2.2), SACK-permitted (RFC 2018 §2) and timestamps
 * (RFC 7323 §3.2), and the send MSS they leave per segment.
 */
import { type Instant } from '../base/index.js';
import { type TcpRepr } from '../wire/index.js';
import { type Tcb } from './tcb.js';

/** Bytes of TCP option space the timestamps option takes in every segment (RFC 7323 §3.2: 10 + 2 NOPs). */
const TIMESTAMP_OPTION_SPACE = 12;

/** What the peer's SYN (or SYN,ACK) and our configuration agree on. */
export function negotiateOptions(c: Tcb, now: Instant, syn: TcpRepr): void {
  const o = syn.options;
  c.snd.peerMss = o.mss > 0 ? o.mss : c.config.defaultPeerMss;
  c.opt.peerOfferedWscale = o.windowScale >= 0;
  if (c.config.windowScaling && o.windowScale >= 0 && c.opt.offeredWscale >= 0) {
    // RFC 7323 §2.2: scaling is on only when both SYNs carry the option.
    c.opt.sndWscale = Math.min(o.windowScale, 14);
    c.opt.rcvWscale = c.opt.offeredWscale;
  } else {
    c.opt.sndWscale = 0;
    c.opt.rcvWscale = 0;
  }
  c.opt.sackOn = c.config.sack && o.sackPermitted;
  c.opt.timestampsOn = c.config.timestamps && o.timestamp !== null;
  if (c.opt.timestampsOn && o.timestamp !== null) {
    c.opt.tsRecent = o.timestamp.value;
    c.opt.tsRecentSet = true;
    c.opt.tsRecentAt = now;
  }
  recomputeSendMss(c);
  // The peer's full-sized segment as we will see it: its MSS (bounded by
  // ours) less the timestamp option every segment then carries (RFC 7323
  // §3.2; 1448 bytes on Ethernet). RFC 5681 §4.2's "every second full-sized
  // segment" is judged against this; received segments can only raise it
  // (Linux's tcp_measure_rcv_mss follows the largest segment seen).
  c.rcv.mss =
    Math.min(c.config.mss, c.snd.peerMss) - (c.opt.timestampsOn ? TIMESTAMP_OPTION_SPACE : 0);
}

/** The send MSS from the peer's MSS, ours and the path, less the timestamps option. */
export function recomputeSendMss(c: Tcb): void {
  // RFC 9293 §3.7.1 / RFC 6691: the MSS option excludes TCP options, so the
  // timestamps option comes out of every segment's payload.
  let mss = Math.min(c.snd.peerMss, c.config.mss, c.snd.mtuMssLimit);
  if (c.opt.timestampsOn) mss -= TIMESTAMP_OPTION_SPACE;
  c.snd.mss = Math.max(mss, 48);
  c.cc.setMss(c.snd.mss);
}
