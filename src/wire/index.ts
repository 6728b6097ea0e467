/** wire/: parse and emit for every packet format tcpts speaks. Depends only on base/. */
export * from './checksum.js';
export * from './address.js';
export * from './drop.js';
export * from './tcp.js';
