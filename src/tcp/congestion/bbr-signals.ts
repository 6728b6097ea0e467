/**
 * BBR's congestion signals and the short-term bounds they set
 * (draft-ietf-ccwg-bbr §5.5.10): per loss round, the best rate and volume
 * delivered (bw_latest, inflight_latest), whether anything was lost or
 * CE-marked, and, outside bandwidth probes, the cut of bw_lo and
 * inflight_lo that follows. Also Startup's exit on high loss (§5.3.1.3).
 * ECN follows Linux BBRv3, since the draft leaves it open (see bbr-model.ts).
 */
import type { Instant } from '../../base/index.js';
import type { RateSample } from '../recovery/sample.js';
import {
  BETA,
  BbrState,
  ECN_ALPHA_GAIN,
  ECN_FACTOR,
  ECN_THRESH,
  STARTUP_FULL_LOSS_COUNT,
} from './bbr-model.js';
import { isInflightTooHigh, type Bbr } from './bbr.js';

/** Loss and ECN per round; one per {@link Bbr}. */
export class CongestionSignals {
  private readonly bbr: Bbr;
  private readonly ecnEnabled: boolean;
  /** The best delivery rate and delivered volume of the current loss round (BBR.bw_latest, inflight_latest). */
  bwLatest = 0;
  inflightLatest = 0;
  /** Loss rounds: one ends when a packet sent after it began is delivered. */
  private roundDelivered = 0;
  roundStart = false;
  lossInRound = false;
  private lossEventsInRound = 0;
  private ceInRound = 0;
  private deliveredInRound = 0;
  private ecnInRound = false;
  /** EWMA of the CE-marked share of each round. */
  ecnAlpha = 0;

  constructor(bbr: Bbr, ecnEnabled: boolean) {
    this.bbr = bbr;
    this.ecnEnabled = ecnEnabled;
  }

  /** BBRUpdateLatestDeliverySignals. */
  updateLatest(rs: RateSample): void {
    this.roundStart = false;
    if (rs.valid) {
      if (rs.deliveryRate > this.bwLatest) this.bwLatest = rs.deliveryRate;
      if (rs.delivered > this.inflightLatest) this.inflightLatest = rs.delivered;
    }
    if (rs.priorDelivered >= 0 && rs.priorDelivered >= this.roundDelivered) {
      this.roundDelivered = rs.deliveredTotal;
      this.roundStart = true;
    }
  }

  /** BBRAdvanceLatestDeliverySignals: a new loss round starts from this sample. */
  advanceLatest(rs: RateSample): void {
    if (!this.roundStart) return;
    this.bwLatest = rs.valid ? rs.deliveryRate : 0;
    this.inflightLatest = rs.delivered;
  }

  /** BBRUpdateCongestionSignals after max_bw's update: count, and once per round respond. */
  update(now: Instant, rs: RateSample): void {
    if (rs.newlyLost > 0) {
      this.lossInRound = true;
      this.lossEventsInRound++;
    }
    if (this.ecnEnabled) {
      this.ceInRound += rs.ceDelivered;
      this.deliveredInRound += rs.newlyAcked;
      if (rs.ceDelivered > 0) this.ecnInRound = true;
    }
    if (!this.roundStart) return;
    this.checkStartupHighLoss(rs);
    this.updateEcnAlpha(now, rs);
    this.adaptLowerBounds();
    this.lossInRound = false;
    this.lossEventsInRound = 0;
    this.ecnInRound = false;
    this.ceInRound = 0;
    this.deliveredInRound = 0;
  }

  /**
   * Linux BBRv3's ECN estimate: alpha follows the CE share of each round;
   * a round more than half marked means inflight was too high, as a loss
   * rate above 2 % would (bbr_is_inflight_too_high). Linux measures the CE
   * share over each rate sample's interval from per-packet counts; a round
   * is about the same span, measured here with two counters.
   */
  private updateEcnAlpha(now: Instant, rs: RateSample): void {
    if (!this.ecnEnabled || this.deliveredInRound <= 0) return;
    const ratio = this.ceInRound / this.deliveredInRound;
    this.ecnAlpha += ECN_ALPHA_GAIN * (ratio - this.ecnAlpha);
    if (ratio > ECN_THRESH && this.bbr.cycle.bwProbeSamples) {
      const flight = rs.txInFlight > 0 ? rs.txInFlight : rs.priorInFlight;
      this.bbr.handleInflightTooHigh(now, rs.isAppLimited, flight);
    }
  }

  /**
   * BBRAdaptLowerBoundsFromCongestion: outside bandwidth probes, a round
   * with loss brings bw_lo and inflight_lo down to what it delivered, by at
   * most BETA (BBRLossLowerBounds); a round with CE marks cuts inflight_lo by
   * alpha/3 (Linux BBRv3).
   */
  private adaptLowerBounds(): void {
    const bbr = this.bbr;
    if (bbr.isProbingBw()) return;
    if (this.lossInRound) {
      this.initLowerBounds();
      bbr.bwLo = Math.max(this.bwLatest, BETA * bbr.bwLo);
      bbr.inflightLo = Math.max(this.inflightLatest, BETA * bbr.inflightLo);
    }
    if (this.ecnInRound && this.ecnEnabled) {
      this.initLowerBounds();
      const cut = (1 - ECN_FACTOR * this.ecnAlpha) * bbr.inflightLo;
      if (cut < bbr.inflightLo) bbr.inflightLo = Math.max(cut, bbr.minPipeCwnd);
    }
  }

  private initLowerBounds(): void {
    const bbr = this.bbr;
    if (bbr.bwLo === Infinity) bbr.bwLo = bbr.maxBw;
    if (bbr.inflightLo === Infinity) bbr.inflightLo = bbr.cwnd;
  }

  /**
   * §5.3.1.3 BBRCheckStartupHighLoss: Startup also ends when a round in
   * recovery lost more than 2 % in at least six separate events; inflight_hi
   * then starts at what the round carried. (Linux counts loss events per
   * ACK with losses, as we do; the draft counts discontiguous lost ranges.)
   */
  private checkStartupHighLoss(rs: RateSample): void {
    const bbr = this.bbr;
    if (bbr.state !== BbrState.Startup || bbr.filledPipe || !bbr.inRecovery) return;
    if (this.lossEventsInRound < STARTUP_FULL_LOSS_COUNT) return;
    if (!isInflightTooHigh(rs)) return;
    bbr.filledPipe = true;
    bbr.inflightHi = Math.max(bbr.bdp, this.inflightLatest);
  }
}
