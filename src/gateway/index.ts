/** gateway/: a user-mode NAT for VMs and containers (as slirp4netns, passt) on a transparent stack. Host APIs allowed. */
export * from './counters.js';
export * from './dhcp-wire.js';
export * from './dns-wire.js';
export {
  DnsForwarder,
  parseDnsUpstream,
  systemDnsUpstream,
  type DnsUpstream,
} from './dns-forwarder.js';
export { DhcpServer, type DhcpServerOptions } from './dhcp-server.js';
export * from './gateway.js';
export * from './policy.js';
export { routerAdvertFrame } from './router-advert.js';
export { TcpNat, type FlowLog, type TcpNatLimits } from './tcp-nat.js';
export { UdpNat, type UdpNatLimits } from './udp-nat.js';
