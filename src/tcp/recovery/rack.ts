/**
 * RACK-TLP (RFC 8985): time-based loss detection and tail loss probes.
 *
 * RACK deems a segment lost when a segment sent sufficiently later has been
 * delivered: "sufficiently" is the RTT of that later segment plus a
 * reordering window, which starts at min_RTT/4, is zero while no reordering
 * has been seen and three segments are SACKed (so RACK then acts like the
 * three-duplicate-ACK rule), and grows by a quarter min_RTT for each round
 * in which a D-SACK showed a retransmission to have been spurious.
 *
 * TLP sends one probe (new data, or the last segment again) when the ACKs
 * stop two SRTTs before the RTO would fire, so that a lost tail is repaired
 * by RACK and fast recovery instead of a timeout.
 */
import { sentAfter, type AckSample } from './sample.js';
import { SegmentFlag, type SentSegments } from './scoreboard.js';

/** RFC 8985 §6.2: how many rounds a grown reordering window persists after recovery. */
const REO_WND_PERSIST = 16;
/** RFC 8985 §6.2: DupThresh, the SACKed-segment count at which an unseen-reordering window drops to 0. */
const DUP_THRESH = 3;

/** RACK and TLP state for one connection (RFC 8985 §5.2). */
export class Rack {
  /** RACK.xmit_ts and RACK.end_seq: the most recently sent segment delivered; -1 before any. */
  xmitTs = -1;
  endSeq = -1;
  /** RACK.rtt (µs): the RTT of that segment. */
  rtt = 0;
  /** RACK.reo_wnd_mult: quarters of min_RTT in the reordering window. */
  reoWndMult = 1;
  /** RACK.reo_wnd_persist. */
  reoWndPersist = 0;
  /** RACK.dsack_round: SND.NXT (offset) when the last D-SACK widened the window, or -1. */
  dsackRound = -1;
  /** RACK.reordering_seen. */
  reorderingSeen = false;
  /** TLP.end_seq: SND.NXT (offset) when the probe went out, or -1 with no probe outstanding. */
  tlpEnd = -1;
  /** TLP.is_retrans: the probe was a retransmission (not new data). */
  tlpIsRetrans = false;
  /** Segments the last `detectLoss` marked lost. */
  newlyLost = 0;

  /** RFC 8985 §6.2 steps 2-3 from one ACK's deliveries. */
  update(sample: AckSample): void {
    if (sample.reorderSeen) this.reorderingSeen = true;
    if (sample.rackXmit < 0) return;
    this.rtt = sample.rackRtt;
    if (sentAfter(sample.rackXmit, sample.rackEnd, this.xmitTs, this.endSeq)) {
      this.xmitTs = sample.rackXmit;
      this.endSeq = sample.rackEnd;
    }
  }

  /** RFC 8985 §6.2 step 4, first part: a D-SACK widens the window, once per round trip. */
  onDsack(sndNxt: number): void {
    if (this.dsackRound >= 0) return;
    this.dsackRound = sndNxt;
    this.reoWndMult++;
    this.reoWndPersist = REO_WND_PERSIST;
  }

  /** RFC 8985 §6.2 step 4: the D-SACK round ends once SND.UNA passes it. */
  onCumulativeAck(sndUna: number): void {
    if (this.dsackRound >= 0 && sndUna >= this.dsackRound) this.dsackRound = -1;
  }

  /** RFC 8985 §6.2 step 4: leaving fast or RTO recovery ages a widened window. */
  onRecoveryExit(): void {
    this.reoWndPersist--;
    if (this.reoWndPersist <= 0) {
      this.reoWndPersist = 0;
      this.reoWndMult = 1;
    }
  }

  /**
   * RACK.reo_wnd (RFC 8985 §6.2 step 4): 0 when no reordering has been seen
   * and we are recovering or three segments are SACKed; otherwise
   * min(reo_wnd_mult · min_RTT / 4, SRTT).
   */
  reorderWindow(recovering: boolean, sackedSegments: number, minRtt: number, srtt: number): number {
    if (!this.reorderingSeen && (recovering || sackedSegments >= DUP_THRESH)) return 0;
    if (minRtt < 0) return 0;
    const wnd = (this.reoWndMult * minRtt) / 4;
    return srtt > 0 && wnd > srtt ? srtt : wnd;
  }

  /**
   * RFC 8985 §6.2 step 5 (RACK_detect_loss): every segment sent before
   * RACK.xmit_ts whose RTT plus the reordering window has elapsed is lost;
   * returns how long until the next one would be (0: none pending), for the
   * reordering timer. `newlyLost` counts what it marked.
   *
   * Entries are walked in sequence order, which is transmit order for those
   * never retransmitted: at the first of those not sent before RACK.xmit_ts
   * the walk can stop, since everything above it (retransmitted or not) was
   * sent later still.
   */
  detectLoss(board: SentSegments, now: number, reoWnd: number): number {
    this.newlyLost = 0;
    if (this.xmitTs < 0) return 0;
    let timeout = 0;
    const n = board.count;
    for (let i = 0; i < n; i++) {
      const f = board.flagsAt(i);
      if ((f & SegmentFlag.Sacked) !== 0) continue;
      // Lost and not yet retransmitted: already waiting for its retransmission.
      if ((f & (SegmentFlag.Lost | SegmentFlag.Retrans)) === SegmentFlag.Lost) continue;
      const xmit = board.xmitAt(i);
      if (!sentAfter(this.xmitTs, this.endSeq, xmit, board.endAt(i))) {
        if ((f & SegmentFlag.EverRetrans) === 0) break;
        continue;
      }
      const remaining = xmit + this.rtt + reoWnd - now;
      if (remaining <= 0) {
        if (board.markLost(i)) this.newlyLost++;
      } else if (remaining > timeout) {
        timeout = remaining;
      }
    }
    return timeout;
  }

  /** A timeout or a new connection state: no probe is outstanding. */
  resetProbe(): void {
    this.tlpEnd = -1;
    this.tlpIsRetrans = false;
  }
}
