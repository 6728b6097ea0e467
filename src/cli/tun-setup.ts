/**
 * What `tcpts serve` and `tcpts connect` share: the link options, the checks
 * for what a TUN/TAP device needs (Linux, the addon, /dev/net/tun,
 * CAP_NET_ADMIN, iproute2), and bringing a device up with both of its ends
 * addressed — tcpts's end in the stack, the kernel's end with `ip addr` —
 * wrapped in the impairment and capture the flags ask for, and run by a
 * {@link RealDriver}. Taking it down again removes what was added: the
 * device if this process created it, else the kernel addresses it added.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { millis } from '../base/index.js';
import {
  impair,
  pcapTap,
  type ImpairOptions,
  type ImpairedLink,
  type LinkEndpoint,
} from '../link/index.js';
// link/node/ is an entry point of its own (package.json "./link/node"): the
// host-device links cannot go through link/index.js, which the sans-IO core
// imports and which must not load the addon (eslint.config.js allows it above the line).
import { openTap, openTun, tuntapAvailability, type HostLink } from '../link/node/index.js';
import { createNet, type TcptsNet } from '../net/index.js';
import { RealDriver } from '../runtime/index.js';
import { IpAddr, inPrefix, parseCidr, type Cidr } from '../stack/index.js';
import { parseCommandArgs, type OptionSpec } from './args.js';

/** An option declaration that may repeat (node:util's parseArgs `multiple`). */
export interface LinkOptionSpec extends OptionSpec {
  multiple?: boolean;
}

/** The options of the device and the path, common to `serve` and `connect`. */
export const LINK_OPTIONS: Readonly<Record<string, LinkOptionSpec>> = {
  tun: { type: 'string' },
  tap: { type: 'string' },
  addr: { type: 'string', multiple: true },
  peer: { type: 'string', multiple: true },
  mtu: { type: 'string' },
  netns: { type: 'string' },
  loss: { type: 'string' },
  delay: { type: 'string' },
  jitter: { type: 'string' },
  reorder: { type: 'string' },
  duplicate: { type: 'string' },
  seed: { type: 'string' },
  pcap: { type: 'string' },
};

/** The lines of `--help` that describe {@link LINK_OPTIONS}. */
export const LINK_USAGE = `Device:
  --tun NAME         a TUN device (bare IP packets); created if it does not exist
  --tap NAME         a TAP device instead (Ethernet: ARP and NDP with the kernel)
  --addr CIDR        tcpts's address on the device, e.g. 10.0.0.2/24 or fd00::2/64
                     (repeat for one of each family)
  --peer ADDR        the kernel's address on the device (default: the first other
                     host of the prefix, e.g. 10.0.0.1); also tcpts's default gateway
  --mtu N            the device's MTU, 68..65535 (default 1500; IPv6 needs 1280)
  --netns NAME       put the kernel's end of the device in this network namespace
                     (ip netns add NAME first); default: this process's namespace

Path impairment, applied by tcpts to what it sends and what it receives:
  --loss F           lose a fraction F of the frames, e.g. 0.02
  --delay MS         delay every frame MS milliseconds (each way)
  --jitter MS        vary the delay by up to MS milliseconds
  --reorder F        hold back a fraction F of the frames 10 ms, so later ones pass
  --duplicate F      deliver a fraction F of the frames twice
  --seed N           seed of the impairment's random choices (default: random)
  --pcap FILE        record what tcpts sends and receives, as a pcap file`;

/** Parsed link options. */
export interface LinkConfig {
  /** TUN (`ip`) or TAP (`ethernet`). */
  kind: 'tun' | 'tap';
  /** The interface name asked for. */
  name: string;
  mtu: number;
  /** The kernel side's network namespace (a name, or a path to a namespace file), or null. */
  netns: string | null;
  /** tcpts's addresses, each with the kernel's address on the same link. */
  addresses: { ours: Cidr; peer: IpAddr }[];
  /** The impairment to apply, or null for a clean link. */
  impairment: ImpairOptions | null;
  /** Where to write the capture, or null. */
  pcap: string | null;
}

/** The values parseArgs produced for {@link LINK_OPTIONS} (and whatever else the command has). */
export type LinkValues = Record<string, string | boolean | string[] | undefined>;

/**
 * Parses `args` against the link options plus the command's own. Returns
 * the values and positionals, or the one-line usage error.
 */
export function parseWithLinkOptions(
  command: string,
  args: string[],
  own: Record<string, OptionSpec>,
): { values: LinkValues; positionals: string[] } | string {
  // parseCommandArgs hands the declarations to node:util's parseArgs as they
  // are, so `multiple` works; its declared value type just does not show it.
  const parsed = parseCommandArgs(command, args, { ...LINK_OPTIONS, ...own });
  if (typeof parsed === 'string') return parsed;
  return { values: parsed.values as LinkValues, positionals: parsed.positionals };
}

function fraction(flag: string, text: string): number | string {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text) || Number(text) > 1) {
    return `--${flag} takes a fraction from 0 to 1 (0.02 is 2%), got '${text}'`;
  }
  return Number(text);
}

function milliseconds(flag: string, text: string): number | string {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text) || Number(text) > 60_000) {
    return `--${flag} takes milliseconds from 0 to 60000, got '${text}'`;
  }
  return Number(text);
}

function list(value: string | boolean | string[] | undefined): string[] {
  if (value === undefined || typeof value === 'boolean') return [];
  return typeof value === 'string' ? [value] : value;
}

/**
 * The kernel's default address on a link where tcpts has `ours`: the first
 * host of the prefix that is not tcpts's (x.x.x.1, or .2 when tcpts has .1;
 * the other end of a /31). Null for a host prefix (/32, /128), which has no
 * room for a second host.
 */
export function defaultPeer(ours: Cidr): IpAddr | null {
  const { address, prefixLength } = ours;
  if (address.family === 4) {
    if (prefixLength >= 32) return null;
    const mask = prefixLength === 0 ? 0 : ~(0xffffffff >>> prefixLength) >>> 0;
    const network = (address.v4 & mask) >>> 0;
    // RFC 3021: both addresses of a /31 are hosts.
    const first = prefixLength === 31 ? network : network + 1;
    const pick = first === address.v4 ? first + 1 : first;
    return IpAddr.fromV4(pick >>> 0);
  }
  if (prefixLength >= 128) return null;
  const bytes = new Uint8Array(16);
  let bits = prefixLength;
  for (let i = 0; i < 16; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (0xff << (8 - bits)) & 0xff;
    bytes[i] = address.v6[i]! & mask;
  }
  // The subnet-router anycast address (all zeros host part) is not a host
  // (RFC 4291 §2.6.1), so the first host is ::1, or ::2 when tcpts has ::1.
  bytes[15] = bytes[15]! | 1;
  let peer = IpAddr.fromV6(bytes);
  if (peer.equals(address)) {
    bytes[15] = bytes[15]! + 1;
    peer = IpAddr.fromV6(bytes);
  }
  return peer;
}

/**
 * Reads the link options out of parsed values. Returns the configuration,
 * or a one-line message saying what is wrong (the caller adds its prefix).
 */
export function parseLinkConfig(values: LinkValues): LinkConfig | string {
  const tun = values.tun;
  const tap = values.tap;
  if (typeof tun === 'string' && typeof tap === 'string') return 'give --tun or --tap, not both';
  const name = typeof tun === 'string' ? tun : typeof tap === 'string' ? tap : null;
  if (name === null) return 'give the device: --tun NAME or --tap NAME';
  if (name.length === 0 || Buffer.byteLength(name) > 15 || /[\s/]/.test(name)) {
    return `device name '${name}' must be 1 to 15 bytes without spaces or '/'`;
  }
  let mtu = 1500;
  if (typeof values.mtu === 'string') {
    if (!/^\d+$/.test(values.mtu) || Number(values.mtu) < 68 || Number(values.mtu) > 65535) {
      return `--mtu takes an integer from 68 to 65535, got '${values.mtu}'`;
    }
    mtu = Number(values.mtu);
  }
  const addrTexts = list(values.addr);
  if (addrTexts.length === 0) return "give tcpts's address: --addr CIDR (e.g. 10.0.0.2/24)";
  const ours: Cidr[] = [];
  for (const text of addrTexts) {
    let cidr: Cidr;
    try {
      cidr = parseCidr(text);
    } catch {
      return `--addr takes an address with its prefix (10.0.0.2/24, fd00::2/64), got '${text}'`;
    }
    if (!text.includes('/')) {
      // The hint follows the family: a /64 means nothing to IPv4, nor /24 to IPv6.
      const example = cidr.address.family === 4 ? `${text}/24` : `${text}/64`;
      return `--addr needs the prefix length too (e.g. ${example}), got '${text}'`;
    }
    if (ours.some((c) => c.address.family === cidr.address.family)) {
      return `--addr: one address per family, got two IPv${cidr.address.family} addresses`;
    }
    if (cidr.address.family === 6 && mtu < 1280) {
      return `IPv6 needs an MTU of at least 1280 (RFC 8200 §5), got --mtu ${mtu}`;
    }
    ours.push(cidr);
  }
  const peers: IpAddr[] = [];
  for (const text of list(values.peer)) {
    const address = IpAddr.parse(text);
    if (address === null) return `--peer takes an IPv4 or IPv6 address, got '${text}'`;
    if (peers.some((p) => p.family === address.family)) {
      return `--peer: one address per family, got two IPv${address.family} addresses`;
    }
    peers.push(address);
  }
  const addresses: LinkConfig['addresses'] = [];
  for (const cidr of ours) {
    let peer = peers.find((p) => p.family === cidr.address.family) ?? null;
    const max = cidr.address.family === 4 ? 32 : 128;
    if (peer === null) {
      peer = defaultPeer(cidr);
      if (peer === null) {
        return `a /${max} address has no room for the kernel's: give --peer for ${cidr.address.text}`;
      }
    } else if (peer.equals(cidr.address)) {
      return `--peer ${peer.text} is tcpts's own address; the kernel needs another`;
    } else if (cidr.prefixLength < max && !inPrefix(peer, cidr.address, cidr.prefixLength)) {
      return `--peer ${peer.text} is not in ${cidr.address.text}/${cidr.prefixLength}`;
    }
    addresses.push({ ours: cidr, peer });
  }
  for (const peer of peers) {
    if (!ours.some((c) => c.address.family === peer.family)) {
      return `--peer ${peer.text} has no --addr of its family (IPv${peer.family})`;
    }
  }

  const impairment: ImpairOptions = {};
  let impaired = false;
  for (const flag of ['loss', 'reorder', 'duplicate'] as const) {
    const text = values[flag];
    if (typeof text !== 'string') continue;
    const f = fraction(flag, text);
    if (typeof f === 'string') return f;
    impairment[flag] = f;
    impaired = true;
  }
  for (const flag of ['delay', 'jitter'] as const) {
    const text = values[flag];
    if (typeof text !== 'string') continue;
    const ms = milliseconds(flag, text);
    if (typeof ms === 'string') return ms;
    impairment[flag] = millis(ms);
    impaired = true;
  }
  if (typeof values.seed === 'string') {
    if (!/^\d+$/.test(values.seed) || Number(values.seed) > 0xffffffff) {
      return `--seed takes an integer from 0 to 4294967295, got '${values.seed}'`;
    }
    impairment.seed = Number(values.seed);
  } else {
    impairment.seed = randomInt(0x7fffffff);
  }
  const netns = typeof values.netns === 'string' ? values.netns : null;
  if (netns !== null && netns.length === 0) return '--netns takes a namespace name';
  return {
    kind: typeof tun === 'string' ? 'tun' : 'tap',
    name,
    mtu,
    netns,
    addresses,
    impairment: impaired ? impairment : null,
    pcap: typeof values.pcap === 'string' ? values.pcap : null,
  };
}

// ---------------------------------------------------------------------------
// What the host must have

/** What {@link missingPrerequisite} looks at; {@link probeHost} reads it from this host. */
export interface HostFacts {
  platform: string;
  /** Whether the addon loaded, and if not why. */
  addon: { available: true } | { available: false; reason: string; hint?: string };
  tunDevice: boolean;
  /** Effective capabilities of this process: CAP_NET_ADMIN, CAP_SYS_ADMIN (setns). */
  netAdmin: boolean;
  sysAdmin: boolean;
  /** Whether iproute2's `ip` runs. */
  iproute2: boolean;
}

/** Linux capability numbers (include/uapi/linux/capability.h). */
const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;

function effectiveCapabilities(): bigint {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
    if (m !== null) return BigInt(`0x${m[1]}`);
  } catch {
    // No /proc: fall back to the user id below.
  }
  return process.geteuid?.() === 0 ? -1n : 0n;
}

/** Reads the {@link HostFacts} of this host and process. */
export function probeHost(): HostFacts {
  const caps = effectiveCapabilities();
  const ip = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  return {
    platform: process.platform,
    addon: tuntapAvailability(),
    tunDevice: existsSync('/dev/net/tun'),
    netAdmin: (caps & (1n << BigInt(CAP_NET_ADMIN))) !== 0n,
    sysAdmin: (caps & (1n << BigInt(CAP_SYS_ADMIN))) !== 0n,
    iproute2: ip.error === undefined && ip.status === 0,
  };
}

/**
 * The first thing missing for a device, as one sentence (without the
 * command's prefix), or null when everything is there. `netns` says whether
 * a namespace was asked for (entering one needs CAP_SYS_ADMIN as well).
 */
export function missingPrerequisite(facts: HostFacts, netns: boolean): string | null {
  if (facts.platform !== 'linux') {
    return `TUN/TAP devices need Linux, this is ${facts.platform}`;
  }
  if (!facts.addon.available) {
    // The addon is an optional package (@tcpts/tuntap): say what is missing and the one step.
    const hint = facts.addon.hint ?? "run 'npm install @tcpts/tuntap' with a C compiler";
    return `TUN/TAP devices need the addon (${facts.addon.reason})${hint === '' ? '' : `: ${hint}`}`;
  }
  if (!facts.tunDevice) {
    return (
      '/dev/net/tun does not exist: load the tun module (modprobe tun), or give the ' +
      'container the device (docker run --device /dev/net/tun --cap-add NET_ADMIN)'
    );
  }
  if (!facts.netAdmin) {
    return 'needs root (CAP_NET_ADMIN) to create the device and address it: run it with sudo';
  }
  if (netns && !facts.sysAdmin) {
    return '--netns needs root (CAP_SYS_ADMIN) to enter the namespace: run it with sudo';
  }
  if (!facts.iproute2) {
    return "iproute2 ('ip') is not installed; it gives the kernel's end of the device its address";
  }
  return null;
}

// ---------------------------------------------------------------------------
// Bringing the device up

/** The outcome of one `ip` command. */
interface IpResult {
  ok: boolean;
  output: string;
}

function runIp(netns: string | null, args: string[]): IpResult {
  // `ip -n` takes a name from /run/netns; a namespace file elsewhere is
  // entered with nsenter (util-linux) instead.
  const [command, argv] =
    netns === null
      ? ['ip', args]
      : netns.includes('/')
        ? ['nsenter', [`--net=${netns}`, 'ip', ...args]]
        : ['ip', ['-n', netns, ...args]];
  const r = spawnSync(command, argv as string[], { encoding: 'utf8', timeout: 10_000 });
  if (r.error !== undefined) return { ok: false, output: r.error.message };
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

/** A pcap file written in chunks of about 64 KiB (one write per frame would be a system call per frame). */
class PcapFile {
  private readonly fd: number;
  // Chunks the writer hands over are never reused, so holding them is safe.
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  readonly sink = (chunk: Uint8Array): void => {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered >= 65536) this.flush();
  };

  flush(): void {
    if (this.buffered === 0) return;
    writeSync(this.fd, Buffer.concat(this.chunks, this.buffered));
    this.chunks = [];
    this.buffered = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** A device with tcpts on one end and the kernel on the other, running. */
export interface LiveLink {
  /** What it was brought up with. */
  readonly config: LinkConfig;
  /** The device. */
  readonly link: HostLink;
  /** What the stack sends into: the device, under the impairment and the capture if asked for. */
  readonly endpoint: LinkEndpoint;
  /** The driver running the stack on the real clock. */
  readonly driver: RealDriver;
  /** `node:net` on the stack. */
  readonly net: TcptsNet;
  /** Whether this process created the device (closing removes it) or found it there. */
  readonly created: boolean;
  /** One line saying what is up: device, addresses both ends, namespace, impairment. */
  describe(): string;
  /**
   * One line of counters: frames each way, what was dropped (by reason) and
   * what the impairment duplicated and reordered.
   */
  summary(): string;
  /**
   * Calls `onError` once if reading the device fails (the link then stops
   * polling it, see `HostLink.error`); checks twice a second until
   * {@link LiveLink.close}.
   */
  watch(onError: (error: Error) => void): void;
  /**
   * Resolves once nothing holds the driver (no listening server, no open
   * socket, and no closed socket still waiting for its data and FIN to be
   * acknowledged), true; or false after `timeoutMs`.
   */
  settle(timeoutMs: number): Promise<boolean>;
  /** Stops the driver, closes the device and removes what was added. Twice is harmless. */
  close(): void;
}

/**
 * What `ip addr add` says when the address is already on the device:
 * "File exists" (IPv6, older kernels) or the extended ack "Address already
 * assigned" (IPv4 on newer kernels).
 */
const ADDRESS_THERE = /exists|already assigned/i;

/** How often {@link LiveLink.settle} looks at the driver. */
const SETTLE_POLL_MS = 10;
/** How often {@link LiveLink.watch} looks at the device. */
const WATCH_MS = 500;

/** An error in bringing the device up: its message is one sentence for the user. */
export class SetupError extends Error {
  override readonly name = 'SetupError';
}

function describeImpairment(i: ImpairOptions): string {
  const parts: string[] = [];
  if (i.loss !== undefined) parts.push(`loss ${i.loss}`);
  if (i.delay !== undefined) parts.push(`delay ${i.delay / 1000} ms`);
  if (i.jitter !== undefined) parts.push(`jitter ${i.jitter / 1000} ms`);
  if (i.reorder !== undefined) parts.push(`reorder ${i.reorder}`);
  if (i.duplicate !== undefined) parts.push(`duplicate ${i.duplicate}`);
  parts.push(`seed ${i.seed}`);
  return parts.join(', ');
}

/** Drops the "tcpts: " the addon starts its sentences with (the command adds its own prefix). */
function sentence(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^tcpts: /, '');
}

/**
 * Opens the device, addresses both ends, and starts a driver on it. Throws
 * a {@link SetupError} whose message says what went wrong; on failure,
 * whatever was done is undone.
 */
export function bringUp(config: LinkConfig): LiveLink {
  const { netns, name } = config;
  if (netns !== null) {
    const path = netns.includes('/') ? netns : `/run/netns/${netns}`;
    if (!existsSync(path)) {
      throw new SetupError(
        netns.includes('/')
          ? `no network namespace file ${netns}`
          : `no network namespace '${netns}' (create it with: ip netns add ${netns})`,
      );
    }
  }
  // A device that is already there (a persistent one, `ip tuntap add`)
  // outlives us: then only the addresses we add are ours to remove.
  const existed = !name.includes('%') && runIp(netns, ['link', 'show', 'dev', name]).ok;
  let link: HostLink;
  try {
    const open = config.kind === 'tap' ? openTap : openTun;
    link = open({ name, mtu: config.mtu, ...(netns !== null ? { netns } : {}) });
  } catch (error) {
    throw new SetupError(sentence(error));
  }
  const added: string[][] = [];
  let pcap: PcapFile | null = null;
  try {
    for (const { ours, peer } of config.addresses) {
      const max = ours.address.family === 4 ? 32 : 128;
      // A host prefix is a point-to-point link: the kernel reaches tcpts's
      // address through the device (`peer`), as for a PPP link.
      const args =
        ours.prefixLength === max
          ? ['addr', 'add', peer.text, 'peer', ours.address.text, 'dev', link.name]
          : ['addr', 'add', `${peer.text}/${ours.prefixLength}`, 'dev', link.name];
      // Duplicate address detection would keep the kernel's IPv6 address
      // tentative (unusable) for a second or more; on a link with two ends
      // that we both configure there is nobody to collide with.
      if (ours.address.family === 6) args.push('nodad');
      const removal = ['addr', 'del', ...args.slice(2, args.indexOf('dev')), 'dev', link.name];
      let r = runIp(netns, args);
      if (!r.ok && ADDRESS_THERE.test(r.output) && runIp(netns, removal).ok) {
        // The very address and prefix we add, left on a persistent device
        // by a run that could not clean up (kill -9): ours, so it is
        // replaced, and removed again when this run ends.
        r = runIp(netns, args);
      }
      if (r.ok) {
        added.push(removal);
      } else if (!ADDRESS_THERE.test(r.output)) {
        throw new SetupError(`giving the kernel ${peer.text} on ${link.name} failed: ${r.output}`);
      }
      // Else the address is there in another form (another prefix, or a
      // point-to-point peer) that someone else set up: it is used as it is
      // and left there.
    }
    let endpoint: LinkEndpoint = link;
    let impaired: ImpairedLink | null = null;
    if (config.impairment !== null) {
      impaired = impair(endpoint, config.impairment);
      endpoint = impaired;
    }
    if (config.pcap !== null) {
      try {
        pcap = new PcapFile(config.pcap);
      } catch (error) {
        throw new SetupError(`cannot write ${config.pcap}: ${sentence(error)}`);
      }
      endpoint = pcapTap(endpoint, {
        // realClock counts from performance.timeOrigin: this puts its instants on the calendar.
        epochMicros: Math.round(performance.timeOrigin * 1000),
        sink: pcap.sink,
      });
    }
    const driver = new RealDriver();
    const ifIndex = driver.attach(endpoint, {
      name: link.name,
      addresses: config.addresses.map((a) => `${a.ours.address.text}/${a.ours.prefixLength}`),
    });
    for (const { ours, peer } of config.addresses) {
      const max = ours.address.family === 4 ? 32 : 128;
      if (ours.prefixLength === max) driver.stack.addRoute(`${peer.text}/${max}`, { ifIndex });
      // The kernel is tcpts's way to everything else (it may route or NAT further).
      driver.stack.addRoute(ours.address.family === 4 ? '0.0.0.0/0' : '::/0', { via: peer.text });
    }
    link.onReadable(() => driver.wake());
    const device = link;
    const file = pcap;
    let closed = false;
    let watcher: ReturnType<typeof setInterval> | null = null;
    return {
      config,
      link: device,
      endpoint,
      driver,
      net: createNet(driver),
      created: !existed,
      describe() {
        const kind = config.kind === 'tap' ? 'TAP' : 'TUN';
        const ends = config.addresses
          .map(
            (a) => `tcpts ${a.ours.address.text}/${a.ours.prefixLength} <-> kernel ${a.peer.text}`,
          )
          .join(', ');
        const where = netns !== null ? ` (kernel side in netns ${netns})` : '';
        const impaired =
          config.impairment !== null ? `; impaired: ${describeImpairment(config.impairment)}` : '';
        const capture = config.pcap !== null ? `; capture: ${config.pcap}` : '';
        return `${device.name}: ${kind}, MTU ${config.mtu}, ${ends}${where}${impaired}${capture}`;
      },
      summary() {
        // The outermost endpoint's counters include those of what it wraps.
        const st = endpoint.stats();
        let text =
          `${device.name}: sent ${st.txFrames} frames (${st.txBytes} B), ` +
          `received ${st.rxFrames} frames (${st.rxBytes} B)`;
        if (st.txDropped + st.rxDropped > 0) {
          const reasons = Object.entries(st.drops)
            .filter(([, n]) => n > 0)
            .map(([reason, n]) => `${reason} ${n}`);
          text += `; dropped ${st.txDropped} outgoing, ${st.rxDropped} incoming (${reasons.join(', ')})`;
        }
        if (impaired !== null) {
          const { outgoing, incoming } = impaired.impairStats();
          text +=
            `; duplicated ${outgoing.duplicated} outgoing, ${incoming.duplicated} incoming` +
            `; reordered ${outgoing.reordered} outgoing, ${incoming.reordered} incoming`;
        }
        return text;
      },
      watch(onError) {
        if (watcher !== null || closed) return;
        watcher = setInterval(() => {
          if (device.error === null || watcher === null) return;
          clearInterval(watcher);
          watcher = null;
          onError(device.error);
        }, WATCH_MS);
      },
      settle(timeoutMs) {
        const until = performance.now() + timeoutMs;
        return new Promise((resolve) => {
          const look = (): void => {
            if (driver.refs === 0 || closed) resolve(true);
            else if (performance.now() >= until) resolve(false);
            else setTimeout(look, SETTLE_POLL_MS);
          };
          look();
        });
      },
      close() {
        if (closed) return;
        closed = true;
        if (watcher !== null) clearInterval(watcher);
        watcher = null;
        driver.close();
        device.onReadable(null);
        device.close();
        file?.close();
        if (existed) for (const args of added) runIp(netns, args);
      },
    };
  } catch (error) {
    link.close();
    pcap?.close();
    if (existed) for (const args of added) runIp(netns, args);
    if (error instanceof SetupError) throw error;
    throw new SetupError(sentence(error));
  }
}
