/**
 * A run's settings: what the command line asks for (RunOptions) and what a
 * script's option lines (`--mtu=`, `--ip_version=`, `--tolerance_usecs=` ...)
 * and profile say, resolved once into the Settings the interpreter runs with.
 */
import { formatIpv6Address, parseIpv4Address, parseIpv6Address } from '../wire/index.js';
import { PROFILES, type Profile } from './profiles.js';
import type { Script } from './script.js';

/** How to run a script (the command line's options). */
export interface RunOptions {
  /** Profile name when the script does not say (`--profile=`); default `linux`. */
  profile?: string;
  /** Exact timing: no tolerance at all. */
  strict?: boolean;
  /** Let consecutive equal-size segments match one larger expected line (default true; --strict_segments turns it off). */
  coalesce?: boolean;
  /** `-D NAME=value` definitions. */
  defines?: ReadonlyMap<string, string>;
  /** Seed of the stack's random numbers (ISNs, timestamp offsets, ports). */
  seed?: number;
  /** Receives one line per packet both ways and per system call. */
  verbose?: ((line: string) => void) | null;
  /** `--name=value` options given on the command line, as packetdrill takes them (the script's own option lines win). */
  scriptOptions?: ReadonlyMap<string, string>;
  /** `--sysctl NAME=VALUE` settings applied before the script's first line. */
  sysctls?: ReadonlyMap<string, string>;
  /**
   * Reads a file a shell line runs (`../common/defaults.sh`), by the path as
   * written, relative to the script's directory; null when it cannot. Without
   * it such lines make the script skip.
   */
  readFile?: ((path: string) => string | null) | null;
  /**
   * What happens to packets the stack sent that no `>` line took:
   * 'packetdrill' (default) as packetdrill, which never looks at them unless
   * a later `>` line meets one; 'strict' fails on one sent before an
   * inbound line, a call, or the end of the script (our own scripts run so).
   */
  unexpectedPackets?: 'packetdrill' | 'strict';
}

/** The `--name=value` options a script (or the command line) may give. */
export const SCRIPT_OPTIONS: ReadonlySet<string> = new Set([
  'ip_version',
  'local_ip',
  'remote_ip',
  'gateway_ip',
  'netmask_ip',
  'bind_port',
  'connect_port',
  'tolerance_usecs',
  'tolerance_percent',
  'mtu',
  'mss',
  'strict_segments',
  'tcp_ts_tick_usecs',
  'tcp_ts_ecr_scaled',
  'profile',
  'verbose',
]);

/** The smallest MSS a tcpts connection takes (TcpConfig.mss). */
const MIN_MSS = 64;

/** packetdrill's default addresses (its own test runners use these). */
export const DEFAULT_ADDRESSES = {
  ipv4: { local: '192.168.0.1', remote: '192.0.2.1' },
  ipv6: { local: 'fd3d:a0b:17d6::1', remote: 'fd3d:fa7b:d17d::1' },
} as const;

/** The resolved settings of one run. */
export interface Settings {
  family: 4 | 6;
  localAddress: string;
  remoteAddress: string;
  bindPort: number;
  connectPort: number;
  toleranceUsecs: number;
  tolerancePercent: number;
  coalesce: boolean;
  mtu: number;
  tsTickUsecs: number;
  tsEcrScaled: boolean;
  profile: Profile;
}

/** The settings for `script` run with `options`, or why the script cannot run (a skip reason). */
export function resolveSettings(script: Script, options: RunOptions): Settings | string {
  const o = new Map([...(options.scriptOptions ?? []), ...script.options]);
  const known = SCRIPT_OPTIONS;
  for (const name of o.keys()) if (!known.has(name)) return `option --${name} is not supported`;
  const version = o.get('ip_version') ?? 'ipv4';
  if (version !== 'ipv4' && version !== 'ipv6')
    return `--ip_version=${version} is not supported (ipv4 or ipv6)`;
  const family = version === 'ipv4' ? 4 : 6;
  const defaults = family === 4 ? DEFAULT_ADDRESSES.ipv4 : DEFAULT_ADDRESSES.ipv6;
  const profileName = o.get('profile') ?? options.profile ?? 'linux';
  const profile = PROFILES[profileName];
  if (profile === undefined)
    return `profile '${profileName}' is not defined (known: ${Object.keys(PROFILES).join(', ')})`;
  const num = (name: string, fallback: number): number => {
    const v = o.get(name);
    return v === undefined || v === '' ? fallback : Number(v);
  };
  const strict = options.strict === true;
  const settings: Settings = {
    family,
    localAddress: o.get('local_ip') ?? defaults.local,
    remoteAddress: o.get('remote_ip') ?? defaults.remote,
    bindPort: num('bind_port', 8080),
    connectPort: num('connect_port', 8080),
    toleranceUsecs: strict ? 0 : num('tolerance_usecs', 4000),
    tolerancePercent: strict ? 0 : num('tolerance_percent', 12.5),
    coalesce: options.coalesce ?? !o.has('strict_segments'),
    mtu: num('mtu', 1500),
    tsTickUsecs: num('tcp_ts_tick_usecs', 0),
    tsEcrScaled: o.has('tcp_ts_ecr_scaled'),
    profile,
  };
  for (const [k, v] of Object.entries(settings)) {
    if (typeof v === 'number' && !Number.isFinite(v)) return `bad value for an option (${k})`;
  }
  // The stack sizes the MSS as MTU - IP header - 20, and a TCP MSS below 64
  // is refused (TcpConfig.mss); Linux would clamp the MSS it advertises up to
  // ip_rt_min_advmss (256) instead, which the stack cannot, so say so.
  const minimumMtu = MIN_MSS + (family === 4 ? 20 : 40) + 20;
  if (!Number.isInteger(settings.mtu) || settings.mtu > 65535)
    return `--mtu=${settings.mtu} is not an MTU (an integer up to 65535)`;
  if (settings.mtu < minimumMtu)
    return `--mtu=${settings.mtu} gives an MSS of ${settings.mtu - minimumMtu + MIN_MSS}, and tcpts needs an MSS of at least ${MIN_MSS} (MTU ${minimumMtu} for IPv${family}); Linux would clamp the MSS it advertises up to 256`;
  const parse = family === 4 ? parseIpv4Address : parseIpv6Address;
  if (parse(settings.localAddress) === null || parse(settings.remoteAddress) === null)
    return `bad --local_ip or --remote_ip for IPv${family}`;
  if (family === 6) {
    // One spelling per address (fd3d:0a0b:: is fd3d:a0b::), as packets print them.
    settings.localAddress = formatIpv6Address(parseIpv6Address(settings.localAddress)!);
    settings.remoteAddress = formatIpv6Address(parseIpv6Address(settings.remoteAddress)!);
  }
  return settings;
}
