/**
 * HyStart++ (RFC 9406): leave slow start when the round-trip time starts to
 * rise, before the queue overflows, through a few rounds of Conservative
 * Slow Start (CSS) that tell a real increase from jitter. The controller
 * feeds it round starts and RTT samples and asks how much slow start may
 * grow; it says when to go to congestion avoidance.
 */
import type { Duration } from '../../base/index.js';
import { millis } from '../../base/index.js';

/** RFC 9406 §4.3: the RTT threshold is at least 4 ms ... */
const MIN_RTT_THRESH = millis(4);
/** ... and at most 16 ms ... */
const MAX_RTT_THRESH = millis(16);
/** ... and otherwise an eighth of the last round's minimum RTT. */
const MIN_RTT_DIVISOR = 8;
/** RFC 9406 §4.3: RTT samples a round needs before its minimum is trusted. */
const N_RTT_SAMPLE = 8;
/** RFC 9406 §4.3: CSS grows a quarter as fast as slow start. */
const CSS_GROWTH_DIVISOR = 4;
/** RFC 9406 §4.3: rounds of CSS before congestion avoidance. */
const CSS_ROUNDS = 5;

/** Where HyStart++ stands. */
export const HystartPhase = {
  /** Standard slow start, watching the RTT. */
  SlowStart: 'slow-start',
  /** Conservative Slow Start: the RTT rose; growth is a quarter until it is confirmed or refuted. */
  Css: 'css',
  /** Done: the controller is in congestion avoidance (or HyStart++ no longer applies). */
  Done: 'done',
} as const;
export type HystartPhase = (typeof HystartPhase)[keyof typeof HystartPhase];

/** RFC 9406 state for one connection; used only in the first slow start (§4.2). */
export class HystartPlusPlus {
  private phaseValue: HystartPhase = HystartPhase.SlowStart;
  private lastRoundMinRtt = Number.POSITIVE_INFINITY;
  private currentRoundMinRtt = Number.POSITIVE_INFINITY;
  private rttSampleCount = 0;
  private cssBaselineMinRtt = Number.POSITIVE_INFINITY;
  private cssRounds = 0;

  get phase(): HystartPhase {
    return this.phaseValue;
  }

  /** RFC 9406 §4.2: slow start grows by the bytes acked, a quarter of that in CSS. */
  get growthDivisor(): number {
    return this.phaseValue === HystartPhase.Css ? CSS_GROWTH_DIVISOR : 1;
  }

  /**
   * Start of a round (RFC 9406 §4.2). Returns true when CSS has lasted
   * CSS_ROUNDS rounds: the caller enters congestion avoidance (ssthresh = cwnd).
   */
  onRoundStart(): boolean {
    if (this.phaseValue === HystartPhase.Done) return false;
    if (this.phaseValue === HystartPhase.Css) {
      this.cssRounds++;
      if (this.cssRounds >= CSS_ROUNDS) {
        this.phaseValue = HystartPhase.Done;
        return true;
      }
    }
    this.lastRoundMinRtt = this.currentRoundMinRtt;
    this.currentRoundMinRtt = Number.POSITIVE_INFINITY;
    this.rttSampleCount = 0;
    return false;
  }

  /**
   * One RTT sample from an ACK in slow start or CSS (RFC 9406 §4.2): track
   * the round's minimum; after N_RTT_SAMPLE samples compare it with the last
   * round's to enter CSS, or (in CSS) to go back to slow start when the RTT
   * fell below the baseline again (the rise was spurious).
   */
  onRttSample(rtt: Duration): void {
    if (this.phaseValue === HystartPhase.Done || !(rtt >= 0)) return;
    if (rtt < this.currentRoundMinRtt) this.currentRoundMinRtt = rtt;
    this.rttSampleCount++;
    if (this.rttSampleCount < N_RTT_SAMPLE) return;
    if (this.phaseValue === HystartPhase.SlowStart) {
      if (
        this.currentRoundMinRtt === Number.POSITIVE_INFINITY ||
        this.lastRoundMinRtt === Number.POSITIVE_INFINITY
      )
        return;
      const thresh = Math.max(
        MIN_RTT_THRESH,
        Math.min(this.lastRoundMinRtt / MIN_RTT_DIVISOR, MAX_RTT_THRESH),
      );
      if (this.currentRoundMinRtt >= this.lastRoundMinRtt + thresh) {
        this.cssBaselineMinRtt = this.currentRoundMinRtt;
        this.cssRounds = 0;
        this.phaseValue = HystartPhase.Css;
      }
    } else if (this.currentRoundMinRtt < this.cssBaselineMinRtt) {
      this.cssBaselineMinRtt = Number.POSITIVE_INFINITY;
      this.phaseValue = HystartPhase.SlowStart;
    }
  }

  /**
   * Loss or ECN ended slow start, or ssthresh was reached: HyStart++ is over
   * (RFC 9406 §4.2: only the initial slow start uses it; later slow starts
   * stop at the ssthresh the first one found).
   */
  finish(): void {
    this.phaseValue = HystartPhase.Done;
  }
}
