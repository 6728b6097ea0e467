/**
 * BBR's min_rtt model and ProbeRTT state (draft-ietf-ccwg-bbr §5.3.4,
 * §5.5.4). min_rtt is the lowest RTT of the last 10 s; a separate 5 s
 * minimum decides when to probe: once it has gone 5 s without a sample as
 * low, BBR cuts its flight to half a BDP (at least four segments) for 200 ms
 * and one round trip, so that the queue it and its competitors built
 * drains and the propagation delay shows. (BBRv1 waited the full 10 s and
 * went down to four segments flat.)
 */
import type { Instant } from '../../base/index.js';
import type { RateSample } from '../recovery/sample.js';
import {
  AckPhase,
  BbrState,
  MIN_RTT_FILTER_US,
  PROBE_RTT_CWND_GAIN,
  PROBE_RTT_DURATION_US,
  PROBE_RTT_INTERVAL_US,
} from './bbr-model.js';
import type { Bbr } from './bbr.js';

/** min_rtt and ProbeRTT; one per {@link Bbr}. */
export class ProbeRtt {
  private readonly bbr: Bbr;
  /** BBR.min_rtt in µs, or -1 before the first sample. */
  minRtt = -1;
  private minRttStamp = 0;
  /** BBR.probe_rtt_min_delay and its stamp: the lowest RTT of the last 5 s. */
  private minDelay = -1;
  private minDelayStamp = 0;
  private expired = false;
  /** When ProbeRTT may end (0: inflight is not down yet), and whether a round passed since. */
  private doneStamp = 0;
  private roundDone = false;
  /** Sending restarted after an idle period (ProbeRTT is not needed then: the queue is empty). */
  idleRestart = false;
  /** MarkConnectionAppLimited is owed to the connection. */
  appLimitedRequest = false;

  constructor(bbr: Bbr) {
    this.bbr = bbr;
  }

  /** §5.5.4 BBRUpdateMinRTT. */
  updateMinRtt(now: Instant, rs: RateSample): void {
    this.expired = now > this.minDelayStamp + PROBE_RTT_INTERVAL_US;
    if (rs.rtt >= 0 && (this.minDelay < 0 || rs.rtt < this.minDelay || this.expired)) {
      this.minDelay = rs.rtt;
      this.minDelayStamp = now;
    }
    const minRttExpired = now > this.minRttStamp + MIN_RTT_FILTER_US;
    if (this.minDelay >= 0 && (this.minRtt < 0 || this.minDelay < this.minRtt || minRttExpired)) {
      this.minRtt = this.minDelay;
      this.minRttStamp = this.minDelayStamp;
    }
  }

  /** §5.3.4.4 BBRCheckProbeRTT. */
  check(now: Instant, rs: RateSample): void {
    const bbr = this.bbr;
    if (bbr.state !== BbrState.ProbeRtt && this.expired && !this.idleRestart) {
      bbr.setState(BbrState.ProbeRtt, 1, PROBE_RTT_CWND_GAIN);
      bbr.saveCwnd();
      this.doneStamp = 0;
      bbr.cycle.ackPhase = AckPhase.ProbeStopping;
      bbr.startRound(rs.deliveredTotal);
    }
    if (bbr.state === BbrState.ProbeRtt) this.handle(now, rs);
    if (rs.newlyAcked > 0) this.idleRestart = false;
  }

  private handle(now: Instant, rs: RateSample): void {
    // ProbeRTT's low rate must not lower the bandwidth estimate.
    this.appLimitedRequest = true;
    if (this.doneStamp === 0 && rs.inFlight <= this.cwnd()) {
      this.doneStamp = now + PROBE_RTT_DURATION_US;
      this.roundDone = false;
      this.bbr.startRound(rs.deliveredTotal);
    } else if (this.doneStamp !== 0) {
      if (this.bbr.roundStart) this.roundDone = true;
      if (this.roundDone) this.checkDone(now);
    }
  }

  /** BBRCheckProbeRTTDone: 200 ms and a round at the low flight are over: back to probing bandwidth. */
  checkDone(now: Instant): void {
    if (this.doneStamp === 0 || now <= this.doneStamp) return;
    const bbr = this.bbr;
    // min_rtt was measured afresh: the 5 s wait starts again.
    this.minDelayStamp = now;
    bbr.restoreCwnd();
    bbr.resetLowerBounds();
    if (bbr.filledPipe) {
      bbr.cycle.startDown(now);
      bbr.cycle.startCruise();
    } else {
      bbr.enterStartup();
    }
  }

  /** §5.6.4.4 BBRProbeRTTCwnd: half a BDP, at least BBRMinPipeCwnd. */
  cwnd(): number {
    const bbr = this.bbr;
    const cwnd = bbr.bdpMultiple(PROBE_RTT_CWND_GAIN);
    return cwnd > bbr.minPipeCwnd ? cwnd : bbr.minPipeCwnd;
  }
}
