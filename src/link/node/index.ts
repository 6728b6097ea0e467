/**
 * link/node/: links backed by host devices (TUN/TAP on Linux, through the
 * addon in native/). Above the sans-IO line: Node APIs are allowed here.
 */
export * from './tuntap.js';
export { tuntapAvailability } from './addon.js';
