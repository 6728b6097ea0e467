/**
 * A bounded per-connection record of what the sender did and saw, for
 * time-sequence graphs and window plots (tcptrace in spirit): segments sent,
 * retransmitted and SACKed, the cumulative ACK with the peer's window, and
 * cwnd, ssthresh, pipe and SRTT over time. Off unless `recordSamples` asks
 * for it; storage is allocated on the first sample and never grows past
 * the capacity (the oldest samples give way).
 */
import type { Instant } from '../base/index.js';
import { BbrState } from './congestion/index.js';

/** What a sample says; `a`..`d` are per kind (offsets are sequence offsets from ISS + 1). */
export const TcpSampleKind = {
  /** New data left: a = start offset, b = end offset. */
  Sent: 1,
  /** A retransmission left: a = start, b = end. */
  Retransmitted: 2,
  /** Newly SACKed by the peer: a = start, b = end. */
  Sacked: 3,
  /** An ACK arrived: a = cumulative ACK offset, b = right edge of the peer's window (offset). */
  Acked: 4,
  /** After an ACK or a timer: a = cwnd, b = ssthresh, c = pipe (bytes in flight), d = SRTT (µs). */
  Window: 5,
  /** Deemed lost: a = start, b = end. */
  Lost: 6,
  /** A retransmission timeout fired: a = the RTO that expired (µs). */
  Timeout: 7,
  /** A tail loss probe left: a = start, b = end. */
  Probe: 8,
  /** A window reduction was undone as spurious: a = cwnd after. */
  Undo: 9,
  /** An ECN echo reduced the window: a = cwnd after. */
  EcnEcho: 10,
  /**
   * BBR's model after an ACK or a timer (with each Window sample): a = bw
   * (bytes/s), b = min_rtt (µs, -1 before one), c = pacing rate (bytes/s),
   * d = state ({@link BBR_STATES}[d]).
   */
  Model: 11,
} as const;
export type TcpSampleKind = (typeof TcpSampleKind)[keyof typeof TcpSampleKind];

/** BBR's states in the order a Model sample's `d` numbers them. */
export const BBR_STATES: readonly BbrState[] = [
  BbrState.Startup,
  BbrState.Drain,
  BbrState.ProbeBwDown,
  BbrState.ProbeBwCruise,
  BbrState.ProbeBwRefill,
  BbrState.ProbeBwUp,
  BbrState.ProbeRtt,
];

/** A state's number in Model samples. */
export function bbrStateCode(state: BbrState): number {
  return BBR_STATES.indexOf(state);
}

/** One sample as `TcpRecorder.samples()` returns it. */
export interface TcpSample {
  at: Instant;
  kind: TcpSampleKind;
  a: number;
  b: number;
  c: number;
  d: number;
}

const EMPTY_F64 = new Float64Array(0);
const EMPTY_U8 = new Uint8Array(0);

/** A ring of samples in parallel typed arrays; see the module comment. */
export class TcpRecorder {
  /** Most samples kept. */
  readonly capacity: number;
  private at: Float64Array = EMPTY_F64;
  private kinds: Uint8Array = EMPTY_U8;
  private as: Float64Array = EMPTY_F64;
  private bs: Float64Array = EMPTY_F64;
  private cs: Float64Array = EMPTY_F64;
  private ds: Float64Array = EMPTY_F64;
  private next = 0;
  private held = 0;
  /** Samples overwritten because the ring was full. */
  dropped = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`TcpRecorder capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  /** Samples held. */
  get size(): number {
    return this.held;
  }

  record(at: Instant, kind: TcpSampleKind, a: number, b: number, c = 0, d = 0): void {
    if (this.kinds.length === 0) {
      const n = this.capacity;
      this.at = new Float64Array(n);
      this.kinds = new Uint8Array(n);
      this.as = new Float64Array(n);
      this.bs = new Float64Array(n);
      this.cs = new Float64Array(n);
      this.ds = new Float64Array(n);
    }
    const i = this.next;
    this.at[i] = at;
    this.kinds[i] = kind;
    this.as[i] = a;
    this.bs[i] = b;
    this.cs[i] = c;
    this.ds[i] = d;
    this.next = i + 1 === this.capacity ? 0 : i + 1;
    if (this.held < this.capacity) this.held++;
    else this.dropped++;
  }

  /** The samples held, oldest first (a copy, for plotting). */
  samples(): TcpSample[] {
    const out: TcpSample[] = [];
    const first = this.held < this.capacity ? 0 : this.next;
    for (let k = 0; k < this.held; k++) {
      const i = (first + k) % this.capacity;
      out.push({
        at: this.at[i]! as Instant,
        kind: this.kinds[i]! as TcpSampleKind,
        a: this.as[i]!,
        b: this.bs[i]!,
        c: this.cs[i]!,
        d: this.ds[i]!,
      });
    }
    return out;
  }

  /** Forgets every sample (the storage stays). */
  clear(): void {
    this.next = 0;
    this.held = 0;
    this.dropped = 0;
  }
}
