/**
 * `tcpts demo`: TCP at work on the simulated network, no root needed. Two
 * hosts (client 10.0.0.1, server 10.0.0.2, or fd00::1 and fd00::2), one
 * link with a one-way delay (and loss if asked), one connection, and a
 * scenario for the applications at each end. Both ends of the link are
 * captured (pcapTap); every frame seen leaving one host and arriving at the
 * other becomes an arrow from the time it left to the time it arrived, and
 * each side's state after it is read from the connection's own record of
 * transitions, at the moment the stack sent or processed that frame. The
 * work is in {@link runDemo}, which returns data, and {@link demoLines},
 * which returns the terminal text, so tests need no build.
 */
export * from './options.js';
export { runDemo } from './run.js';
export * from './output.js';
export * from './command.js';
