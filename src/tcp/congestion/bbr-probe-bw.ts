/**
 * BBR's ProbeBW cycle (draft-ietf-ccwg-bbr §5.3.3): DOWN drains the queue a
 * probe left, CRUISE holds a little below inflight_hi to leave room for
 * other flows, REFILL sends at the estimated rate for a round so that the
 * pipe is full when UP starts, and UP sends 25 % faster, raising inflight_hi
 * ever faster (1, 2, 4 ... segments per round) until the bandwidth stops
 * growing or the flight loses more than 2 %. The wait between probes is
 * 2-3 s, or sooner if a Reno flow sharing the path would have probed
 * (one round per segment of the BDP, at most 63).
 */
import type { Instant } from '../../base/index.js';
import type { RateSample } from '../recovery/sample.js';
import {
  AckPhase,
  BbrState,
  DEFAULT_CWND_GAIN,
  MAX_PROBE_UP_ROUNDS,
  MAX_RENO_ROUNDS,
  PROBE_DOWN_PACING_GAIN,
  PROBE_UP_CWND_GAIN,
  PROBE_UP_PACING_GAIN,
} from './bbr-model.js';
import { isInflightTooHigh, type Bbr } from './bbr.js';

/** The ProbeBW phases' bookkeeping; one per {@link Bbr}. */
export class ProbeBwCycle {
  private readonly bbr: Bbr;
  private readonly random: () => number;
  /** BBR.ack_phase: where the current probe's feedback stands. */
  ackPhase: AckPhase = AckPhase.Init;
  /** When the current phase began (BBR.cycle_stamp, µs). */
  cycleStamp = 0;
  /** The wall-clock wait before the next probe (BBR.bw_probe_wait, µs). */
  bwProbeWait = 0;
  /** Rounds since the last probe (for the Reno-coexistence bound). */
  roundsSinceBwProbe = 0;
  /** Rounds of UP so far: inflight_hi grows by 2^this segments per round. */
  private bwProbeUpRounds = 0;
  /** Bytes acknowledged toward the next inflight_hi step, and the bytes per step. */
  private bwProbeUpAcks = 0;
  private probeUpCnt = Infinity;
  /** A probe is in progress whose losses should set inflight_hi (BBR.bw_probe_samples). */
  bwProbeSamples = false;
  /** The phases visited, in order, for tests and traces (bounded). */
  readonly visited: BbrState[] = [];

  constructor(bbr: Bbr, random: () => number) {
    this.bbr = bbr;
    this.random = random;
  }

  isProbeBw(): boolean {
    const s = this.bbr.state;
    return (
      s === BbrState.ProbeBwDown ||
      s === BbrState.ProbeBwCruise ||
      s === BbrState.ProbeBwRefill ||
      s === BbrState.ProbeBwUp
    );
  }

  private enter(state: BbrState, pacingGain: number, cwndGain: number): void {
    this.bbr.setState(state, pacingGain, cwndGain);
    if (this.visited.length < 256) this.visited.push(state);
  }

  /** §5.3.3.6 BBRUpdateProbeBWCyclePhase, with BBRAdaptUpperBounds first. */
  update(now: Instant, rs: RateSample): void {
    const bbr = this.bbr;
    if (!bbr.filledPipe) return;
    this.adaptUpperBounds(now, rs);
    if (!this.isProbeBw()) return;
    switch (bbr.state) {
      case BbrState.ProbeBwDown:
        if (this.checkTimeToProbe(now, rs)) return;
        if (this.checkTimeToCruise(rs)) this.startCruise();
        break;
      case BbrState.ProbeBwCruise:
        this.checkTimeToProbe(now, rs);
        break;
      case BbrState.ProbeBwRefill:
        // One round at the estimated rate refilled the pipe: now probe.
        if (bbr.roundStart) {
          this.bwProbeSamples = true;
          this.startUp(rs);
        }
        break;
      case BbrState.ProbeBwUp:
        if (this.checkTimeToGoDown(rs)) this.startDown(now);
        break;
      default:
        break;
    }
  }

  /** §5.3.3.6 BBRStartProbeBW_DOWN (also how Drain and ProbeRTT hand over to ProbeBW). */
  startDown(now: Instant): void {
    const bbr = this.bbr;
    bbr.resetFullBw();
    this.probeUpCnt = Infinity;
    // BBRPickProbeWait: 0 or 1 rounds of Reno credit, and 2 to 3 s of wall clock.
    this.roundsSinceBwProbe = this.random() < 0.5 ? 0 : 1;
    this.bwProbeWait = 2_000_000 + Math.floor(this.random() * 1_000_000);
    this.cycleStamp = now;
    this.ackPhase = AckPhase.ProbeStopping;
    bbr.startRound();
    this.enter(BbrState.ProbeBwDown, PROBE_DOWN_PACING_GAIN, DEFAULT_CWND_GAIN);
  }

  startCruise(): void {
    this.enter(BbrState.ProbeBwCruise, 1, DEFAULT_CWND_GAIN);
  }

  private startRefill(): void {
    const bbr = this.bbr;
    // The short-term bounds came from the last probe's losses; a new probe starts without them.
    bbr.resetLowerBounds();
    this.bwProbeUpRounds = 0;
    this.bwProbeUpAcks = 0;
    this.ackPhase = AckPhase.Refilling;
    bbr.startRound();
    this.enter(BbrState.ProbeBwRefill, 1, DEFAULT_CWND_GAIN);
  }

  private startUp(rs: RateSample): void {
    const bbr = this.bbr;
    this.ackPhase = AckPhase.ProbeStarting;
    bbr.startRound(rs.deliveredTotal);
    bbr.resetFullBw();
    bbr.fullBw = rs.valid ? rs.deliveryRate : 0;
    this.enter(BbrState.ProbeBwUp, PROBE_UP_PACING_GAIN, PROBE_UP_CWND_GAIN);
    this.raiseInflightHiSlope();
  }

  /** BBRCheckTimeToProbeBW: the wait is over (wall clock or Reno rounds): refill, then probe. */
  private checkTimeToProbe(now: Instant, _rs: RateSample): boolean {
    if (now > this.cycleStamp + this.bwProbeWait || this.isRenoCoexistenceProbeTime()) {
      this.startRefill();
      return true;
    }
    return false;
  }

  /**
   * BBRIsRenoCoexistenceProbeTime: a Reno flow grows one segment per round,
   * so it would refill a BDP-sized window in BDP/MSS rounds; BBR probes at
   * least that often (at most every 63 rounds).
   */
  private isRenoCoexistenceProbeTime(): boolean {
    const bbr = this.bbr;
    const renoRounds = Math.floor(bbr.targetInflight() / bbr.mss);
    const rounds = renoRounds < MAX_RENO_ROUNDS ? renoRounds : MAX_RENO_ROUNDS;
    return this.roundsSinceBwProbe >= rounds;
  }

  /** BBRCheckTimeToCruise: DOWN ends once inflight is below both the headroom bound and one BDP. */
  private checkTimeToCruise(rs: RateSample): boolean {
    const bbr = this.bbr;
    if (rs.inFlight > bbr.inflightWithHeadroom()) return false;
    return rs.inFlight <= bbr.inflightFor(1);
  }

  /**
   * BBRCheckTimeToGoDown: UP ends when the bandwidth has stopped growing
   * (three rounds without 25 % more). While inflight_hi itself limits the
   * flight, the plateau count restarts, since then the rate cannot grow.
   */
  private checkTimeToGoDown(rs: RateSample): boolean {
    const bbr = this.bbr;
    if (bbr.isCwndLimited(rs) && bbr.cwnd >= bbr.inflightHi) {
      bbr.resetFullBw();
      bbr.fullBw = rs.valid ? rs.deliveryRate : 0;
      return false;
    }
    return bbr.fullBwNow;
  }

  /** BBRRaiseInflightHiSlope: each round of UP doubles how fast inflight_hi grows. */
  private raiseInflightHiSlope(): void {
    const bbr = this.bbr;
    const growthThisRound = bbr.mss * 2 ** this.bwProbeUpRounds;
    if (this.bwProbeUpRounds < MAX_PROBE_UP_ROUNDS) this.bwProbeUpRounds++;
    // Bytes to acknowledge per MSS of growth.
    this.probeUpCnt = Math.max(bbr.cwnd / growthThisRound, 1) * bbr.mss;
  }

  /** BBRProbeInflightHiUpward: while cwnd-limited at inflight_hi, raise it per the slope. */
  private probeInflightHiUpward(rs: RateSample): void {
    const bbr = this.bbr;
    if (!bbr.isCwndLimited(rs) || bbr.cwnd < bbr.inflightHi) return;
    this.bwProbeUpAcks += rs.newlyAcked;
    if (this.bwProbeUpAcks >= this.probeUpCnt) {
      const steps = Math.floor(this.bwProbeUpAcks / this.probeUpCnt);
      this.bwProbeUpAcks -= steps * this.probeUpCnt;
      bbr.inflightHi += steps * bbr.mss;
    }
    if (bbr.roundStart) this.raiseInflightHiSlope();
  }

  /**
   * §5.5.10.2 BBRAdaptUpperBounds: a probe's first round of feedback
   * arrives; the round after DOWN starts ends the bandwidth cycle (the
   * max_bw filter moves on); a flight that lost too much lowers inflight_hi,
   * one that did not may raise it.
   */
  private adaptUpperBounds(now: Instant, rs: RateSample): void {
    const bbr = this.bbr;
    if (this.ackPhase === AckPhase.ProbeStarting && bbr.roundStart)
      this.ackPhase = AckPhase.ProbeFeedback;
    if (this.ackPhase === AckPhase.ProbeStopping && bbr.roundStart) {
      // The probe's last samples are in: its losses no longer set
      // inflight_hi, and the max_bw window moves on a cycle now, when the
      // latest sample is the best recent one (as Linux BBRv3 does).
      this.bwProbeSamples = false;
      this.ackPhase = AckPhase.Init;
      if (this.isProbeBw() && !rs.isAppLimited) bbr.maxBwFilter.advance();
    }
    if (isInflightTooHigh(rs)) {
      if (this.bwProbeSamples) bbr.handleInflightTooHigh(now, rs.isAppLimited, rs.txInFlight);
      return;
    }
    if (bbr.inflightHi === Infinity) return;
    if (rs.txInFlight > bbr.inflightHi) bbr.inflightHi = rs.txInFlight;
    if (bbr.state === BbrState.ProbeBwUp) this.probeInflightHiUpward(rs);
  }
}
