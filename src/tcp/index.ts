/** tcp/: the TCP connection (RFC 9293) and its parts. Depends on base/ and wire/. */
export * from './config.js';
export * from './types.js';
export * from './connection.js';
export * from './receive.js';
export * from './rtt.js';
export * from './isn.js';
export * from './congestion/index.js';
export * from './recorder.js';
export * from './accept.js';
export * from './fastopen-cookie.js';
