/** Small builders for stack tests on the simulated network. */
import { instant, millis, type Instant } from '../../src/base/index.js';
import { memoryPair, type LinkEndpoint } from '../../src/link/index.js';
import { Network, type SimHost } from '../../src/sim/index.js';
import type { StackEvent, TcpSocket } from '../../src/stack/index.js';

export function ms(n: number): Instant {
  return instant(millis(n));
}

/** Two hosts on one link: a at 10.0.0.1 / fd00::1, b at 10.0.0.2 / fd00::2. */
export function twoHosts(
  options: {
    kind?: 'ethernet' | 'ip';
    mtu?: number;
    queueFrames?: number;
    seed?: number;
    wrap?: (e: LinkEndpoint, side: 'a' | 'b') => LinkEndpoint;
  } = {},
): { net: Network; a: SimHost; b: SimHost } {
  const net = new Network({ seed: options.seed ?? 1 });
  const a = net.addHost('a');
  const b = net.addHost('b');
  const [ea, eb] = memoryPair({
    kind: options.kind ?? 'ethernet',
    mtu: options.mtu ?? 1500,
    ...(options.queueFrames !== undefined ? { queueFrames: options.queueFrames } : {}),
  });
  const wrap = options.wrap ?? ((e: LinkEndpoint) => e);
  net.attach(a, wrap(ea, 'a'), { addresses: ['10.0.0.1/24', 'fd00::1/64'] });
  net.attach(b, wrap(eb, 'b'), { addresses: ['10.0.0.2/24', 'fd00::2/64'] });
  return { net, a, b };
}

/** Collects every event of a host. */
export function record(host: SimHost): StackEvent[] {
  const seen: StackEvent[] = [];
  const previous = host.onEvent;
  host.onEvent = (e, now) => {
    seen.push(e);
    if (previous !== null) previous(e, now);
  };
  return seen;
}

/** Reads everything available from a socket. */
export function readAll(socket: TcpSocket, into: number[]): void {
  const buf = new Uint8Array(65536);
  for (let n = socket.read(buf); n > 0; n = socket.read(buf))
    for (let i = 0; i < n; i++) into.push(buf[i]!);
}
