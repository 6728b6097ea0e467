/** wire/: parse and emit for every packet format tcpts speaks. Depends only on base/. */
export * from './checksum.js';
export * from './address.js';
export * from './drop.js';
export * from './tcp.js';
export * from './tcp-option-cursor.js';
export * from './tcp-packet.js';
export * from './ethernet.js';
export * from './arp.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './icmpv4.js';
export * from './icmpv6.js';
export * from './udp.js';
