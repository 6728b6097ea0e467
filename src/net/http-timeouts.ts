/**
 * Node's HTTP request timeouts for an `http.Server` that is handed
 * connections with `emit('connection', socket)` instead of listening.
 *
 * Node enforces `headersTimeout` and `requestTimeout` from a periodic check
 * over the server's list of connections (every `connectionsCheckingInterval`
 * ms), and that list and its timer are only set up when the server emits
 * 'listening'. A server fed tcpts sockets never listens, so without this a
 * client that sends half a header and trickles the rest (slowloris) holds
 * its connection for ever. `keepAliveTimeout` needs nothing here: Node arms
 * it with `socket.setTimeout()`, which tcpts sockets implement.
 */
import type { Server as HttpServer } from 'node:http';

/** The name of the 'listening' listener Node's http.Server installs in its constructor. */
const NODE_TRACKING_LISTENER = 'setupConnectionsTracking';

/**
 * Starts Node's own connection checker on `server` (a node:http Server that
 * will not `listen()`), so that `headersTimeout` and `requestTimeout` apply
 * to the connections it is given, checked every
 * `server.connectionsCheckingInterval` ms (set that option at
 * `http.createServer` for a finer check than Node's 30 s). The checker stops
 * with `server.close()`. Call it once, before the first connection: the
 * connections given before are not tracked.
 *
 * Only Node's tracking listener is run, so the server's other 'listening'
 * listeners do not hear of a listen that never happened; a Node without
 * that listener gets a 'listening' event instead, which starts the same.
 */
export function startHttpTimeouts(server: HttpServer): void {
  if (server.listening) return;
  const tracking = server
    .listeners('listening')
    .find((listener) => listener.name === NODE_TRACKING_LISTENER);
  if (tracking !== undefined) tracking.call(server);
  else server.emit('listening');
}
