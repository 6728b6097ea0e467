/**
 * Joins a host socket (node:net) and a guest connection (tcpts's net.Socket)
 * into one flow: bytes piped both ways with backpressure (a full write
 * buffer on one side stops reading on the other, so the guest's TCP window
 * closes when the host is slow), a FIN passed on as a FIN in each direction
 * (both sockets allow half-open), and a reset on either side passed on as a
 * RST.
 */
import type net from 'node:net';
import type { Socket as StackSocket } from '../net/index.js';

/** Bytes a flow carried, told when both sides have closed. */
export interface SpliceTotals {
  toHost: number;
  toGuest: number;
}

/** Splices `host` and `guest`; `closed` runs once, after both have closed. */
export function splice(
  host: net.Socket,
  guest: StackSocket,
  closed: (totals: SpliceTotals) => void,
): SpliceTotals {
  const totals: SpliceTotals = { toHost: 0, toGuest: 0 };
  guest.on('data', (chunk: Buffer) => {
    totals.toHost += chunk.length;
  });
  host.on('data', (chunk: Buffer) => {
    totals.toGuest += chunk.length;
  });
  guest.pipe(host);
  host.pipe(guest);
  host.on('error', () => {
    if (!guest.destroyed) guest.resetAndDestroy();
  });
  guest.on('error', () => {
    if (!host.destroyed) host.resetAndDestroy();
  });
  let sides = 0;
  const onClose = (): void => {
    if (++sides === 2) closed(totals);
  };
  host.once('close', onClose);
  guest.once('close', onClose);
  return totals;
}
