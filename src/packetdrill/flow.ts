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
  };
}

/** live ISN - script ISN: added to script sequence numbers of our side, subtracted from live ones. */
export function localOffset(flow: Flow): number {
  return flow.haveIsn ? (flow.liveIsn - flow.scriptIsn) >>> 0 : 0;
}
