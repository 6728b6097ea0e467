/**
 * What a stack tells the application (StackEvent), and the queue those events
 * wait in until pollEvent. Per docs/architecture.md the core calls nobody back: events
 * are data, drained by the driver.
 */
import type { Instant } from '../base/index.js';
import type { TcpEvent } from '../tcp/index.js';
import type { IpAddr } from './address.js';
import type { TcpListener, TcpSocket, UdpSocket } from './sockets.js';
import type { SynRequest } from './transparent.js';

/** What happened on a stack, for the layer that drives it. */
export type StackEvent =
  | { type: 'tcp'; socket: TcpSocket; event: TcpEvent }
  | { type: 'accept'; listener: TcpListener }
  | { type: 'udp'; socket: UdpSocket }
  | {
      type: 'echo-reply';
      from: IpAddr;
      identifier: number;
      sequence: number;
      data: Uint8Array;
      at: Instant;
    }
  | { type: 'icmp-error'; from: IpAddr; kind: string; at: Instant }
  /** A SYN held by the transparent listener, to be answered with Stack.answerSyn. */
  | { type: 'syn'; request: SynRequest }
  /** A datagram waits in the catch-all queue (Stack.receiveIntercepted). */
  | { type: 'udp-intercepted' };

/** Events waiting for pollEvent, oldest first. */
export class EventQueue {
  private readonly queue: StackEvent[] = [];
  private head = 0;

  push(event: StackEvent): void {
    this.queue.push(event);
  }

  /** The oldest waiting event, or null (and the queue starts afresh). */
  next(): StackEvent | null {
    if (this.head >= this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      return null;
    }
    return this.queue[this.head++]!;
  }
}
