/**
 * BBR's path model pieces (draft-ietf-ccwg-bbr §2, §5.5): the constants, the
 * windowed-max bandwidth filter over ProbeBW cycles, and the windowed-max
 * filter over rounds for the ACK-aggregation estimate. The state machine
 * that feeds them lives in bbr.ts. Bytes, microseconds, bytes per second.
 */

/** The states and ProbeBW sub-states (draft-ietf-ccwg-bbr §4.1). */
export const BbrState = {
  Startup: 'startup',
  Drain: 'drain',
  ProbeBwDown: 'probe-bw-down',
  ProbeBwCruise: 'probe-bw-cruise',
  ProbeBwRefill: 'probe-bw-refill',
  ProbeBwUp: 'probe-bw-up',
  ProbeRtt: 'probe-rtt',
} as const;
export type BbrState = (typeof BbrState)[keyof typeof BbrState];

/** Where a bandwidth probe stands, for the upper-bound updates (draft §5.3.3 BBR.ack_phase). */
export const AckPhase = {
  Init: 0,
  ProbeStarting: 1,
  ProbeFeedback: 2,
  ProbeStopping: 3,
  Refilling: 4,
} as const;
export type AckPhase = (typeof AckPhase)[keyof typeof AckPhase];

/** Startup's pacing gain, 4·ln 2 ≈ 2.77: enough to double the delivery rate each round (draft §5.1.1). */
export const STARTUP_PACING_GAIN = 4 * Math.LN2;
/** Startup's cwnd gain (draft §5.1.1). */
export const STARTUP_CWND_GAIN = 2;
/** Drain paces below the estimate to empty the queue Startup built (draft §5.1.2: 0.35). */
export const DRAIN_PACING_GAIN = 0.35;
/** The usual cwnd gain: two BDPs tolerate delayed and aggregated ACKs (draft §5.6.2). */
export const DEFAULT_CWND_GAIN = 2;
/** ProbeBW_UP's pacing gain (draft §5.3.3.4). */
export const PROBE_UP_PACING_GAIN = 1.25;
/** ProbeBW_UP's cwnd gain: room for the probe's extra queue (draft §5.3.3.4; Linux BBRv3 too). */
export const PROBE_UP_CWND_GAIN = 2.25;
/** ProbeBW_DOWN's pacing gain: drains the probe's queue (draft §5.3.3.1). */
export const PROBE_DOWN_PACING_GAIN = 0.9;
/** Startup ends after this many rounds without 25 % growth (draft §5.3.1.2). */
export const FULL_BW_COUNT = 3;
/** The growth that counts as "still growing" (draft §5.3.1.2: 25 %). */
export const FULL_BW_THRESH = 1.25;
/** The highest loss rate per round a probe may cause (draft §2.8 BBRLossThresh: 2 %). */
export const LOSS_THRESH = 0.02;
/** The multiplicative cut of the short-term bounds on loss (draft §2.8 BBRBeta). */
export const BETA = 0.7;
/** Share of inflight_hi left free for other flows while cruising (draft §2.8 BBRHeadroom). */
export const HEADROOM = 0.15;
/** The smallest cwnd, in segments (draft §2.8 BBRMinPipeCwnd: 4 packets). */
export const MIN_PIPE_CWND_SEGMENTS = 4;
/** How long a min_rtt sample is kept (draft §2.12 MinRTTFilterLen: 10 s). */
export const MIN_RTT_FILTER_US = 10_000_000;
/**
 * How often ProbeRTT runs without a lower RTT sample (draft §2.13
 * ProbeRTTInterval: 5 s in BBRv3; BBRv1 waited the whole 10 s min_rtt window).
 */
export const PROBE_RTT_INTERVAL_US = 5_000_000;
/** How long ProbeRTT holds inflight down (draft §2.13: 200 ms). */
export const PROBE_RTT_DURATION_US = 200_000;
/** ProbeRTT's cwnd as a share of the BDP (draft §2.13 BBRProbeRTTCwndGain: 0.5; BBRv1 used 4 packets). */
export const PROBE_RTT_CWND_GAIN = 0.5;
/** The pacing rate sits this far below bw·gain, to keep a bottleneck queue from building (draft §5.6.2: 1 %). */
export const PACING_MARGIN = 0.01;
/** Window of the ACK-aggregation filter, in rounds (draft §5.5.9: 10). */
export const EXTRA_ACKED_ROUNDS = 10;
/** Rounds of ProbeBW_UP at most before its inflight_hi growth stops doubling (draft §5.3.3.4: 30). */
export const MAX_PROBE_UP_ROUNDS = 30;
/** The Reno-coexistence bound on rounds between probes (draft §5.3.3.5: 63). */
export const MAX_RENO_ROUNDS = 63;
/** Startup ends on loss after this many loss events in one round (draft §5.3.1.3 BBRStartupFullLossCnt: 6). */
export const STARTUP_FULL_LOSS_COUNT = 6;
/**
 * The ECN response is Linux BBRv3's (the draft leaves ECN to future work):
 * an EWMA of the per-round CE fraction with gain 1/16, a round with more
 * than half its bytes CE-marked counts as "inflight too high", and each
 * round with marks cuts inflight_lo by alpha/3.
 */
export const ECN_ALPHA_GAIN = 1 / 16;
export const ECN_THRESH = 0.5;
export const ECN_FACTOR = 1 / 3;

/**
 * The max_bw filter (draft §5.5.5): the highest delivery rate in the
 * current and the previous ProbeBW cycle (MaxBwFilterLen = 2 cycles), as
 * two slots rather than a time-stamped filter, like Linux BBRv3's bw_hi[2].
 * The caller advances it once per cycle, when a bandwidth probe ends.
 */
export class MaxBwFilter {
  private previous = 0;
  private current = 0;

  get value(): number {
    return this.previous > this.current ? this.previous : this.current;
  }

  update(rate: number): void {
    if (rate > this.current) this.current = rate;
  }

  /** A new cycle: the oldest slot goes. (With nothing in the current slot the old maximum stays.) */
  advance(): void {
    if (this.current === 0) return;
    this.previous = this.current;
    this.current = 0;
  }

  reset(): void {
    this.previous = 0;
    this.current = 0;
  }

  /** Scales both slots (an MSS change keeps rates; kept for symmetry with the byte counts). */
  scale(factor: number): void {
    this.previous *= factor;
    this.current *= factor;
  }
}

/**
 * A windowed maximum over a round count: the best, second-best and
 * third-best samples with their rounds, so that when the best one ages out
 * a recent good one takes its place (Kathleen Nichols' algorithm, as Linux's
 * lib/win_minmax.c). BBR uses it for extra_acked (draft §5.5.9).
 */
export class WindowedMax {
  private readonly values = new Float64Array(3);
  private readonly times = new Float64Array(3);
  private readonly window: number;

  constructor(window: number) {
    this.window = window;
  }

  get value(): number {
    return this.values[0]!;
  }

  reset(value: number, time: number): void {
    this.values.fill(value);
    this.times.fill(time);
  }

  update(value: number, time: number): number {
    const v = this.values;
    const t = this.times;
    if (value >= v[0]! || time - t[2]! > this.window) {
      this.reset(value, time);
      return value;
    }
    if (value >= v[1]!) {
      v[1] = v[2] = value;
      t[1] = t[2] = time;
    } else if (value >= v[2]!) {
      v[2] = value;
      t[2] = time;
    }
    // Age out: the best is too old, the next ones move up.
    if (time - t[0]! > this.window) {
      v[0] = v[1]!;
      t[0] = t[1]!;
      v[1] = v[2]!;
      t[1] = t[2]!;
      v[2] = value;
      t[2] = time;
      if (time - t[0]! > this.window) {
        v[0] = v[1]!;
        t[0] = t[1]!;
        v[1] = v[2]!;
        t[1] = t[2]!;
      }
    } else if (v[1] === v[0] && time - t[1]! > this.window / 4) {
      // A quarter window passed without a new second-best: take this one.
      v[1] = v[2] = value;
      t[1] = t[2] = time;
    } else if (v[2] === v[1] && time - t[2]! > this.window / 2) {
      v[2] = value;
      t[2] = time;
    }
    return v[0]!;
  }
}
