/** stack/: one host — interfaces, routes, ARP/NDP, IPv4/IPv6, ICMP, TCP and UDP demultiplexing. */
export * from './address.js';
export * from './drop.js';
export * from './sockets.js';
export * from './stack.js';
export {
  DEFAULT_NEIGHBOR_CONFIG,
  NeighborCache,
  NeighborState,
  type NeighborConfig,
  type QueuedPacket,
} from './neighbor.js';
export * from './reassembly.js';
export { EPHEMERAL_PORT_HIGH, EPHEMERAL_PORT_LOW, PortAllocator } from './ports.js';
