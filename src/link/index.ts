/** link/: what carries packets between a stack and the world. Depends only on base/ and wire/. */
export * from './pcap.js';
export * from './pcapng.js';
export * from './capture-file.js';
export * from './link.js';
export * from './memory.js';
export * from './impair.js';
export * from './tap.js';
