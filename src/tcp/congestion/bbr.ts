/**
 * BBR congestion control, version 3 as draft-ietf-ccwg-bbr describes it: a
 * model of the path (the bottleneck bandwidth as a windowed maximum of
 * delivery-rate samples, the round-trip propagation time as a windowed
 * minimum, and bounds on what may be in flight learned from loss and ECN)
 * sets the pacing rate and cwnd. A state machine probes the model: Startup
 * doubles the rate each round until it stops growing, Drain empties the
 * queue that built, ProbeBW cycles DOWN, CRUISE, REFILL and UP to share the
 * link and find more bandwidth, and ProbeRTT briefly drains the pipe to
 * measure min_rtt afresh. The ProbeBW cycle is in bbr-probe-bw.ts, min_rtt
 * and ProbeRTT in bbr-probe-rtt.ts, the loss and ECN signals in
 * bbr-signals.ts, the filters and constants in bbr-model.ts.
 *
 * BBR needs the connection's rate samples (`onRateSample`) and lost packets
 * (`onPacketLost`), and its pacing (`pacingRate`); see `modelBased` in
 * types.ts. Names follow the draft (BBR.max_bw is `maxBw`); the draft's
 * -01 revision renames inflight_hi / inflight_lo to inflight_longterm /
 * inflight_shortterm, and we keep the shorter names Linux uses.
 */
import { SeededRng, randomFloat, type Duration, type Instant } from '../../base/index.js';
import type { RateSample } from '../recovery/sample.js';
import type { CongestionConfig, CongestionControl } from './types.js';
import { INFINITE_SSTHRESH } from './types.js';
import {
  BETA,
  BbrState,
  HEADROOM,
  DRAIN_PACING_GAIN,
  EXTRA_ACKED_ROUNDS,
  FULL_BW_COUNT,
  FULL_BW_THRESH,
  LOSS_THRESH,
  MIN_PIPE_CWND_SEGMENTS,
  MaxBwFilter,
  PACING_MARGIN,
  STARTUP_CWND_GAIN,
  STARTUP_PACING_GAIN,
  WindowedMax,
} from './bbr-model.js';
import { ProbeBwCycle } from './bbr-probe-bw.js';
import { ProbeRtt } from './bbr-probe-rtt.js';
import { CongestionSignals } from './bbr-signals.js';

/** What BBR shows of itself (for TCP_INFO-like stats and plots; Linux tcp_bbr_info). */
export interface BbrInfo {
  state: BbrState;
  /** The bandwidth the model uses (min of max_bw and bw_lo), bytes per second. */
  bw: number;
  /** The windowed-max delivery rate, bytes per second. */
  maxBw: number;
  /** min_rtt in µs, or -1 before the first sample. */
  minRtt: number;
  /** Bytes per second. */
  pacingRate: number;
  pacingGain: number;
  cwndGain: number;
  cwnd: number;
  /** bw · min_rtt in bytes (0 before both are known). */
  bdp: number;
  /** Bounds on inflight in bytes; Infinity when unset. */
  inflightHi: number;
  inflightLo: number;
  /** Packet-timed rounds so far. */
  roundCount: number;
  /** Startup saw the bandwidth stop growing (BBR.filled_pipe). */
  filledPipe: boolean;
  /** ECN: EWMA of the CE-marked share of each round. */
  ecnAlpha: number;
}

/** Options beyond {@link CongestionConfig}. */
export interface BbrOptions {
  /** Respond to ECN marks (Linux BBRv3's response, see bbr-model.ts). Default true. */
  ecn?: boolean;
}

/** BBR (name `'bbr'`); make one with {@link createBbr}. */
export class Bbr implements CongestionControl {
  readonly name = 'bbr';
  readonly modelBased = true;
  cwnd: number;
  /** BBR has no slow-start threshold; it stays "infinite" so the connection never sets cwnd from it. */
  ssthresh = INFINITE_SSTHRESH;
  mss: number;
  state: BbrState = BbrState.Startup;
  pacingGain = STARTUP_PACING_GAIN;
  cwndGain = STARTUP_CWND_GAIN;
  private pacingRateBps = 0;
  private initialCwnd: number;

  // The model (draft §5.5).
  readonly maxBwFilter = new MaxBwFilter();
  maxBw = 0;
  bw = 0;
  bwLo = Infinity;
  inflightHi = Infinity;
  inflightLo = Infinity;
  private readonly extraAckedFilter = new WindowedMax(EXTRA_ACKED_ROUNDS);
  extraAcked = 0;
  private extraAckedIntervalStart = 0;
  private extraAckedDelivered = 0;

  // Rounds (draft §5.5.1) and the checks for a full pipe (§5.3.1.2).
  roundCount = 0;
  roundStart = false;
  private nextRoundDelivered = 0;
  fullBw = 0;
  fullBwCount = 0;
  fullBwNow = false;
  filledPipe = false;

  // Recovery (§5.6.4).
  private priorCwnd = 0;
  private packetConservation = false;
  inRecovery = false;
  private recoveryRoundEnd = 0;

  /** The ProbeBW cycle: its phase bookkeeping and decisions. */
  readonly cycle: ProbeBwCycle;
  /** min_rtt and ProbeRTT. */
  readonly probeRtt: ProbeRtt;
  /** Loss and ECN per round, and the short-term bounds they set. */
  readonly signals: CongestionSignals;
  /** The latest time and C.delivered seen, for the lost-packet callback, which carries neither. */
  private lastNow = 0;
  private lastDelivered = 0;
  private lastInFlight = 0;
  private lastAppLimited = false;
  private lastRate = 0;
  /** The connection calls onRateSample (else onAck keeps a fixed window). */
  private fedRateSamples = false;

  constructor(config: CongestionConfig, options: BbrOptions = {}) {
    checkMss(config.mss);
    if (!Number.isInteger(config.initialWindowSegments) || config.initialWindowSegments < 1) {
      throw new RangeError(
        `BBR: initialWindowSegments must be a positive integer, got ${config.initialWindowSegments}`,
      );
    }
    this.mss = config.mss;
    this.initialCwnd = config.initialWindowSegments * config.mss;
    this.cwnd = this.initialCwnd;
    this.probeRtt = new ProbeRtt(this);
    this.signals = new CongestionSignals(this, options.ecn ?? true);
    const rng = new SeededRng(config.seed ?? 1);
    this.cycle = new ProbeBwCycle(this, () => randomFloat(rng));
    // BBRInitPacingRate (§5.6.2): the initial window over 1 ms until an RTT is known.
    this.pacingRateBps = STARTUP_PACING_GAIN * this.initialCwnd * 1000;
    this.extraAckedFilter.reset(0, 0);
  }

  /** BBR.min_rtt in µs, or -1 before the first sample. */
  get minRtt(): number {
    return this.probeRtt.minRtt;
  }

  /** ECN: the EWMA of the CE-marked share of each round. */
  get ecnAlpha(): number {
    return this.signals.ecnAlpha;
  }

  /** The smallest cwnd (BBRMinPipeCwnd). */
  get minPipeCwnd(): number {
    return MIN_PIPE_CWND_SEGMENTS * this.mss;
  }

  /** bw · min_rtt in bytes (BBR.bdp), or 0 before both are known. */
  get bdp(): number {
    return this.minRtt > 0 ? (this.bw * this.minRtt) / 1_000_000 : 0;
  }

  get info(): BbrInfo {
    return {
      state: this.state,
      bw: this.bw,
      maxBw: this.maxBw,
      minRtt: this.minRtt,
      pacingRate: this.pacingRateBps,
      pacingGain: this.pacingGain,
      cwndGain: this.cwndGain,
      cwnd: this.cwnd,
      bdp: this.bdp,
      inflightHi: this.inflightHi,
      inflightLo: this.inflightLo,
      roundCount: this.roundCount,
      filledPipe: this.filledPipe,
      ecnAlpha: this.ecnAlpha,
    };
  }

  setMss(mss: number): void {
    checkMss(mss);
    if (mss === this.mss) return;
    const scale = (bytes: number): number =>
      bytes === Infinity ? bytes : (bytes * mss) / this.mss;
    this.cwnd = Math.max(MIN_PIPE_CWND_SEGMENTS * mss, Math.floor(scale(this.cwnd)));
    this.inflightHi = scale(this.inflightHi);
    this.inflightLo = scale(this.inflightLo);
    this.priorCwnd = scale(this.priorCwnd);
    if (this.maxBw === 0 && this.minRtt < 0) {
      // No sample yet (the handshake settled the MSS): the initial window
      // and BBRInitPacingRate follow the real segment size, as Linux's
      // bbr_init runs once the connection is established.
      this.initialCwnd = scale(this.initialCwnd);
      this.pacingRateBps = STARTUP_PACING_GAIN * this.initialCwnd * 1000;
    }
    this.mss = mss;
  }

  /**
   * Window-based growth is not BBR's: a connection that knows `modelBased`
   * calls {@link onRateSample} instead. One that does not gets a fixed
   * window: cwnd climbs back to the initial window after whatever its
   * recovery did to it, and no further, since without rate samples there is
   * no model to grow from.
   */
  onAck(_now: Instant, _ackedBytes: number, _bytesInFlight: number, _rtt: Duration): void {
    if (!this.fedRateSamples && this.cwnd < this.initialCwnd) this.cwnd = this.initialCwnd;
  }

  /** draft §5.2 BBRUpdateOnACK: the model and state first, then the control parameters. */
  onRateSample(now: Instant, rs: RateSample): void {
    this.fedRateSamples = true;
    this.lastNow = now;
    this.lastDelivered = rs.deliveredTotal;
    this.lastInFlight = rs.inFlight;
    this.lastAppLimited = rs.isAppLimited;
    this.lastRate = rs.valid ? rs.deliveryRate : 0;
    if (this.minRtt < 0 && rs.rtt > 0 && this.maxBw === 0) this.initPacingFromRtt(rs.rtt);
    if (this.inRecovery && this.packetConservation && rs.priorDelivered >= this.recoveryRoundEnd)
      this.packetConservation = false;
    // BBRUpdateModelAndState
    this.signals.updateLatest(rs);
    this.updateMaxBw(rs);
    this.signals.update(now, rs);
    this.updateAckAggregation(now, rs);
    this.checkFullBwReached(rs);
    this.checkStartupDone(rs);
    this.checkDrainDone(now, rs);
    this.cycle.update(now, rs);
    this.probeRtt.updateMinRtt(now, rs);
    this.probeRtt.check(now, rs);
    this.signals.advanceLatest(rs);
    this.boundBwForModel();
    // BBRUpdateControlParameters
    this.setPacingRate(this.pacingGain);
    this.setCwnd(rs);
  }

  // ------------------------------------------------------------ the model

  /** §5.5.1 BBRUpdateRound: a round ends when a packet sent after the last round began is delivered. */
  private updateRound(rs: RateSample): void {
    if (rs.priorDelivered >= 0 && rs.priorDelivered >= this.nextRoundDelivered) {
      this.startRound(rs.deliveredTotal);
      this.roundCount++;
      this.cycle.roundsSinceBwProbe++;
      this.roundStart = true;
    } else {
      this.roundStart = false;
    }
  }

  /** BBRStartRound: the next round ends once what is delivered now plus one flight is. */
  startRound(delivered = this.lastDelivered): void {
    this.nextRoundDelivered = delivered;
  }

  /** §5.5.5 BBRUpdateMaxBw: application-limited samples only count when they raise the estimate. */
  private updateMaxBw(rs: RateSample): void {
    this.updateRound(rs);
    if (rs.valid && (rs.deliveryRate >= this.maxBw || !rs.isAppLimited)) {
      this.maxBwFilter.update(rs.deliveryRate);
      this.maxBw = this.maxBwFilter.value;
    }
  }

  resetLowerBounds(): void {
    this.bwLo = Infinity;
    this.inflightLo = Infinity;
  }

  /** BBRIsProbingBW: the states that deliberately overshoot. */
  isProbingBw(): boolean {
    const s = this.state;
    return s === BbrState.Startup || s === BbrState.ProbeBwRefill || s === BbrState.ProbeBwUp;
  }

  private boundBwForModel(): void {
    this.bw = this.bwLo < this.maxBw ? this.bwLo : this.maxBw;
  }

  /** §5.5.9 BBRUpdateACKAggregation: how far deliveries ran ahead of bw over the last rounds. */
  private updateAckAggregation(now: Instant, rs: RateSample): void {
    const interval = now - this.extraAckedIntervalStart;
    let expected = (this.bw * interval) / 1_000_000;
    if (this.extraAckedDelivered <= expected) {
      this.extraAckedDelivered = 0;
      this.extraAckedIntervalStart = now;
      expected = 0;
    }
    this.extraAckedDelivered += rs.newlyAcked;
    let extra = this.extraAckedDelivered - expected;
    if (extra > this.cwnd) extra = this.cwnd;
    this.extraAcked = this.extraAckedFilter.update(extra, this.roundCount);
  }

  // ------------------------------------------------------------ Startup and Drain

  /**
   * §5.3.1.2 BBRCheckFullBWReached: after three rounds in a row without 25 %
   * more bandwidth, the pipe is full. The draft compares each round's
   * delivery rate; we compare max_bw, as Linux does, so that one low sample
   * at a round's start does not count as a plateau.
   */
  private checkFullBwReached(rs: RateSample): void {
    if (this.fullBwNow || !this.roundStart || rs.isAppLimited) return;
    if (this.maxBw >= this.fullBw * FULL_BW_THRESH) {
      this.resetFullBw();
      this.fullBw = this.maxBw;
      return;
    }
    this.fullBwCount++;
    this.fullBwNow = this.fullBwCount >= FULL_BW_COUNT;
    if (this.fullBwNow) this.filledPipe = true;
  }

  resetFullBw(): void {
    this.fullBw = 0;
    this.fullBwCount = 0;
    this.fullBwNow = false;
  }

  private checkStartupDone(rs: RateSample): void {
    if (this.state === BbrState.Startup && this.filledPipe) this.enterDrain(rs);
  }

  enterStartup(): void {
    this.state = BbrState.Startup;
    this.pacingGain = STARTUP_PACING_GAIN;
    this.cwndGain = STARTUP_CWND_GAIN;
  }

  private enterDrain(_rs: RateSample): void {
    this.state = BbrState.Drain;
    this.pacingGain = DRAIN_PACING_GAIN;
    this.cwndGain = STARTUP_CWND_GAIN;
  }

  /** §5.3.2: Drain ends once inflight is down to one BDP (with the quantization budget). */
  private checkDrainDone(now: Instant, rs: RateSample): void {
    if (this.state === BbrState.Drain && rs.inFlight <= this.inflightFor(1)) {
      this.cycle.startDown(now);
    }
  }

  /** Sets the state and its gains; the ProbeBW cycle changes phase through this. */
  setState(state: BbrState, pacingGain: number, cwndGain: number): void {
    this.state = state;
    this.pacingGain = pacingGain;
    this.cwndGain = cwndGain;
  }

  /** ProbeRTT asked for its samples to be marked application-limited (MarkConnectionAppLimited). */
  takeAppLimitedRequest(): boolean {
    const requested = this.probeRtt.appLimitedRequest;
    this.probeRtt.appLimitedRequest = false;
    return requested;
  }

  // ------------------------------------------------------------ loss

  /**
   * §5.5.10.2 BBRHandleLostPacket: while probing, each lost packet checks the
   * loss rate of the flight it was part of, so that the probe stops as soon
   * as that flight lost more than 2 %, not a round later.
   */
  onPacketLost(bytes: number, txInFlight: number, lostSince: number, appLimited: boolean): void {
    if (!this.cycle.bwProbeSamples) return;
    if (!(lostSince > txInFlight * LOSS_THRESH)) return;
    // BBRInflightHiFromLostPacket: the flight at which the loss rate crossed 2 %.
    const inflightPrev = txInFlight - bytes;
    const lostPrev = lostSince - bytes;
    const lostPrefix = (LOSS_THRESH * inflightPrev - lostPrev) / (1 - LOSS_THRESH);
    this.handleInflightTooHigh(this.lastNow as Instant, appLimited, inflightPrev + lostPrefix);
  }

  /**
   * §5.5.10.2 BBRHandleInflightTooHigh: inflight_hi comes down to the flight
   * that lost too much (or BETA of the target), and a probe stops.
   */
  handleInflightTooHigh(now: Instant, appLimited: boolean, txInFlight: number): void {
    this.cycle.bwProbeSamples = false;
    if (!appLimited) {
      const floor = this.targetInflight() * BETA;
      this.inflightHi = Math.max(txInFlight, floor, this.minPipeCwnd);
    }
    if (this.state === BbrState.ProbeBwUp) this.cycle.startDown(now);
  }

  /** BBRTargetInflight: what the model wants in flight. */
  targetInflight(): number {
    const bdp = this.bdp;
    if (bdp <= 0) return this.cwnd;
    return bdp < this.cwnd ? bdp : this.cwnd;
  }

  /** Recovery begins (the connection's congestion event): packet conservation for a round (§5.6.4.4). */
  onCongestionEvent(_now: Instant, bytesInFlight: number): void {
    if (this.inRecovery) return;
    this.saveCwnd();
    this.inRecovery = true;
    this.packetConservation = true;
    // One round: until a packet sent from now on is delivered.
    this.recoveryRoundEnd = this.lastDelivered;
    const floor = bytesInFlight + this.mss;
    if (this.cwnd > floor) this.cwnd = floor;
  }

  onRecoveryExit(_now: Instant): void {
    if (!this.inRecovery) return;
    this.inRecovery = false;
    this.packetConservation = false;
    this.restoreCwnd();
  }

  onRecoveryEnd(now: Instant, _bytesInFlight: number): void {
    this.onRecoveryExit(now);
  }

  /** A retransmission timeout: cwnd to one segment, the old one saved for when recovery ends (§5.6.4.4). */
  onRetransmitTimeout(_now: Instant, _bytesInFlight: number): void {
    this.saveCwnd();
    this.inRecovery = true;
    this.packetConservation = false;
    this.recoveryRoundEnd = this.lastDelivered;
    this.cwnd = this.mss;
    // Linux bbr_set_state(TCP_CA_Loss): the plateau count starts over, as the timeout is a new round.
    this.resetFullBw();
    this.roundStart = true;
  }

  /**
   * A spurious reduction: as Linux's bbr_undo_cwnd, forget the plateau
   * count and the short-term bounds, and take the saved cwnd back.
   */
  onUndo(_now: Instant): void {
    this.resetFullBw();
    this.signals.lossInRound = false;
    this.resetLowerBounds();
    if (this.priorCwnd > this.cwnd) this.cwnd = this.priorCwnd;
    this.inRecovery = false;
    this.packetConservation = false;
  }

  saveCwnd(): void {
    if (!this.inRecovery && this.state !== BbrState.ProbeRtt) this.priorCwnd = this.cwnd;
    else if (this.cwnd > this.priorCwnd) this.priorCwnd = this.cwnd;
  }

  restoreCwnd(): void {
    if (this.priorCwnd > this.cwnd) this.cwnd = this.priorCwnd;
  }

  // ------------------------------------------------------------ sending and idle

  /**
   * §5.4.3 BBRHandleRestartFromIdle: the first packet after an
   * application-limited idle period paces at bw (not below it), and ACK
   * aggregation counts from now. (Linux CA_EVENT_TX_START.)
   */
  onPacketSent(now: Instant, _bytes: number, bytesInFlight: number): void {
    this.lastNow = now;
    if (bytesInFlight !== 0 || !this.lastAppLimited) return;
    this.probeRtt.idleRestart = true;
    this.extraAckedIntervalStart = now;
    if (this.cycle.isProbeBw()) this.setPacingRate(1);
    else if (this.state === BbrState.ProbeRtt) this.probeRtt.checkDone(now);
  }

  /**
   * The connection's RFC 5681 §4.1 restart after an RTO's worth of idleness.
   * BBR keeps its window and treats the moment as an idle restart: the
   * draft's restart paces at the estimated bandwidth, so no burst leaves.
   * (Linux's tcp_cwnd_restart cuts cwnd here for every controller when
   * net.ipv4.tcp_slow_start_after_idle is set; we follow the draft.)
   */
  onIdleRestart(now: Instant): void {
    this.probeRtt.idleRestart = true;
    this.extraAckedIntervalStart = now;
  }

  /** BBR counts rounds itself from the rate samples. */
  onRoundStart(_now: Instant): void {}

  pacingRate(): number {
    return this.pacingRateBps;
  }

  // ------------------------------------------------------------ control parameters

  /** Linux bbr_init_pacing_rate_from_rtt: the first RTT sample gives Startup a real rate. */
  private initPacingFromRtt(rtt: number): void {
    this.pacingRateBps = (STARTUP_PACING_GAIN * this.cwnd * 1_000_000) / rtt;
  }

  /** §5.6.2 BBRSetPacingRateWithGain: 1 % below bw·gain; Startup never lowers it. */
  private setPacingRate(gain: number): void {
    const rate = gain * this.bw * (1 - PACING_MARGIN);
    if (rate > 0 && (this.filledPipe || rate > this.pacingRateBps)) this.pacingRateBps = rate;
  }

  /** BBRBDPMultiple: gain × BDP, or the initial window before min_rtt is known. */
  bdpMultiple(gain: number): number {
    if (this.minRtt < 0) return this.initialCwnd;
    return gain * this.bdp;
  }

  /**
   * §5.6.3 BBRQuantizationBudget: room for the segments the sender and
   * receiver batch (three send quanta; at our rates a quantum is two
   * segments, as Linux at low rates), and two more segments in UP.
   */
  private quantizationBudget(inflight: number): number {
    const quanta = 3 * this.sendQuantum();
    let budget = inflight > quanta ? inflight : quanta;
    if (budget < this.minPipeCwnd) budget = this.minPipeCwnd;
    if (this.state === BbrState.ProbeBwUp) budget += 2 * this.mss;
    return budget;
  }

  /** §5.6.3 BBRSetSendQuantum: 1 ms of pacing, between two segments and 64 KiB. */
  private sendQuantum(): number {
    const ms = this.pacingRateBps / 1000;
    if (ms < 2 * this.mss) return 2 * this.mss;
    return ms > 65536 ? 65536 : ms;
  }

  /** BBRInflight: gain × BDP with the quantization budget. */
  inflightFor(gain: number): number {
    return this.quantizationBudget(this.bdpMultiple(gain));
  }

  /** BBRInflightWithHeadroom: inflight_hi less 15 % for other flows (CRUISE's bound). */
  inflightWithHeadroom(): number {
    if (this.inflightHi === Infinity) return Infinity;
    const headroom = Math.max(this.mss, HEADROOM * this.inflightHi);
    return Math.max(this.inflightHi - headroom, this.minPipeCwnd);
  }

  /** §5.6.4 BBRSetCwnd. */
  private setCwnd(rs: RateSample): void {
    const maxInflight = this.quantizationBudget(this.bdpMultiple(this.cwndGain) + this.extraAcked);
    // BBRModulateCwndForRecovery: losses come out of cwnd; in the first
    // round of recovery, no more than what was delivered goes out.
    let cwnd = this.cwnd;
    if (rs.newlyLost > 0) cwnd = Math.max(cwnd - rs.newlyLost, this.mss);
    if (this.packetConservation) cwnd = Math.max(cwnd, rs.inFlight + rs.newlyAcked);
    if (!this.packetConservation) {
      if (this.filledPipe) cwnd = Math.min(cwnd + rs.newlyAcked, maxInflight);
      else if (cwnd < maxInflight || rs.deliveredTotal < this.initialCwnd) cwnd += rs.newlyAcked;
      if (cwnd < this.minPipeCwnd) cwnd = this.minPipeCwnd;
    }
    // BBRBoundCwndForProbeRTT
    if (this.state === BbrState.ProbeRtt) {
      const cap = this.probeRtt.cwnd();
      if (cwnd > cap) cwnd = cap;
    }
    // BBRBoundCwndForModel: inflight_hi while probing, with headroom while
    // cruising or in ProbeRTT, and inflight_lo always.
    let cap = Infinity;
    if (this.cycle.isProbeBw() && this.state !== BbrState.ProbeBwCruise) cap = this.inflightHi;
    else if (this.state === BbrState.ProbeRtt || this.state === BbrState.ProbeBwCruise)
      cap = this.inflightWithHeadroom();
    if (this.inflightLo < cap) cap = this.inflightLo;
    if (cap < this.minPipeCwnd) cap = this.minPipeCwnd;
    if (cwnd > cap) cwnd = cap;
    this.cwnd = Math.floor(cwnd);
  }

  /** Whether the sender filled cwnd (BBR.is_cwnd_limited, Linux tcp_is_cwnd_limited). */
  isCwndLimited(rs: RateSample): boolean {
    return rs.priorInFlight + this.mss > this.cwnd;
  }

  /** The latest delivery rate seen (the draft's rs.delivery_rate at a phase change). */
  get latestRate(): number {
    return this.lastRate;
  }

  get latestInFlight(): number {
    return this.lastInFlight;
  }
}

/** §5.5.10.2 IsInflightTooHigh: the sample's flight lost more than 2 %. */
export function isInflightTooHigh(rs: RateSample): boolean {
  return rs.lost > rs.txInFlight * LOSS_THRESH && rs.txInFlight > 0;
}

function checkMss(mss: number): void {
  if (!Number.isInteger(mss) || mss < 1) {
    throw new RangeError(`congestion control: mss must be a positive integer, got ${mss}`);
  }
}

/** Factory for {@link Bbr}, registered as `'bbr'`. */
export function createBbr(config: CongestionConfig): CongestionControl {
  return new Bbr(config);
}
