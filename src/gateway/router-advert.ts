/**
 * Router advertisements for the guest's IPv6 (RFC 4861 §6.2, RFC 4862): the
 * gateway announces itself as the default router and the guest prefix as
 * on-link and autonomous, so the guest configures an address by SLAAC. The
 * stack answers neighbour discovery itself; it sends no advertisements, so
 * the gateway puts these on the link directly: a few at start (§6.2.4, the
 * first ones close together) and then one every {@link ADVERT_INTERVAL_MS}.
 */
import {
  EtherType,
  ETHERNET_HEADER_LENGTH,
  IPV6_HEADER_LENGTH,
  Icmpv6Type,
  IpProtocol,
  PrefixInfoFlags,
  emitEthernet,
  emitIcmpv6,
  emitIpv6,
  icmpv6Length,
  type MacAddress,
  type NdpRouterAdvertisementRepr,
} from '../wire/index.js';
import type { IpAddr } from '../stack/index.js';

/** RFC 4861 §6.2.1: MaxRtrAdvInterval may be 4 to 1800 s; a guest that starts late waits at most this. */
export const ADVERT_INTERVAL_MS = 10_000;
/** §6.2.4: the first few advertisements (MAX_INITIAL_RTR_ADVERTISEMENTS is 3), a second apart. */
export const INITIAL_ADVERTS = 3;
/** §6.2.1: AdvDefaultLifetime, 3 x MaxRtrAdvInterval. */
const ROUTER_LIFETIME_S = 30;
/** Lifetimes of the prefix, seconds (§6.2.1 defaults: 30 days valid, 7 days preferred). */
const VALID_LIFETIME_S = 2_592_000;
const PREFERRED_LIFETIME_S = 604_800;
/** The all-nodes group ff02::1 and its MAC 33:33:00:00:00:01 (RFC 2464 §7). */
const ALL_NODES = Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
const ALL_NODES_MAC: MacAddress = Uint8Array.of(0x33, 0x33, 0, 0, 0, 1);

/** One router advertisement as an Ethernet frame, from `linkLocal` (§4.2: the source is link-local). */
export function routerAdvertFrame(options: {
  mac: MacAddress;
  linkLocal: IpAddr;
  prefix: IpAddr;
  prefixLength: number;
  mtu: number;
}): Uint8Array {
  const ra: NdpRouterAdvertisementRepr = {
    type: Icmpv6Type.RouterAdvertisement,
    hopLimit: 64,
    flags: 0,
    routerLifetime: ROUTER_LIFETIME_S,
    reachableTime: 0,
    retransTimer: 0,
    sourceLinkLayer: options.mac,
    mtu: options.mtu,
    prefixes: [
      {
        prefixLength: options.prefixLength,
        flags: PrefixInfoFlags.OnLink | PrefixInfoFlags.Autonomous,
        validLifetime: VALID_LIFETIME_S,
        preferredLifetime: PREFERRED_LIFETIME_S,
        prefix: options.prefix.v6,
      },
    ],
  };
  const icmp = new Uint8Array(icmpv6Length(ra));
  emitIcmpv6(ra, options.linkLocal.v6, ALL_NODES, icmp);
  const packet = new Uint8Array(IPV6_HEADER_LENGTH + icmp.length);
  emitIpv6(
    {
      src: options.linkLocal.v6,
      dst: ALL_NODES,
      // §6.1.2: a receiver drops an RA whose hop limit is not 255.
      hopLimit: 255,
      dscp: 0,
      ecn: 0,
      flowLabel: 0,
      protocol: IpProtocol.Icmpv6,
      headerLength: IPV6_HEADER_LENGTH,
      fragment: null,
      payload: icmp,
    },
    packet,
  );
  const frame = new Uint8Array(ETHERNET_HEADER_LENGTH + packet.length);
  emitEthernet(
    { dst: ALL_NODES_MAC, src: options.mac, ethertype: EtherType.Ipv6, payload: packet },
    frame,
  );
  return frame;
}
