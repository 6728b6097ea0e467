/**
 * One host's application: routes its stack's events to the peer that owns
 * the socket, the handler of a listener or of a UDP socket, and flags an
 * event for a socket the application never saw (the events invariant).
 */
import type { Instant } from '../../base/index.js';
import type { StackEvent, TcpListener, TcpSocket, UdpSocket } from '../../stack/index.js';
import type { SimHost } from '../network.js';
import type { Peer } from './peer.js';
import type { Run } from './run.js';

/** What one host's application does with its stack's events. */
export class HostApp {
  readonly sockets = new Map<TcpSocket, Peer>();
  readonly listeners = new Map<TcpListener, (now: Instant) => void>();
  readonly udp = new Map<UdpSocket, (now: Instant) => void>();
  private readonly run: Run;
  private readonly host: SimHost;

  constructor(run: Run, host: SimHost) {
    this.run = run;
    this.host = host;
  }

  onEvent(e: StackEvent, now: Instant): void {
    switch (e.type) {
      case 'tcp': {
        const peer = this.sockets.get(e.socket);
        if (peer === undefined) {
          this.run.fail(
            'events',
            `${this.host.name}: '${e.event.type}' event for a socket the application never saw ` +
              `(${e.socket.localPort} -> ${e.socket.remoteAddress.text}:${e.socket.remotePort})`,
          );
          return;
        }
        peer.onTcpEvent(e.event, now);
        return;
      }
      case 'accept': {
        const handler = this.listeners.get(e.listener);
        if (handler !== undefined) handler(now);
        return;
      }
      case 'udp': {
        const handler = this.udp.get(e.socket);
        if (handler !== undefined) handler(now);
        return;
      }
      case 'icmp-error':
        if (this.run.tracing)
          this.run.log(now, `${this.host.name}: ICMP ${e.kind} from ${e.from.text}`);
        return;
      case 'echo-reply':
        return;
    }
  }
}
