/**
 * tcpts: a userspace TCP/IP stack in TypeScript.
 *
 * The core is sans-IO (base, wire, tcp, stack): feed it frames and time, poll
 * it for frames, events and its next deadline. The simulator (sim) runs many
 * stacks in virtual time; links (link) carry frames; the node:net-compatible
 * sockets and the real-clock driver live in net/ and runtime/.
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
export * as net from './net/index.js';
export { createNet } from './net/index.js';
export { RealDriver, VirtualLoop, joinDrivers } from './runtime/index.js';
