/** udp/: UDP sockets (RFC 768) and their port table. Depends on base/ and wire/. */
export * from './socket.js';
