/**
 * Proportional Rate Reduction (RFC 6937): how much may be sent on each ACK
 * during fast recovery (and Linux's CWR state), so that the data in flight
 * falls smoothly from the window before the loss to ssthresh, instead of
 * stalling for half a round trip (RFC 6675 §5's cwnd = ssthresh) or
 * bursting (NewReno's window inflation and deflation).
 *
 * While pipe > ssthresh the sender sends ssthresh/RecoverFS of what is
 * delivered; below ssthresh, slow start reduction bound (PRR-SSRB) lets it
 * climb back by at most one MSS more than what was delivered.
 */

/** PRR state for one recovery episode; bytes throughout. */
export class Prr {
  /** RFC 6937 RecoverFS: FlightSize when recovery began. */
  recoverFs = 1;
  /** RFC 6937 prr_delivered: bytes delivered to the receiver since recovery began. */
  delivered = 0;
  /** RFC 6937 prr_out: bytes sent (new or retransmitted) since recovery began. */
  out = 0;
  private ssthresh = 0;

  /** RFC 6937 §3 "on entering recovery". */
  start(recoverFs: number, ssthresh: number): void {
    this.recoverFs = recoverFs > 0 ? recoverFs : 1;
    this.ssthresh = ssthresh;
    this.delivered = 0;
    this.out = 0;
  }

  /** RFC 6937 §3 "on any data transmission or retransmission". */
  onSent(bytes: number): void {
    this.out += bytes;
  }

  /**
   * RFC 6937 §3 "on every ACK during recovery": `deliveredData` bytes newly
   * acknowledged or SACKed, `pipe` after this ACK; `safeAck` when the ACK
   * advanced SND.UNA and showed no new loss (RFC 9937; true, RFC 6937's rule, when not
   * said). Returns sndcnt, the bytes
   * that may be sent now (the caller sets cwnd = pipe + sndcnt). Like Linux,
   * the first transmission of an episode (the fast retransmit) is never
   * held back: sndcnt is at least one MSS while nothing has been sent.
   */
  sendQuota(deliveredData: number, pipe: number, mss: number, safeAck = true): number {
    this.delivered += deliveredData;
    let sndcnt: number;
    if (pipe > this.ssthresh) {
      // Proportional rate reduction: CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out.
      sndcnt = Math.ceil((this.delivered * this.ssthresh) / this.recoverFs) - this.out;
    } else {
      // PRR-CRB, MAX(prr_delivered - prr_out, DeliveredData), with PRR-SSRB's extra
      // MSS only on a safe ACK (RFC 9937 §6, as Linux's tcp_cwnd_reduction; RFC 6937
      // added it on every ACK), at most ssthresh - pipe.
      const limit = Math.max(this.delivered - this.out, deliveredData) + (safeAck ? mss : 0);
      sndcnt = Math.min(this.ssthresh - pipe, limit);
    }
    if (sndcnt < 0) sndcnt = 0;
    if (this.out === 0 && sndcnt < mss) sndcnt = mss;
    return sndcnt;
  }
}
