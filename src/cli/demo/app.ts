/**
 * The applications at each end of a demo: a small one per connection that
 * writes what it is given, reads and counts what arrives, and closes when
 * its scenario says so.
 */
import type { Instant } from '../../base/index.js';
import type { SimHost } from '../../sim/index.js';
import type { StackEvent, TcpSocket } from '../../stack/index.js';
import { TcpState, type TcpEvent } from '../../tcp/index.js';

/** A small application on one connection: sends what it is given (then FIN if asked), counts what it reads. */
export class App {
  socket: TcpSocket | null = null;
  read = 0;
  ending: string | null | undefined = undefined;
  onData: ((chunk: Uint8Array, now: Instant) => void) | null = null;
  onConnected: ((now: Instant) => void) | null = null;
  onPeerClosed: ((now: Instant) => void) | null = null;
  private readonly outbox: Uint8Array[] = [];
  private finAfter = false;
  private finSent = false;
  private readonly buffer = new Uint8Array(65536);

  /**
   * Takes a connection from a listener. Data and a FIN may have arrived
   * before it was accepted (their events went to the listener), so look.
   */
  adopt(socket: TcpSocket, now: Instant): void {
    this.socket = socket;
    this.drain(now);
    const state = socket.state;
    if (state === TcpState.CloseWait || state === TcpState.LastAck) this.onPeerClosed?.(now);
    this.pump(now);
  }

  send(now: Instant, data: Uint8Array): void {
    if (data.length > 0) this.outbox.push(data);
    this.pump(now);
  }

  /** FIN once everything queued so far has been written. */
  finish(now: Instant): void {
    this.finAfter = true;
    this.pump(now);
  }

  pump(now: Instant): void {
    const s = this.socket;
    if (s === null || this.ending !== undefined) return;
    if (s.state === TcpState.SynSent || s.state === TcpState.SynReceived) return;
    while (this.outbox.length > 0) {
      const head = this.outbox[0]!;
      const n = s.write(head);
      if (n < head.length) {
        this.outbox[0] = head.subarray(n);
        return;
      }
      this.outbox.shift();
    }
    if (this.finAfter && !this.finSent) {
      this.finSent = true;
      s.shutdown(now);
    }
  }

  handle(event: TcpEvent, now: Instant): void {
    switch (event.type) {
      case 'connected':
        this.onConnected?.(now);
        this.pump(now);
        break;
      case 'writable':
        this.pump(now);
        break;
      case 'readable':
        this.drain(now);
        break;
      case 'peer-closed':
        this.drain(now);
        this.onPeerClosed?.(now);
        break;
      case 'closed':
        this.ending = event.error;
        break;
      case 'state':
        break;
    }
  }

  private drain(now: Instant): void {
    const s = this.socket;
    if (s === null) return;
    for (let n = s.read(this.buffer); n > 0; n = s.read(this.buffer)) {
      this.read += n;
      this.onData?.(this.buffer.slice(0, n), now);
    }
  }
}

/** Routes a host's events to its app: the first connection a listener offers, or the app's own socket. */
export function wire(host: SimHost, app: App): void {
  host.onEvent = (e: StackEvent, now: Instant) => {
    if (e.type === 'accept') {
      for (let s = e.listener.accept(); s !== null; s = e.listener.accept()) {
        if (app.socket === null) app.adopt(s, now);
      }
    } else if (e.type === 'tcp' && e.socket === app.socket) {
      app.handle(e.event, now);
    }
  };
}
