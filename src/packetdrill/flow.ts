/**
 * The connection under test as the script sees it: its ports, and the maps
 * between the script's numbers and the stack's live ones (packetdrill's
 * run_packet.c): the ISN offset fixed by the outbound SYN, and the script
 * TS val -> live TS val pairs learnt from outbound lines. Inbound packets
 * are mapped through it one way (inject.ts), outbound ones the other
 * (expect.ts).
 */
import type { TcpSocket } from '../stack/index.js';

/** The port the script's remote end uses when it opens connections to us (packetdrill picks an ephemeral one). */
export const REMOTE_EPHEMERAL_PORT = 48879;

/** The script <-> live mapping of the connection under test. */
export interface Flow {
  localPort: number;
  remotePort: number;
  haveIsn: boolean;
  scriptIsn: number;
  liveIsn: number;
  isnSocket: TcpSocket | null;
  /** Script TS val -> live TS val, from outbound lines (packetdrill's ts_val_map). */
  tsMap: Map<number, number>;
  firstTs: { script: number; live: number } | null;
  /**
   * The remote end's ISN, the same number in script and live space: the
   * sequence number of the inbound SYN that opened the connection (or of the
   * SYN-ACK answering our SYN). packetdrill numbers the remote end's later
   * segments from it: `< S 1000:1000(0)` then `< . 1:1(0)` (run_packet.c's
   * remote_seq_script_to_live_offset). Null before any.
   */
  remoteIsn: number | null;
}

/** A flow on `localPort` before any packet has fixed a mapping. */
export function newFlow(localPort: number): Flow {
  return {
    localPort,
    remotePort: REMOTE_EPHEMERAL_PORT,
    haveIsn: false,
    scriptIsn: 0,
    liveIsn: 0,
    isnSocket: null,
    tsMap: new Map(),
    firstTs: null,
    remoteIsn: null,
  };
}

/** What a remote sequence number that is not a SYN's adds to go from script to live space. */
export function remoteOffset(flow: Flow): number {
  return flow.remoteIsn ?? 0;
}

/**
 * What one of our sequence numbers adds to go from script to live space
 * (packetdrill's local_seq_script_to_live_offset): in a SYN, live ISN -
 * script ISN; elsewhere the live ISN, as the script counts from its ISN.
 */
export function localOffset(flow: Flow, isSyn: boolean): number {
  if (!flow.haveIsn) return 0;
  return isSyn ? (flow.liveIsn - flow.scriptIsn) >>> 0 : flow.liveIsn;
}
