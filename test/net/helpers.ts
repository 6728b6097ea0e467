/** Two tcpts hosts joined by a memory link, with net modules on top, on a real or a virtual clock. */
import { once } from 'node:events';
import { later, millis, type Instant } from '../../src/base/index.js';
import { memoryPair } from '../../src/link/index.js';
import { createNet, type Server, type Socket, type TcptsNet } from '../../src/net/index.js';
import {
  RealDriver,
  VirtualLoop,
  joinDrivers,
  type Driver,
  type VirtualDriver,
} from '../../src/runtime/index.js';
import type { TcpConfig } from '../../src/tcp/index.js';

export const A4 = '10.0.0.1';
export const B4 = '10.0.0.2';
export const A6 = 'fd00::1';
export const B6 = 'fd00::2';

const ADDRESSES_A = [`${A4}/24`, `${A6}/64`];
const ADDRESSES_B = [`${B4}/24`, `${B6}/64`];

/** Two hosts a (10.0.0.1, fd00::1) and b (10.0.0.2, fd00::2) and their net modules. */
export interface Pair<D extends Driver = Driver> {
  a: D;
  b: D;
  netA: TcptsNet;
  netB: TcptsNet;
  /** Stops both drivers (the test's end). */
  close(): void;
}

/** Options of the pair builders. */
export interface PairOptions {
  tcp?: Partial<TcpConfig>;
  kind?: 'ethernet' | 'ip';
}

/** Two live stacks on the process's real clock, joined by a memory link. */
export function realPair(options: PairOptions = {}): Pair<RealDriver> {
  const stack = options.tcp !== undefined ? { tcp: options.tcp } : {};
  const a = new RealDriver({ stack });
  const b = new RealDriver({ stack });
  joinDrivers(a, b, {
    kind: options.kind ?? 'ethernet',
    a: { addresses: ADDRESSES_A },
    b: { addresses: ADDRESSES_B },
  });
  return {
    a,
    b,
    netA: createNet(a),
    netB: createNet(b),
    close() {
      a.close();
      b.close();
    },
  };
}

/** Two simulated stacks in virtual time, joined by a memory link. */
export function virtualPair(
  seed: number,
  options: PairOptions = {},
): Pair<VirtualDriver> & { loop: VirtualLoop } {
  const loop = VirtualLoop.create(seed);
  const stack = options.tcp !== undefined ? { tcp: options.tcp } : {};
  const a = loop.addHost('a', stack);
  const b = loop.addHost('b', stack);
  const [ea, eb] = memoryPair({ kind: options.kind ?? 'ethernet' });
  a.attach(ea, { addresses: ADDRESSES_A });
  b.attach(eb, { addresses: ADDRESSES_B });
  return {
    loop,
    a,
    b,
    netA: createNet(a),
    netB: createNet(b),
    close() {
      loop.close();
    },
  };
}

/** Starts listening and resolves with the port. */
export async function listening(server: Server, port = 0, host?: string): Promise<number> {
  if (host !== undefined) server.listen(port, host);
  else server.listen(port);
  await once(server, 'listening');
  const address = server.address();
  if (address === null) throw new Error('server is not listening');
  return address.port;
}

/** Resolves with everything a socket receives until 'end'. */
export function collect(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

/** Resolves after `ms` milliseconds on the driver's clock (virtual time for a virtual driver). */
export function sleep(driver: Driver, ms: number): Promise<Instant> {
  return new Promise((resolve) => {
    driver.setTimer(later(driver.now(), millis(ms)), () => resolve(driver.now()));
    driver.kick();
  });
}

/** Resolves with the first error the emitter emits. */
export async function errorOf(
  emitter: NodeJS.EventEmitter,
): Promise<Error & Record<string, unknown>> {
  const [error] = (await once(emitter, 'error')) as [Error & Record<string, unknown>];
  return error;
}

/** A deterministic byte pattern of `length` bytes (so reordering or loss would show). */
export function pattern(length: number, seed = 0): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed + (i >>> 8)) & 0xff;
  return out;
}
