/**
 * What a time–sequence plot shows (tcptrace in spirit), built from either of
 * two sources: a connection's own recorder (TcpRecorder samples, which know
 * cwnd, ssthresh and pipe) or a pcap capture (which sees only the wire, so
 * the window panel is left out). Times are µs from the first thing shown;
 * sequence positions are byte offsets from the sender's first data byte
 * (ISS + 1), so both sources draw on the same axes.
 */
import { readPcap, type PcapRecord } from '../link/index.js';
import { describeDamage, describeFileError, describeNoTcp } from './capture-errors.js';
import { BBR_STATES, TcpSampleKind, type TcpSample } from '../tcp/index.js';
import { TcpFlags } from '../wire/index.js';
import { connectionKey, segmentOf, type CapturedSegment } from './ladder-model.js';

/** A range of sequence offsets seen at one moment. */
export interface PlotRange {
  /** µs from the start of the plot. */
  at: number;
  start: number;
  end: number;
}

/** The receiver's cumulative ACK and the right edge of the window it offered, at one moment. */
export interface PlotAck {
  at: number;
  ack: number;
  /** ack + the advertised window (scaled), or -1 when unknown. */
  windowEdge: number;
}

/** The sender's window state at one moment (recorder only). */
export interface PlotWindow {
  at: number;
  cwnd: number;
  /** -1 while ssthresh is still "infinite" (the initial value), so it is not drawn. */
  ssthresh: number;
  pipe: number;
  /** Smoothed RTT in µs; 0 before the first measurement. */
  srttUs: number;
}

/** BBR's model at one moment (recorder only, BBR connections only). */
export interface PlotBbr {
  at: number;
  /** Bandwidth estimate, bytes per second. */
  bw: number;
  /** min_rtt in µs, or -1 before one. */
  minRttUs: number;
  /** Bytes per second. */
  pacingRate: number;
  state: string;
}

/** Everything one plot draws. */
export interface PlotModel {
  /** New data sent. */
  sent: PlotRange[];
  /** Data sent again (the recorder's retransmissions; in a capture, data below the highest sent). */
  retransmitted: PlotRange[];
  /** Ranges the receiver SACKed. */
  sacked: PlotRange[];
  /** Ranges the sender deemed lost (recorder only). */
  lost: PlotRange[];
  /** Tail loss probes (recorder only). */
  probes: PlotRange[];
  /** Retransmission timeouts (recorder only), µs. */
  timeouts: number[];
  acks: PlotAck[];
  /** The window panel's samples, or null when the source cannot see them (a capture). */
  window: PlotWindow[] | null;
  /** Lines said under the picture (what is missing, samples dropped). */
  notes: string[];
  /** BBR's model over time; empty for other controllers and captures. */
  bbr: PlotBbr[];
}

/** ssthresh at or above this is the "no threshold yet" initial value: it is not drawn. */
const SSTHRESH_UNSET = 0x3fffffff;

/**
 * The plot of a connection's recorded samples (TcpRecorder.samples()).
 * `dropped` is how many older samples the bounded recorder gave up, for a note.
 * `origin` is time 0 in the samples' clock (µs): the demo gives the time of
 * the connection's first packet, so the plot and the ladder count from the
 * same SYN; without it, time 0 is the first sample (the first data sent).
 */
export function plotFromSamples(
  samples: readonly TcpSample[],
  dropped = 0,
  origin?: number,
): PlotModel {
  const model = emptyModel([]);
  const window: PlotWindow[] = [];
  model.window = window;
  const bbrStates: string[] = [];
  const t0 = origin ?? (samples.length > 0 ? samples[0]!.at : 0);
  // The recorder samples the window after ACKs and timers, when pipe is at its
  // lowest; pipe grows by each segment sent in between (RFC 6675 §4), so the
  // panel carries the last sample forward with the bytes sent since.
  const sentSince = (at: number, bytes: number): void => {
    const last = window.length > 0 ? window[window.length - 1]! : null;
    if (last === null) return;
    window.push({ ...last, at, pipe: last.pipe + bytes });
  };
  for (const s of samples) {
    const at = s.at - t0;
    switch (s.kind) {
      case TcpSampleKind.Sent:
        model.sent.push({ at, start: s.a, end: s.b });
        sentSince(at, s.b - s.a);
        break;
      case TcpSampleKind.Retransmitted:
        model.retransmitted.push({ at, start: s.a, end: s.b });
        sentSince(at, s.b - s.a);
        break;
      case TcpSampleKind.Sacked:
        model.sacked.push({ at, start: s.a, end: s.b });
        break;
      case TcpSampleKind.Lost:
        model.lost.push({ at, start: s.a, end: s.b });
        break;
      case TcpSampleKind.Probe: {
        model.probes.push({ at, start: s.a, end: s.b });
        // A probe of new data was recorded as Sent just before; one of the
        // last segment again (RFC 8985 §7.3) is a retransmission, recorded
        // only as this probe.
        const previous = model.sent.length > 0 ? model.sent[model.sent.length - 1]! : null;
        if (previous === null || previous.at !== at || previous.start !== s.a) {
          model.retransmitted.push({ at, start: s.a, end: s.b });
          sentSince(at, s.b - s.a);
        }
        break;
      }
      case TcpSampleKind.Timeout:
        model.timeouts.push(at);
        break;
      case TcpSampleKind.Acked:
        model.acks.push({ at, ack: s.a, windowEdge: s.b });
        break;
      case TcpSampleKind.Window:
        window.push({
          at,
          cwnd: s.a,
          ssthresh: s.b >= SSTHRESH_UNSET ? -1 : s.b,
          pipe: s.c,
          srttUs: s.d,
        });
        break;
      case TcpSampleKind.Model: {
        const state = BBR_STATES[s.d] ?? 'unknown';
        const last = model.bbr.length > 0 ? model.bbr[model.bbr.length - 1]! : null;
        if (last === null || last.state !== state) bbrStates.push(`${state} at ${msLabel(at)}`);
        model.bbr.push({ at, bw: s.a, minRttUs: s.b, pacingRate: s.c, state });
        break;
      }
      default:
        // Undo and ECN echo change cwnd, which the next Window sample shows.
        break;
    }
  }
  if (bbrStates.length > 0) {
    const shown = bbrStates.slice(0, 12).join(', ');
    const more = bbrStates.length > 12 ? ` and ${bbrStates.length - 12} more changes` : '';
    model.notes.push(`BBR's states: ${shown}${more}`);
  }
  if (dropped > 0)
    model.notes.push(`the recorder was full: the ${dropped} oldest sample(s) are not shown`);
  return model;
}

/** A time in µs from the start as milliseconds for a note. */
function msLabel(us: number): string {
  return `${Math.round(us / 1000)} ms`;
}

function emptyModel(notes: string[]): PlotModel {
  return {
    sent: [],
    retransmitted: [],
    sacked: [],
    lost: [],
    probes: [],
    timeouts: [],
    acks: [],
    window: null,
    notes,
    bbr: [],
  };
}

/** One TCP connection of a capture, as {@link plotFromCapture} lists them. */
export interface PlotConnection {
  number: number;
  /** "address:port > address:port", the data sender first. */
  label: string;
  packets: number;
}

/** What {@link plotFromCapture} returns on success. */
export interface CapturePlot {
  model: PlotModel;
  connections: PlotConnection[];
  chosen: number;
  /** The plotted direction, sender first. */
  label: string;
  /** Null when the whole file was read; else a one-line description of its damaged tail. */
  fileError: string | null;
}

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The sender of the most payload bytes (the direction worth plotting); ties go to the first seen. */
function senderOf(segments: readonly CapturedSegment[]): string {
  const bytes = new Map<string, number>();
  let best = '';
  let most = -1;
  for (const s of segments) {
    const key = endpoint(s.src, s.srcPort);
    const n = (bytes.get(key) ?? 0) + s.length;
    bytes.set(key, n);
  }
  for (const [key, n] of bytes) {
    if (n > most) {
      best = key;
      most = n;
    }
  }
  return best;
}

/** Window scale shift a SYN offered, or -1 without the option. */
function wscaleOf(s: CapturedSegment): number {
  for (const o of s.options) if (o.kind === 'wscale') return Math.min(o.shift, 14);
  return -1;
}

/**
 * The time–sequence plot of the Nth (1-based) TCP connection of a pcap
 * capture, in the direction that carried the most data: its data segments
 * (and FINs; a segment whose end is at or below the highest byte already sent is a
 * retransmission), and from the other direction the cumulative ACK, the
 * window's right edge and SACK blocks. Returns a one-line error for a file
 * that holds no such connection.
 */
export function plotFromCapture(bytes: Uint8Array, connection = 1): CapturePlot | string {
  const file = readPcap(bytes);
  if (typeof file === 'string') return describeFileError(file);
  const groups = new Map<string, CapturedSegment[]>();
  file.records.forEach((record: PcapRecord, i: number) => {
    const segment = segmentOf(record, i);
    if (segment === null) return;
    const key = connectionKey(segment);
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [segment]);
    else list.push(segment);
  });
  if (groups.size === 0) return describeNoTcp(file.error);
  const lists = [...groups.values()];
  const connections: PlotConnection[] = lists.map((segments, i) => {
    const sender = senderOf(segments);
    const first = segments[0]!;
    const a = endpoint(first.src, first.srcPort);
    const b = endpoint(first.dst, first.dstPort);
    return {
      number: i + 1,
      label: a === sender ? `${a} > ${b}` : `${b} > ${a}`,
      packets: segments.length,
    };
  });
  if (!Number.isInteger(connection) || connection < 1 || connection > lists.length)
    return `no connection ${connection}: the capture holds ${lists.length} TCP connection(s)`;
  const segments = lists[connection - 1]!;
  const sender = senderOf(segments);
  const isSender = (s: CapturedSegment): boolean => endpoint(s.src, s.srcPort) === sender;

  // Offsets count from ISS + 1 when the SYN was seen, else from the first sequence number sent.
  let base = -1;
  let senderShift = -1;
  let receiverShift = -1;
  for (const s of segments) {
    if ((s.flags & TcpFlags.SYN) === 0) continue;
    if (isSender(s)) {
      if (base < 0) base = (s.seq + 1) >>> 0;
      senderShift = wscaleOf(s);
    } else {
      receiverShift = wscaleOf(s);
    }
  }
  if (base < 0) {
    const firstSent = segments.find(isSender);
    base = firstSent === undefined ? 0 : firstSent.seq;
  }
  // RFC 7323 §2.2: the shift applies only when both SYNs carried the option, and never to a SYN's own window.
  const scaled = senderShift >= 0 && receiverShift >= 0;
  const shift = scaled ? receiverShift : 0;
  const offset = (seq: number): number => (seq - base) >>> 0;

  // window stays null: the picture says that cwnd is not visible in a capture.
  const model = emptyModel([]);
  const t0 = segments[0]!.time;
  let highest = 0;
  for (const s of segments) {
    const at = s.time - t0;
    if (isSender(s)) {
      // The FIN takes a sequence number (RFC 9293 §3.4), as in the recorder's ranges; the SYN's is before offset 0.
      const fin = (s.flags & TcpFlags.FIN) !== 0 ? 1 : 0;
      if (s.length + fin === 0 || (s.flags & TcpFlags.SYN) !== 0) continue;
      const start = offset(s.seq);
      const end = start + s.length + fin;
      if (end <= highest) model.retransmitted.push({ at, start, end });
      else {
        model.sent.push({ at, start, end });
        highest = end;
      }
      continue;
    }
    if ((s.flags & TcpFlags.ACK) === 0) continue;
    const ack = offset(s.ack);
    // Before the sender's SYN is acknowledged the offset would wrap to ~4 GB: skip it.
    if (ack > 0x7fffffff) continue;
    const window = (s.flags & TcpFlags.SYN) !== 0 ? s.window : s.window * 2 ** shift;
    model.acks.push({ at, ack, windowEdge: ack + window });
    for (const o of s.options) {
      if (o.kind !== 'sack') continue;
      for (const b of o.blocks) {
        const start = offset(b.left);
        const end = offset(b.right);
        if (end > start && end - start < 0x7fffffff) model.sacked.push({ at, start, end });
      }
    }
  }
  const fileError = file.error === null ? null : describeDamage(file.error, file.records.length);
  return {
    model,
    connections,
    chosen: connection,
    label: connections[connection - 1]!.label,
    fileError,
  };
}

/** The span of time a model draws anything in, µs: [0, last]. */
export function plotDuration(model: PlotModel): number {
  let last = 0;
  for (const list of [model.sent, model.retransmitted, model.sacked, model.lost, model.probes])
    for (const r of list) last = Math.max(last, r.at);
  for (const a of model.acks) last = Math.max(last, a.at);
  for (const t of model.timeouts) last = Math.max(last, t);
  if (model.window !== null) for (const w of model.window) last = Math.max(last, w.at);
  return last;
}

/**
 * Where the data is, µs: from the first data segment sent to the last (new
 * or again), widened by 5% of that span on each side (at least 50 µs) and
 * kept within [0, the model's duration]. Null when no data was sent. A
 * loopback capture spends most of its time before the first byte (the
 * handshake, the application starting): this is the window worth drawing.
 */
export function dataWindow(model: PlotModel): { fromUs: number; toUs: number } | null {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const list of [model.sent, model.retransmitted]) {
    for (const r of list) {
      first = Math.min(first, r.at);
      last = Math.max(last, r.at);
    }
  }
  if (first > last) return null;
  const margin = Math.max(50, (last - first) * 0.05);
  return {
    fromUs: Math.max(0, first - margin),
    toUs: Math.min(Math.max(plotDuration(model), last), last + margin),
  };
}
