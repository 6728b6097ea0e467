/**
 * Pairing the two captures of a demo: each frame seen leaving one end is
 * matched with the same frame seen arriving at the other, which makes it an
 * arrow with both times (or a lost one); a frame that arrived without being
 * sent by the other host was injected (the old duplicate).
 */
import { readPcap } from '../../link/index.js';
import {
  Side,
  segmentOf,
  type ArrowInput,
  type CapturedSegment,
  type StateNote,
} from '../ladder-model.js';
import type { StateRecorder } from './recorder.js';

function hex(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += b.toString(16).padStart(2, '0');
  return text;
}

/** Bytes of a frame that identify it: the IP and TCP headers, options included (checksums cover the rest). */
const KEY_BYTES = 120;

/** A key under which a frame seen at both ends of the link matches: its first bytes and its length. */
function frameKey(s: CapturedSegment): string {
  return `${s.length}:${hex(s.ip.subarray(0, KEY_BYTES))}`;
}

/** The TCP segments of a capture the demo wrote itself. */
export function segmentsOf(pcap: Uint8Array): CapturedSegment[] {
  const file = readPcap(pcap);
  if (typeof file === 'string')
    throw new Error(`tcpts demo: internal error reading its own capture (${file})`);
  const out: CapturedSegment[] = [];
  file.records.forEach((r, i) => {
    const s = segmentOf(r, i);
    if (s !== null) out.push(s);
  });
  return out;
}

/**
 * The arrows of a demo, in the order they start: every frame `clientSegments`
 * and `serverSegments` (the captures at each end) show leaving one host, with
 * its arrival at the other if it arrived, and every frame that arrived
 * without being sent, each with the states `notes` recorded at both ends.
 */
export function pairFrames(
  clientSegments: CapturedSegment[],
  serverSegments: CapturedSegment[],
  clientAddress: string,
  notes: StateRecorder['notes'],
): ArrowInput[] {
  const isClient = (s: CapturedSegment): boolean => s.src === clientAddress;
  const arrivals = new Map<string, CapturedSegment[]>();
  const addArrival = (s: CapturedSegment): void => {
    const key = frameKey(s);
    const list = arrivals.get(key);
    if (list === undefined) arrivals.set(key, [s]);
    else list.push(s);
  };
  for (const s of clientSegments) if (!isClient(s)) addArrival(s);
  for (const s of serverSegments) if (isClient(s)) addArrival(s);
  const matched = new Set<CapturedSegment>();
  const notesOf = (side: Side, s: CapturedSegment): StateNote | null =>
    notes[side].get(s.record)?.state ?? null;
  const orderOf = (side: Side, s: CapturedSegment): number => notes[side].get(s.record)?.order ?? 0;
  const inputs: ArrowInput[] = [];
  const sent: Array<{ side: Side; s: CapturedSegment }> = [
    ...clientSegments.filter(isClient).map((s) => ({ side: Side.Client, s })),
    ...serverSegments.filter((s) => !isClient(s)).map((s) => ({ side: Side.Server, s })),
  ];
  for (const { side, s } of sent) {
    const queue = arrivals.get(frameKey(s));
    const arrival = queue !== undefined && queue.length > 0 ? queue.shift()! : null;
    if (arrival !== null) matched.add(arrival);
    const receiver = side === Side.Client ? Side.Server : Side.Client;
    inputs.push({
      from: side,
      segment: s,
      sentAt: s.time,
      arrivedAt: arrival === null ? null : arrival.time,
      estimated: false,
      lost: arrival === null,
      note: arrival === null ? 'lost' : null,
      senderState: notesOf(side, s),
      receiverState: arrival === null ? null : notesOf(receiver, arrival),
      sendOrder: orderOf(side, s),
      arriveOrder: arrival === null ? 0 : orderOf(receiver, arrival),
    });
  }
  // Frames that arrived without ever being sent by the other host: injected.
  for (const [side, list] of [
    [Side.Server, serverSegments.filter(isClient)],
    [Side.Client, clientSegments.filter((s) => !isClient(s))],
  ] as const) {
    for (const s of list) {
      if (matched.has(s)) continue;
      inputs.push({
        from: side === Side.Server ? Side.Client : Side.Server,
        segment: s,
        sentAt: null,
        arrivedAt: s.time,
        estimated: false,
        lost: false,
        note: 'old duplicate, from an earlier connection',
        senderState: null,
        receiverState: notesOf(side, s),
        sendOrder: 0,
        arriveOrder: orderOf(side, s),
      });
    }
  }
  const first = (i: ArrowInput): number => i.sentAt ?? i.arrivedAt ?? 0;
  const firstOrder = (i: ArrowInput): number => (i.sentAt !== null ? i.sendOrder : i.arriveOrder);
  inputs.sort((a, b) => first(a) - first(b) || firstOrder(a) - firstOrder(b));
  return inputs;
}
