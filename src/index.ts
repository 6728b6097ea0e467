/**
 * tcpts: a userspace TCP/IP stack in TypeScript.
 *
 * The core is sans-IO (base, wire, tcp, stack): feed it frames and time, poll
 * it for frames, events and its next deadline. The simulator (sim) runs many
 * stacks in virtual time; links (link) carry frames; the drivers (runtime)
 * run a stack on a real or virtual clock; web sockets made of web streams
 * live in web/.
 *
 * Everything exported here runs on any JavaScript host (Node, a browser
 * page, a Worker): no node: import is reachable from this file. The
 * node:net-compatible sockets are Node's alone and stay at `tcpts/net`, and
 * the TUN/TAP links at `tcpts/link/node`.
 */
export * as base from './base/index.js';
export * as wire from './wire/index.js';
export * as tcp from './tcp/index.js';
export * as udp from './udp/index.js';
export * as link from './link/index.js';
export * as stack from './stack/index.js';
export * as sim from './sim/index.js';
export {
  Stack,
  IpAddr,
  type StackOptions,
  type InterfaceOptions,
  type StackEvent,
} from './stack/index.js';
export { Network, type SimHost } from './sim/index.js';
export { Connection, tcpConfig, linuxProfile, type TcpConfig } from './tcp/index.js';
export { memoryPair, impair, pcapTap } from './link/index.js';
export * as runtime from './runtime/index.js';
export { RealDriver, VirtualLoop, joinDrivers } from './runtime/index.js';
