/** stack/: one host — interfaces, routes, ARP/NDP, IPv4/IPv6, ICMP, TCP and UDP demultiplexing. */
export * from './address.js';
export * from './drop.js';
export * from './sockets.js';
export * from './stack.js';
export * from './neighbor.js';
export * from './reassembly.js';
export * from './ports.js';
