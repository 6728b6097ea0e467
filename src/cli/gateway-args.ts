/** The options of `tcpts gateway`, parsed into {@link GatewayOptions}. */
import {
  GATEWAY_DEFAULTS,
  parseCidrOrThrow,
  parseDnsUpstream,
  systemDnsUpstream,
  type GatewayOptions,
  type PortForward,
} from '../gateway/index.js';
import { parseCommandArgs, positiveInteger, type CommandIo, type OptionSpec } from './args.js';

/** `tcpts gateway --help`. */
export const GATEWAY_USAGE = `Usage: tcpts gateway --tap NAME [--netns NS] [options]

A user-mode NAT for a VM, a container or a network namespace, as slirp4netns
and passt: tcpts opens a TAP device (in namespace NS with --netns), and the
guest on its other end gets DHCP, DNS, IPv6 router advertisements, and every
TCP connection and UDP flow it opens carried over this host's own sockets.
Needs root (CAP_NET_ADMIN; CAP_SYS_ADMIN too for --netns) and /dev/net/tun.

Device:
  --tap NAME              the TAP device (created if it does not exist)
  --netns NS              put it in this network namespace (ip netns add NS first)
  --mtu N                 the device's MTU (default ${GATEWAY_DEFAULTS.mtu})
  --mac MAC               the gateway's MAC (default ${GATEWAY_DEFAULTS.mac})

Addresses (slirp4netns's by default):
  --network CIDR          the guest network (default ${GATEWAY_DEFAULTS.network4})
  --gateway ADDR          the gateway (default ${GATEWAY_DEFAULTS.gateway4})
  --dns ADDR              the DNS forwarder (default ${GATEWAY_DEFAULTS.dns4})
  --guest ADDR            the address DHCP hands out (default ${GATEWAY_DEFAULTS.guest4})
  --network6 CIDR         the IPv6 prefix, announced for SLAAC (default ${GATEWAY_DEFAULTS.network6})
  --gateway6 ADDR         (default ${GATEWAY_DEFAULTS.gateway6})
  --dns6 ADDR             (default ${GATEWAY_DEFAULTS.dns6})
  --no-ipv6               serve IPv4 only

Reachability:
  --allow-host-loopback   let the guest reach this host's loopback: connections
                          to the gateway's address go to 127.0.0.1 / ::1
  --allow CIDR            reach this prefix (repeatable; with any --allow, what no
                          rule matches is denied); the most specific rule wins
  --deny CIDR             do not reach this prefix (repeatable): TCP gets a RST,
                          UDP an ICMP port unreachable; counted
Services:
  --dns-upstream ADDR[:PORT]  where DNS queries go, forwarded as they are
                          (default: the first nameserver of /etc/resolv.conf)
  --forward tcp:HOSTPORT:GUESTPORT
                          listen on 127.0.0.1:HOSTPORT and connect each client to the
                          guest's GUESTPORT (repeatable; tcp:ADDR:HOSTPORT:GUESTPORT
                          binds another host address)
Limits:
  --max-flows N           TCP flows at once (default ${GATEWAY_DEFAULTS.maxTcpFlows}); more are refused (RST)
  --max-udp-flows N       UDP flows at once (default ${GATEWAY_DEFAULTS.maxUdpFlows})
  --flow-buffer BYTES     each direction of a flow buffers at most this (default ${GATEWAY_DEFAULTS.flowBuffer})
  --max-memory BYTES      buffered over all flows before new ones are refused
                          (default ${GATEWAY_DEFAULTS.maxMemory})

  -v, --verbose           one line per flow (opened; closed, with bytes each way)
  -h, --help              show this help

Counters print on SIGUSR1 and at exit (SIGINT, SIGTERM).

Example (a namespace as the guest):
  sudo ip netns add guest
  sudo tcpts gateway --tap tap0 --netns guest &
  sudo ip netns exec guest udhcpc -i tap0 -f -q
  sudo ip netns exec guest curl https://example.org/

Exit status: 0 after a clean stop, 1 when the device cannot be set up, 2 for
bad usage.`;

/** An option that may repeat (node:util's parseArgs takes `multiple` as it is). */
interface RepeatableSpec extends OptionSpec {
  multiple?: boolean;
}

const OPTIONS: Record<string, RepeatableSpec> = {
  tap: { type: 'string' },
  netns: { type: 'string' },
  mtu: { type: 'string' },
  mac: { type: 'string' },
  network: { type: 'string' },
  gateway: { type: 'string' },
  dns: { type: 'string' },
  guest: { type: 'string' },
  network6: { type: 'string' },
  gateway6: { type: 'string' },
  dns6: { type: 'string' },
  'no-ipv6': { type: 'boolean' },
  'allow-host-loopback': { type: 'boolean' },
  allow: { type: 'string', multiple: true },
  deny: { type: 'string', multiple: true },
  'dns-upstream': { type: 'string' },
  forward: { type: 'string', multiple: true },
  'max-flows': { type: 'string' },
  'max-udp-flows': { type: 'string' },
  'flow-buffer': { type: 'string' },
  'max-memory': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
};

/** Parsed `tcpts gateway` arguments. */
export interface NamedArgs {
  options: GatewayOptions;
}

type Values = Record<string, string | boolean | string[] | undefined>;

function list(value: string | boolean | string[] | undefined): string[] {
  if (value === undefined || typeof value === 'boolean') return [];
  return typeof value === 'string' ? [value] : value;
}

/** Parses `tcp:HOSTPORT:GUESTPORT` or `tcp:ADDR:HOSTPORT:GUESTPORT`. */
export function parseForward(text: string): PortForward {
  const parts = text.split(':');
  const port = (p: string | undefined): number =>
    p !== undefined && /^\d+$/.test(p) && Number(p) >= 1 && Number(p) <= 65535 ? Number(p) : -1;
  if (parts[0] === 'tcp' && (parts.length === 3 || parts.length === 4)) {
    const hostAddress = parts.length === 4 ? parts[1]! : '127.0.0.1';
    const hostPort = port(parts[parts.length - 2]);
    const guestPort = port(parts[parts.length - 1]);
    if (hostPort > 0 && guestPort > 0) return { protocol: 'tcp', hostAddress, hostPort, guestPort };
  }
  throw new RangeError(`--forward takes tcp:HOSTPORT:GUESTPORT (e.g. tcp:8080:80), got '${text}'`);
}

/**
 * Parses the arguments: the options, 'help' for -h, or a one-line usage
 * error. `io` takes the flow log of -v.
 */
export function parseGatewayArgs(args: string[], io: CommandIo): NamedArgs | string {
  const parsed = parseCommandArgs('gateway', args, OPTIONS);
  if (typeof parsed === 'string') return parsed;
  const v = parsed.values as Values;
  if (v.help === true) return 'help';
  if (parsed.positionals.length > 0)
    return `tcpts gateway: unexpected argument '${parsed.positionals[0]}' (see 'tcpts gateway --help')`;
  if (typeof v.tap !== 'string')
    return "tcpts gateway: --tap NAME is required (see 'tcpts gateway --help')";
  const str = (name: string, fallback: string): string =>
    typeof v[name] === 'string' ? (v[name] as string) : fallback;
  const int = (name: string, fallback: number): number | string =>
    typeof v[name] === 'string' ? positiveInteger('gateway', name, v[name] as string) : fallback;
  const numbers: Record<string, number> = {};
  for (const [name, fallback] of [
    ['mtu', GATEWAY_DEFAULTS.mtu],
    ['max-flows', GATEWAY_DEFAULTS.maxTcpFlows],
    ['max-udp-flows', GATEWAY_DEFAULTS.maxUdpFlows],
    ['flow-buffer', GATEWAY_DEFAULTS.flowBuffer],
    ['max-memory', GATEWAY_DEFAULTS.maxMemory],
  ] as const) {
    const n = int(name, fallback);
    if (typeof n === 'string') return n;
    numbers[name] = n;
  }
  if (numbers.mtu! < 576 || numbers.mtu! > 65535)
    return `tcpts gateway: --mtu takes 576..65535, got ${numbers.mtu}`;
  try {
    for (const text of [...list(v.allow), ...list(v.deny)])
      parseCidrOrThrow(text, '--allow/--deny');
    const forwards = list(v.forward).map(parseForward);
    const upstream =
      typeof v['dns-upstream'] === 'string'
        ? parseDnsUpstream(v['dns-upstream'])
        : systemDnsUpstream();
    const verbose = v.verbose === true;
    return {
      options: {
        tap: v.tap,
        netns: typeof v.netns === 'string' ? v.netns : null,
        mtu: numbers.mtu!,
        mac: str('mac', GATEWAY_DEFAULTS.mac),
        network4: str('network', GATEWAY_DEFAULTS.network4),
        gateway4: str('gateway', GATEWAY_DEFAULTS.gateway4),
        dns4: str('dns', GATEWAY_DEFAULTS.dns4),
        guest4: str('guest', GATEWAY_DEFAULTS.guest4),
        network6: str('network6', GATEWAY_DEFAULTS.network6),
        gateway6: str('gateway6', GATEWAY_DEFAULTS.gateway6),
        dns6: str('dns6', GATEWAY_DEFAULTS.dns6),
        ipv6: v['no-ipv6'] !== true,
        allowHostLoopback: v['allow-host-loopback'] === true,
        allow: list(v.allow),
        deny: list(v.deny),
        dnsUpstream: upstream,
        forwards,
        maxTcpFlows: numbers['max-flows']!,
        maxUdpFlows: numbers['max-udp-flows']!,
        flowBuffer: numbers['flow-buffer']!,
        maxMemory: numbers['max-memory']!,
        udpIdleMs: GATEWAY_DEFAULTS.udpIdleMs,
        leaseTime: GATEWAY_DEFAULTS.leaseTime,
        log: verbose ? (line) => io.out(line) : null,
      },
    };
  } catch (error) {
    return `tcpts gateway: ${error instanceof Error ? error.message : String(error)}`;
  }
}
