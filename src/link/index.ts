/** link/: what carries packets between a stack and the world. Depends only on base/ and wire/. */
export * from './pcap.js';
export * from './link.js';
export * from './memory.js';
export * from './impair.js';
export * from './tap.js';
export * from './observe.js';
export * from './hold.js';
export * from './pushed.js';
export * from './frame-stream.js';
export * from './message-port.js';
export * from './websocket.js';
