/**
 * The server side of the WebSocket protocol (RFC 6455), as much as a relay
 * of binary frames needs: the opening handshake over node:http's 'upgrade',
 * framing with masked client frames, fragmented messages, ping/pong and the
 * closing handshake. Text messages are refused with 1003 (the relay carries
 * frames, not text); extensions and subprotocols are not offered, so none is
 * in use (§4.2.2). Written here rather than taken from a package so that
 * tcpts keeps no runtime dependency.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** RFC 6455 §1.3: the GUID appended to the client's key for Sec-WebSocket-Accept. */
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Opcodes (RFC 6455 §5.2). */
const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** Close codes (RFC 6455 §7.4.1). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  TooBig: 1009,
} as const;

/** The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key (RFC 6455 §4.2.2 step 5.4). */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + HANDSHAKE_GUID)
    .digest('base64');
}

/** Options of a {@link WebSocketServer}. */
export interface WebSocketServerOptions {
  /** TCP port (0: the kernel picks one; see `port` once listening). */
  port: number;
  /** Address to listen on (default 127.0.0.1: a relay is for this machine unless asked). */
  host?: string;
  /** Largest message accepted; longer ones close the connection with 1009. Default 1 MiB. */
  maxMessageBytes?: number;
}

/** One client connection: binary messages in, binary messages out. */
export class WebSocketPeer {
  /** Called with each binary message (its bytes are the callee's to keep). */
  onMessage: (data: Uint8Array) => void = () => {};
  /** Called once when the connection is gone, with the close code. */
  onClose: (code: number) => void = () => {};
  /** "address:port" of the client. */
  readonly remote: string;
  private readonly socket: Socket;
  private readonly maxMessage: number;
  private pending: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private fragmentOpcode = -1;
  private closeSent = false;
  private closed = false;

  /** @internal made by the server after the handshake. */
  constructor(socket: Socket, head: Buffer, maxMessage: number) {
    this.socket = socket;
    this.maxMessage = maxMessage;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.gone(CloseCode.GoingAway));
    socket.on('error', () => socket.destroy());
    if (head.length > 0) queueMicrotask(() => this.receive(head));
  }

  /** Bytes written and not yet handed to the kernel (as a browser's `bufferedAmount`). */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  /** Sends one binary message (a single unmasked frame: servers never mask, §5.1). */
  send(data: Uint8Array): void {
    if (this.closeSent || this.closed) return;
    this.writeFrame(Opcode.Binary, data);
  }

  /** Starts the closing handshake (§7.1.2); the TCP connection ends when the client answers. */
  close(code: number = CloseCode.Normal, reason = ''): void {
    if (this.closeSent || this.closed) return;
    this.closeSent = true;
    const text = Buffer.from(reason.slice(0, 100));
    const body = Buffer.alloc(2 + text.length);
    body.writeUInt16BE(code, 0);
    text.copy(body, 2);
    this.writeFrame(Opcode.Close, body);
    // A client that never answers does not keep the connection: §7.1.1 lets
    // the server end TCP once it has sent its Close frame.
    this.socket.end();
  }

  private writeFrame(opcode: number, payload: Uint8Array): void {
    const length = payload.length;
    let header: Buffer;
    if (length < 126) {
      header = Buffer.from([0x80 | opcode, length]);
    } else if (length < 0x10000) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 126;
      header.writeUInt16BE(length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(length), 2);
    }
    this.socket.cork();
    this.socket.write(header);
    this.socket.write(payload);
    this.socket.uncork();
  }

  private receive(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (!this.closed) {
      const consumed = this.parseFrame(this.pending);
      if (consumed === 0) break;
      this.pending = this.pending.subarray(consumed);
    }
  }

  /** Handles one whole frame at the start of `buf`; returns its length, or 0 if it is not all there. */
  private parseFrame(buf: Buffer): number {
    if (buf.length < 2) return 0;
    const fin = (buf[0]! & 0x80) !== 0;
    const reserved = buf[0]! & 0x70;
    const opcode = buf[0]! & 0x0f;
    const masked = (buf[1]! & 0x80) !== 0;
    let length = buf[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buf.length < 4) return 0;
      length = buf.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buf.length < 10) return 0;
      const big = buf.readBigUInt64BE(2);
      if (big > BigInt(this.maxMessage)) return this.fail(CloseCode.TooBig, 'message too big');
      length = Number(big);
      offset = 10;
    }
    // §5.2: RSV bits without a negotiated extension, and §5.1: unmasked client frames, are errors.
    if (reserved !== 0) return this.fail(CloseCode.ProtocolError, 'reserved bits set');
    if (!masked) return this.fail(CloseCode.ProtocolError, 'client frames must be masked');
    if (length > this.maxMessage) return this.fail(CloseCode.TooBig, 'message too big');
    if (buf.length < offset + 4 + length) return 0;
    const mask = buf.subarray(offset, offset + 4);
    const payload = Buffer.allocUnsafe(length);
    const start = offset + 4;
    for (let i = 0; i < length; i++) payload[i] = buf[start + i]! ^ mask[i & 3]!;
    this.handleFrame(fin, opcode, payload);
    return start + length;
  }

  private handleFrame(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode >= 0x8) {
      // §5.5: control frames are never fragmented and carry at most 125 bytes.
      if (!fin || payload.length > 125) {
        this.fail(CloseCode.ProtocolError, 'bad control frame');
        return;
      }
      if (opcode === Opcode.Ping) this.writeFrame(Opcode.Pong, payload);
      else if (opcode === Opcode.Close) {
        // §5.5.1: answer a Close with a Close (echoing the code), then end.
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : CloseCode.Normal;
        this.close(code === 1005 || code === 1006 ? CloseCode.Normal : code);
        this.gone(code);
      } else if (opcode !== Opcode.Pong) this.fail(CloseCode.ProtocolError, 'unknown opcode');
      return;
    }
    if (opcode === Opcode.Continuation) {
      if (this.fragmentOpcode < 0) {
        this.fail(CloseCode.ProtocolError, 'continuation without a message');
        return;
      }
    } else if (opcode === Opcode.Text || opcode === Opcode.Binary) {
      if (this.fragmentOpcode >= 0) {
        this.fail(CloseCode.ProtocolError, 'new message inside a fragmented one');
        return;
      }
      this.fragmentOpcode = opcode;
    } else {
      this.fail(CloseCode.ProtocolError, 'unknown opcode');
      return;
    }
    this.fragmentBytes += payload.length;
    if (this.fragmentBytes > this.maxMessage) {
      this.fail(CloseCode.TooBig, 'message too big');
      return;
    }
    this.fragments.push(payload);
    if (!fin) return;
    const message =
      this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments);
    const kind = this.fragmentOpcode;
    this.fragments = [];
    this.fragmentBytes = 0;
    this.fragmentOpcode = -1;
    if (kind === Opcode.Text) {
      this.fail(CloseCode.UnsupportedData, 'binary messages only');
      return;
    }
    this.onMessage(new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
  }

  private fail(code: number, reason: string): number {
    this.close(code, reason);
    this.gone(code);
    return 0;
  }

  private gone(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(code);
  }
}

/** A listening WebSocket server; each client that completes the handshake is a {@link WebSocketPeer}. */
export class WebSocketServer {
  /** Called with each new client. */
  onConnection: (peer: WebSocketPeer, request: IncomingMessage) => void = () => {};
  private readonly http: Server;
  private readonly peers = new Set<WebSocketPeer>();
  private readonly maxMessage: number;

  private constructor(http: Server, maxMessage: number) {
    this.http = http;
    this.maxMessage = maxMessage;
    http.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
      res.end('tcpts relay: connect with a WebSocket (binary messages, one Ethernet frame each)\n');
    });
    http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
  }

  /** Listens; resolves once the port is open. */
  static listen(options: WebSocketServerOptions): Promise<WebSocketServer> {
    const http = createServer();
    const server = new WebSocketServer(http, options.maxMessageBytes ?? 1024 * 1024);
    return new Promise((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port, options.host ?? '127.0.0.1', () => {
        http.off('error', reject);
        resolve(server);
      });
    });
  }

  /** The port listened on. */
  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** Clients connected now. */
  get clients(): number {
    return this.peers.size;
  }

  /** Stops listening and closes every client (1001, going away). */
  close(): Promise<void> {
    for (const peer of this.peers) peer.close(CloseCode.GoingAway, 'relay closing');
    return new Promise((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  /** RFC 6455 §4.2.1-4.2.2: check the client's opening handshake and answer 101. */
  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const key = req.headers['sec-websocket-key'];
    const upgrade = req.headers.upgrade?.toLowerCase();
    const version = req.headers['sec-websocket-version'];
    if (req.method !== 'GET' || upgrade !== 'websocket' || typeof key !== 'string') {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    // §4.4: tell a client of another version which one we speak.
    if (version !== '13') {
      socket.end(
        'HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nConnection: close\r\n\r\n',
      );
      return;
    }
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
    );
    const peer = new WebSocketPeer(socket, head, this.maxMessage);
    this.peers.add(peer);
    const previous = peer.onClose;
    peer.onClose = (code) => {
      this.peers.delete(peer);
      previous(code);
    };
    this.onConnection(peer, req);
  }
}
