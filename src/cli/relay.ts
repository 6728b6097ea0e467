/**
 * `tcpts relay`: a WebSocket server that joins its clients on one Ethernet
 * segment. Each client (a tcpts stack in a browser page, over the WebSocket
 * link of link/websocket.ts, or one in Node over the `ws` package) sends
 * and receives one Ethernet frame per binary message; a learning switch
 * (./ethernet-switch.ts) forwards between them. With `--tap NAME` a TAP
 * device is one more port of the switch, so browser stacks reach the
 * kernel of this machine (give the device an address:
 * `ip addr add 10.0.0.1/24 dev NAME`), and through it whatever it routes.
 */
import { openTap, type HostLink } from '../link/node/index.js';
import { realClock } from '../runtime/index.js';
import { parseCommandArgs, positiveInteger, type CommandIo } from './args.js';
import { LearningSwitch, type SwitchPort } from './ethernet-switch.js';
import { WebSocketServer, type WebSocketPeer } from './websocket-server.js';

export const RELAY_USAGE = `Usage: tcpts relay --port P [--host ADDRESS] [--tap NAME [--netns NS]] [--mtu N]

A WebSocket relay for tcpts stacks in browsers: every client is a port of
one Ethernet switch, one frame per binary WebSocket message.

Options:
  --port P        TCP port of the WebSocket server (0: any free one)
  --host ADDRESS  address to listen on (default 127.0.0.1)
  --tap NAME      also bridge the segment to TAP device NAME (created if
                  needed, brought up; needs CAP_NET_ADMIN). Give it an
                  address to reach the kernel: ip addr add 10.0.0.1/24 dev NAME
  --netns NS      create the TAP device in network namespace NS (a name
                  from 'ip netns', or a path to a namespace file)
  --mtu N         MTU of the TAP device and the largest frame relayed
                  (default 1500)
  -h, --help      this text

Runs until Ctrl-C (SIGINT) or SIGTERM.`;

/** Bytes a client may have waiting to be sent before frames for it are dropped (its link's queue is full). */
const CLIENT_QUEUE_BYTES = 4 * 1024 * 1024;
const ETHERNET_HEADER = 14;

/** Options of {@link startRelay}. */
export interface RelayOptions {
  port: number;
  host?: string;
  /** A TAP device to bridge in. */
  tap?: string;
  /** The network namespace to create the TAP device in (a name or a path; default this process's). */
  netns?: string;
  /** Largest IP packet relayed (default 1500). */
  mtu?: number;
  /** One line per event (client in or out). */
  log?: (line: string) => void;
}

/** A running relay. */
export interface Relay {
  /** The WebSocket server's port. */
  readonly port: number;
  /** The switch joining the clients (and the TAP device). */
  readonly switch: LearningSwitch;
  /** The TAP device, with `--tap`. */
  readonly tap: HostLink | null;
  /** Closes every client, the server and the TAP device. */
  close(): Promise<void>;
}

/** A WebSocket client as a switch port. */
class ClientPort implements SwitchPort {
  readonly name: string;
  private readonly peer: WebSocketPeer;
  constructor(peer: WebSocketPeer) {
    this.peer = peer;
    this.name = `ws ${peer.remote}`;
  }
  send(frame: Uint8Array): boolean {
    if (this.peer.bufferedAmount > CLIENT_QUEUE_BYTES) return false;
    this.peer.send(frame);
    return true;
  }
}

/** The TAP device as a switch port. */
class TapPort implements SwitchPort {
  readonly name: string;
  private readonly link: HostLink;
  constructor(link: HostLink) {
    this.link = link;
    this.name = `tap ${link.name}`;
  }
  send(frame: Uint8Array): boolean {
    return this.link.send(realClock.now(), frame);
  }
}

/** Starts a relay; resolves once it listens (and the TAP device is up). */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const log = options.log ?? (() => {});
  const mtu = options.mtu ?? 1500;
  const fabric = new LearningSwitch();
  let tap: HostLink | null = null;
  if (options.tap !== undefined) {
    tap = openTap({
      name: options.tap,
      mtu,
      ...(options.netns !== undefined ? { netns: options.netns } : {}),
    });
    const link = tap;
    const port = new TapPort(link);
    fabric.add(port);
    link.onReadable(() => {
      const now = realClock.now();
      for (let f = link.receive(now); f !== null; f = link.receive(now)) fabric.receive(port, f);
    });
  }
  let server: WebSocketServer;
  try {
    server = await WebSocketServer.listen({
      port: options.port,
      ...(options.host !== undefined ? { host: options.host } : {}),
      maxMessageBytes: mtu + ETHERNET_HEADER,
    });
  } catch (error) {
    tap?.close();
    throw error;
  }
  server.onConnection = (peer) => {
    const port = new ClientPort(peer);
    fabric.add(port);
    log(`join  ${port.name} (${fabric.size} port${fabric.size === 1 ? '' : 's'})`);
    peer.onMessage = (frame) => fabric.receive(port, frame);
    peer.onClose = (code) => {
      fabric.remove(port);
      log(`leave ${port.name} (close ${code})`);
    };
  };
  return {
    port: server.port,
    switch: fabric,
    tap,
    async close() {
      await server.close();
      if (tap !== null) {
        tap.onReadable(null);
        tap.close();
      }
    },
  };
}

/** Options of {@link runRelay} for tests: where signals come from. */
export interface RelayHooks {
  signals?: NodeJS.EventEmitter;
}

/** `tcpts relay`: parses the arguments, runs until a signal, returns the exit status. */
export async function runRelay(
  args: string[],
  io: CommandIo,
  hooks: RelayHooks = {},
): Promise<number> {
  const parsed = parseCommandArgs('relay', args, {
    port: { type: 'string' },
    host: { type: 'string' },
    tap: { type: 'string' },
    netns: { type: 'string' },
    mtu: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (typeof parsed === 'string') {
    io.err(parsed);
    return 2;
  }
  const v = parsed.values;
  if (v['help'] === true) {
    io.out(RELAY_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) {
    io.err(
      `tcpts relay: unexpected argument '${parsed.positionals[0]}' (see 'tcpts relay --help')`,
    );
    return 2;
  }
  const portText = v['port'];
  if (typeof portText !== 'string') {
    io.err("tcpts relay: --port P is required (see 'tcpts relay --help')");
    return 2;
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    io.err(`tcpts relay: --port takes 0 to 65535, got '${portText}'`);
    return 2;
  }
  if (typeof v['netns'] === 'string' && typeof v['tap'] !== 'string') {
    io.err("tcpts relay: --netns goes with --tap NAME (see 'tcpts relay --help')");
    return 2;
  }
  let mtu = 1500;
  if (typeof v['mtu'] === 'string') {
    const n = positiveInteger('relay', 'mtu', v['mtu']);
    if (typeof n === 'string') {
      io.err(n);
      return 2;
    }
    if (n < 68 || n > 65535) {
      io.err(`tcpts relay: --mtu takes 68 (RFC 791) to 65535, got ${n}`);
      return 2;
    }
    mtu = n;
  }
  let relay: Relay;
  try {
    relay = await startRelay({
      port,
      mtu,
      ...(typeof v['host'] === 'string' ? { host: v['host'] } : {}),
      ...(typeof v['tap'] === 'string' ? { tap: v['tap'] } : {}),
      ...(typeof v['netns'] === 'string' ? { netns: v['netns'] } : {}),
      log: (line) => io.out(`tcpts relay: ${line}`),
    });
  } catch (error) {
    io.err(
      `tcpts relay: ${error instanceof Error ? error.message.replace(/^tcpts: /, '') : String(error)}`,
    );
    return 1;
  }
  const where = `ws://${typeof v['host'] === 'string' ? v['host'] : '127.0.0.1'}:${relay.port}/`;
  io.out(
    `tcpts relay: listening on ${where}${relay.tap !== null ? `, bridged to TAP ${relay.tap.name}` : ''}`,
  );
  const signals = hooks.signals ?? process;
  const why = await new Promise<string>((resolve) => {
    const onInt = (): void => resolve('SIGINT');
    const onTerm = (): void => resolve('SIGTERM');
    signals.once('SIGINT', onInt);
    signals.once('SIGTERM', onTerm);
  });
  const s = relay.switch.stats();
  await relay.close();
  io.out(
    `tcpts relay: ${why}: closed; ${s.frames} frames (${s.forwarded} forwarded, ${s.flooded} flooded, ${s.portDrops} dropped at a full port)`,
  );
  return 0;
}
