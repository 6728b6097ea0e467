/**
 * Where the bench's stacks run: two tcpts hosts joined in memory, a tcpts
 * host on a TUN device facing the kernel in a namespace, and two kernel
 * namespaces joined by a veth pair. All tcpts hosts run on the real-clock
 * driver of src/runtime, the one applications get.
 */
import { fileURLToPath } from 'node:url';
import { millis, type Instant } from '../../src/base/index.js';
import { impair, memoryPair, type LinkEndpoint } from '../../src/link/index.js';
import { openTun, type HostLink } from '../../src/link/node/index.js';
import { RealDriver, joinDrivers } from '../../src/runtime/index.js';
import { Netns } from '../../test/interop/netns.js';

/** Addresses of the in-memory pair: the client is a, the server b. */
export const MEM_A = '10.0.0.1';
export const MEM_B = '10.0.0.2';
/** Addresses on the TUN device: the kernel's end and tcpts' (as the interop tests). */
export const TUN_KERNEL = '10.99.0.1';
export const TUN_TCPTS = '10.99.0.2';
/** Addresses of the veth pair between two kernel namespaces. */
export const VETH_A = '10.98.0.1';
export const VETH_B = '10.98.0.2';

/** Random loss and a fixed delay each way (row 7). */
export interface PathImpairment {
  loss: number;
  /** One-way delay in ms. */
  delayMs: number;
  seed: number;
}

/** Two tcpts stacks on real-clock drivers joined by an in-memory link of bare IP packets. */
export interface MemoryHosts {
  a: RealDriver;
  b: RealDriver;
  /** Stops both drivers. */
  close(): void;
}

/**
 * Two stacks joined by `memoryPair` (kind `ip`, as a TUN device: no ARP),
 * with checksum offload unless impaired.
 * With an impairment, a's end is wrapped by `impair()`, which then acts on
 * both directions. The drivers hold a reference each, so the process lives
 * until {@link MemoryHosts.close}.
 */
export function memoryHosts(mtu: number, path: PathImpairment | null = null): MemoryHosts {
  const a = new RealDriver();
  const b = new RealDriver();
  // Checksum offload, as the kernel's loopback (node:net's figures are over
  // it); impairment wraps an end, which offload does not allow.
  const [ea, eb] = memoryPair({ kind: 'ip', mtu, checksumOffload: path === null });
  const first: LinkEndpoint =
    path === null
      ? ea
      : impair(ea, { seed: path.seed, loss: path.loss, delay: millis(path.delayMs) });
  joinDrivers(a, b, {
    pair: [first, eb],
    a: { addresses: [`${MEM_A}/24`] },
    b: { addresses: [`${MEM_B}/24`] },
  });
  a.ref();
  b.ref();
  return {
    a,
    b,
    close() {
      a.unref();
      b.unref();
      a.close();
      b.close();
    },
  };
}

/** A tcpts host on a TUN device inside a namespace; the kernel's end of the device is in the namespace. */
export interface TunHost {
  ns: Netns;
  link: HostLink;
  driver: RealDriver;
  /** Stops the driver, closes the device, deletes the namespace (and what runs in it). */
  close(): void;
}

/** Makes a namespace with a TUN device (kernel 10.99.0.1/24, tcpts 10.99.0.2/24) and a driver on it. */
export function tunHost(mtu: number, path: PathImpairment | null = null): TunHost {
  const ns = new Netns();
  let link: HostLink | null = null;
  try {
    link = openTun({ name: 'tun%d', netns: ns.path, mtu });
    ns.ip(['addr', 'add', `${TUN_KERNEL}/24`, 'dev', link.name]);
    const device = link;
    const driver = new RealDriver();
    const endpoint: LinkEndpoint =
      path === null
        ? device
        : impair(device, { seed: path.seed, loss: path.loss, delay: millis(path.delayMs) });
    driver.attach(endpoint, { name: device.name, addresses: [`${TUN_TCPTS}/24`] });
    device.onReadable(() => driver.wake());
    driver.ref();
    return {
      ns,
      link: device,
      driver,
      close() {
        driver.unref();
        driver.close();
        device.onReadable(null);
        device.close();
        ns.delete();
      },
    };
  } catch (error) {
    link?.close();
    ns.delete();
    throw error;
  }
}

/** Addresses of the routed pair: the kernel sender's namespace and the kernel receiver's. */
export const ROUTED_SENDER = '10.97.0.1';
export const ROUTED_RECEIVER = '10.96.0.1';

/** Two kernel namespaces with tcpts routing between them (see {@link tunRouter}). */
export interface TunRouter {
  sender: Netns;
  receiver: Netns;
  driver: RealDriver;
  close(): void;
}

/**
 * Two kernel namespaces, each on a TUN device whose other end is one tcpts
 * stack that forwards between them, with `path` impaired on the sender's
 * device (loss both ways, half the round trip each way). Kernel to kernel
 * through the very impairment tcpts' own connections meet, so a tcpts
 * sender and a kernel sender can both be measured against a kernel
 * receiver: the receivers' ACK habits (the kernel ACKs a burst once the
 * application has read it) then weigh on both alike.
 */
export function tunRouter(path: PathImpairment): TunRouter {
  const sender = new Netns();
  const receiver = new Netns();
  const links: HostLink[] = [];
  try {
    const a = openTun({ name: 'tun%d', netns: sender.path, mtu: 1500 });
    links.push(a);
    const b = openTun({ name: 'tun%d', netns: receiver.path, mtu: 1500 });
    links.push(b);
    sender.ip(['addr', 'add', `${ROUTED_SENDER}/24`, 'dev', a.name]);
    sender.ip(['route', 'add', '10.96.0.0/24', 'dev', a.name]);
    receiver.ip(['addr', 'add', `${ROUTED_RECEIVER}/24`, 'dev', b.name]);
    receiver.ip(['route', 'add', '10.97.0.0/24', 'dev', b.name]);
    const driver = new RealDriver({ stack: { forwarding: true } });
    driver.attach(impair(a, { seed: path.seed, loss: path.loss, delay: millis(path.delayMs) }), {
      name: a.name,
      addresses: ['10.97.0.2/24'],
    });
    driver.attach(b, { name: b.name, addresses: ['10.96.0.2/24'] });
    a.onReadable(() => driver.wake());
    b.onReadable(() => driver.wake());
    driver.ref();
    return {
      sender,
      receiver,
      driver,
      close() {
        driver.unref();
        driver.close();
        for (const link of links) {
          link.onReadable(null);
          link.close();
        }
        sender.delete();
        receiver.delete();
      },
    };
  } catch (error) {
    for (const link of links) link.close();
    sender.delete();
    receiver.delete();
    throw error;
  }
}

/** Two kernel namespaces joined by a veth pair at one MTU. */
export interface VethPair {
  a: Netns;
  b: Netns;
  close(): void;
}

/** Namespaces a (10.98.0.1) and b (10.98.0.2) joined by a veth pair with this MTU. */
export function vethPair(mtu: number): VethPair {
  const a = new Netns();
  const b = new Netns();
  try {
    a.ip([
      'link',
      'add',
      'va',
      'mtu',
      String(mtu),
      'type',
      'veth',
      'peer',
      'name',
      'vb',
      'netns',
      b.name,
    ]);
    b.ip(['link', 'set', 'vb', 'mtu', String(mtu)]);
    a.ip(['addr', 'add', `${VETH_A}/24`, 'dev', 'va']);
    b.ip(['addr', 'add', `${VETH_B}/24`, 'dev', 'vb']);
    a.ip(['link', 'set', 'va', 'up']);
    b.ip(['link', 'set', 'vb', 'up']);
  } catch (error) {
    a.delete();
    b.delete();
    throw error;
  }
  return {
    a,
    b,
    close() {
      a.delete();
      b.delete();
    },
  };
}

const KERNEL_PY = fileURLToPath(new URL('../kernel.py', import.meta.url));

/** A bench/kernel.py command running in a namespace. */
export interface KernelCommand {
  /** Resolves when it printed "ready" (servers). */
  ready: Promise<void>;
  /** Its JSON line when it exits 0; rejects with its output otherwise. */
  result: Promise<Record<string, number>>;
  /** Kills it (servers that run until killed). */
  kill(): void;
}

/**
 * Runs `python3 bench/kernel.py <args>` in `ns`, killed after `timeoutMs`.
 * With `congestion` (e.g. "cubic"), its sockets use that algorithm whatever
 * the namespace's default is (kernel.py's KERNEL_CC).
 */
export function kernel(
  ns: Netns,
  args: (string | number)[],
  timeoutMs = 120_000,
  congestion = '',
): KernelCommand {
  const argv = args.map(String);
  const child = ns.runJson(
    'env',
    [`KERNEL_CC=${congestion}`, 'python3', KERNEL_PY, ...argv],
    timeoutMs,
    `kernel.py ${argv.join(' ')}`,
  );
  // bench/kernel.py prints numbers only.
  return { ...child, result: child.result as Promise<Record<string, number>> };
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The driver's clock, for API calls made outside its events. */
export function nowOf(driver: RealDriver): Instant {
  return driver.now();
}
