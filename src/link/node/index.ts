/**
 * link/node/: links backed by host devices (TUN/TAP on Linux, through the
 * addon of the optional package @tcpts/tuntap, packages/tuntap/). Above the
 * sans-IO line: Node APIs are allowed here.
 */
export * from './tuntap.js';
export { setTuntapAddonPath, TUNTAP_ADDON_ENV, tuntapAvailability } from './addon.js';
