/**
 * `tcpts gateway`: a user-mode NAT for a VM, a container or a namespace, in
 * the manner of slirp4netns and passt. It opens a TAP device (in the
 * guest's network namespace with --netns), serves DHCP, DNS and router
 * advertisements on it, and carries every TCP connection and UDP flow the
 * guest opens over ordinary host sockets. See src/gateway/.
 */
import type { NamedArgs } from './gateway-args.js';
import { GATEWAY_USAGE, parseGatewayArgs } from './gateway-args.js';
import type { CommandIo } from './args.js';
import { Gateway } from '../gateway/index.js';
import { missingPrerequisite, probeHost, type HostFacts } from './tun-setup.js';

export { GATEWAY_USAGE };

/** Test hooks of {@link runGateway}: where signals come from, and the host's facts. */
export interface GatewayHooks {
  signals?: NodeJS.EventEmitter;
  facts?: HostFacts;
}

/** Runs `tcpts gateway` until SIGINT or SIGTERM; resolves to the exit status. */
export async function runGateway(
  args: string[],
  io: CommandIo,
  hooks: GatewayHooks = {},
): Promise<number> {
  const parsed: NamedArgs | string = parseGatewayArgs(args, io);
  if (typeof parsed === 'string') {
    if (parsed === 'help') {
      io.out(GATEWAY_USAGE);
      return 0;
    }
    io.err(parsed);
    return 2;
  }
  const missing = missingPrerequisite(hooks.facts ?? probeHost(), parsed.options.netns !== null);
  if (missing !== null) {
    io.err(`tcpts gateway: ${missing}`);
    return 1;
  }
  let gateway: Gateway;
  try {
    gateway = new Gateway(parsed.options);
    await gateway.ready();
  } catch (error) {
    io.err(`tcpts gateway: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const a = gateway.addresses;
  const o = parsed.options;
  io.out(
    `tcpts gateway: ${gateway.link.name}` +
      (o.netns !== null ? ` (in netns ${o.netns})` : '') +
      `: gateway ${a.gateway4.text}, DNS ${a.dns4.text}` +
      (o.dnsUpstream !== null ? ` -> ${o.dnsUpstream.address}:${o.dnsUpstream.port}` : ' (off)') +
      `, guest ${a.guest4.text}/${a.network4.prefixLength}` +
      (o.ipv6 ? `, ${a.network6.address.text}/${a.network6.prefixLength} (RA)` : '') +
      (o.allowHostLoopback ? `; host loopback at ${a.gateway4.text}` : '') +
      o.forwards
        .map((f) => `; forward ${f.hostAddress}:${f.hostPort} -> guest:${f.guestPort}`)
        .join(''),
  );
  const signals = hooks.signals ?? process;
  const onUsr1 = (): void => io.out(`tcpts gateway: ${gateway.summary()}`);
  signals.on('SIGUSR1', onUsr1);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      signals.off('SIGINT', stop);
      signals.off('SIGTERM', stop);
      resolve();
    };
    signals.on('SIGINT', stop);
    signals.on('SIGTERM', stop);
  });
  signals.off('SIGUSR1', onUsr1);
  io.out(`tcpts gateway: ${gateway.summary()}`);
  gateway.close();
  return 0;
}
