// Checksum offload (InterfaceOptions.checksumOffload, LinkEndpoint.checksumOffload):
// on such an interface TCP segments leave with 0 in the checksum field and
// arrive unverified, as on Linux's loopback; everywhere else a bad checksum
// is still dropped and counted, never thrown on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng, instant, millis, randomBytes } from '../../src/base/index.js';
import { impair, memoryPair, pcapTap, type LinkEndpoint } from '../../src/link/index.js';
import { Network } from '../../src/sim/index.js';
import { Stack, type TcpSocket } from '../../src/stack/index.js';
import { TcpState } from '../../src/tcp/index.js';
import { IpProtocol, checksumAdd, checksumFold, pseudoHeaderSumV4 } from '../../src/wire/index.js';
import { readAll } from './sim-helpers.js';

const IP_HEADER = 20;
/** Offset of the checksum in a TCP header (RFC 9293 §3.1). */
const TCP_CHECKSUM = 16;
const T0 = instant(millis(1));

/** A stack on one bare-IP interface at `address`. */
function host(
  address: string,
  options: { offload: boolean; forwarding?: boolean },
): { stack: Stack; ifIndex: number } {
  const stack = new Stack({ rng: new SeededRng(9), forwarding: options.forwarding ?? false });
  const ifIndex = stack.addInterface({
    kind: 'ip',
    addresses: [`${address}/24`],
    checksumOffload: options.offload,
  });
  return { stack, ifIndex };
}

/** Every frame the stack has to send now (copies). */
function output(stack: Stack): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let f = stack.pollTransmit(T0); f !== null; f = stack.pollTransmit(T0)) {
    out.push(f.frame.slice());
  }
  return out;
}

/** The TCP checksum field of a bare IPv4 packet without options. */
function checksumField(packet: Uint8Array): number {
  return (packet[IP_HEADER + TCP_CHECKSUM]! << 8) | packet[IP_HEADER + TCP_CHECKSUM + 1]!;
}

/** Whether the TCP checksum of a bare IPv4 packet (no IP options) verifies. */
function checksumVerifies(packet: Uint8Array): boolean {
  const segment = packet.subarray(IP_HEADER);
  const src = new DataView(packet.buffer, packet.byteOffset).getUint32(12);
  const dst = new DataView(packet.buffer, packet.byteOffset).getUint32(16);
  const pseudo = pseudoHeaderSumV4(src, dst, IpProtocol.Tcp, segment.length);
  return checksumFold(checksumAdd(pseudo, segment)) === 0xffff;
}

/** A SYN from a stack without offload to 10.0.0.2:80, with a correct checksum. */
function goodSyn(): Uint8Array {
  const client = host('10.0.0.1', { offload: false });
  client.stack.connect(T0, { host: '10.0.0.2', port: 80 });
  const frames = output(client.stack);
  assert.equal(frames.length, 1);
  assert.ok(checksumVerifies(frames[0]!), 'a stack without offload checksums its segments');
  return frames[0]!;
}

/** The SYN with one bit of its window flipped: the checksum no longer matches. */
function damaged(syn: Uint8Array): Uint8Array {
  const copy = syn.slice();
  copy[IP_HEADER + 14]! ^= 0x01;
  assert.equal(checksumVerifies(copy), false);
  return copy;
}

function badChecksumDrops(stack: Stack): number {
  return stack.stats().interfaces[0]!.drops['bad-checksum'] ?? 0;
}

test('without checksum offload a segment with a bad checksum is dropped and counted; the good one is answered', () => {
  const server = host('10.0.0.2', { offload: false });
  server.stack.listen({ port: 80 });
  const syn = goodSyn();
  server.stack.receiveFrame(T0, server.ifIndex, damaged(syn));
  assert.deepEqual(output(server.stack), [], 'nothing answers a damaged SYN');
  assert.equal(badChecksumDrops(server.stack), 1);
  server.stack.receiveFrame(T0, server.ifIndex, syn);
  const answer = output(server.stack);
  assert.equal(answer.length, 1, 'the intact SYN gets its SYN-ACK');
  assert.ok(checksumVerifies(answer[0]!));
  assert.equal(badChecksumDrops(server.stack), 1);
});

test('with checksum offload segments leave with checksum 0 and arrive unverified', () => {
  const server = host('10.0.0.2', { offload: true });
  server.stack.listen({ port: 80 });
  server.stack.receiveFrame(T0, server.ifIndex, damaged(goodSyn()));
  const answer = output(server.stack);
  assert.equal(answer.length, 1, 'not verified: the SYN is answered');
  assert.equal(checksumField(answer[0]!), 0, 'the SYN-ACK carries no checksum');
  assert.equal(badChecksumDrops(server.stack), 0);
});

test('a forwarding stack computes and verifies checksums even on an offload interface', () => {
  const router = host('10.0.0.2', { offload: true, forwarding: true });
  router.stack.listen({ port: 80 });
  router.stack.receiveFrame(T0, router.ifIndex, damaged(goodSyn()));
  assert.deepEqual(output(router.stack), []);
  assert.equal(badChecksumDrops(router.stack), 1);
  router.stack.connect(T0, { host: '10.0.0.9', port: 80 });
  const [syn] = output(router.stack);
  assert.ok(syn !== undefined && checksumVerifies(syn));
});

test('a transfer over a memory pair with checksum offload arrives intact, and nothing is checksummed', () => {
  const net = new Network({ seed: 3 });
  const a = net.addHost('a');
  const b = net.addHost('b');
  const [ea, eb] = memoryPair({ kind: 'ethernet', checksumOffload: true });
  assert.equal(ea.checksumOffload, true);
  assert.equal(eb.checksumOffload, true);
  const sums: number[] = [];
  // Watch what crosses the link (a tap cannot wrap an offload end: see below).
  const send = ea.send.bind(ea);
  ea.send = (now, frame) => {
    // Ethernet + IPv4 + TCP: the checksum field of every TCP segment.
    if (frame.length >= 14 + IP_HEADER + 20 && frame[12] === 0x08 && frame[23] === 6) {
      sums.push((frame[14 + IP_HEADER + 16]! << 8) | frame[14 + IP_HEADER + 17]!);
    }
    return send(now, frame);
  };
  net.attach(a, ea, { addresses: ['10.0.0.1/24'] });
  net.attach(b, eb, { addresses: ['10.0.0.2/24'] });
  const data = new Uint8Array(300_000);
  randomBytes(new SeededRng(4), data);
  const got: number[] = [];
  const listener = b.stack.listen({ port: 7 });
  let server: TcpSocket | null = null;
  b.onEvent = (e, now) => {
    if (e.type === 'accept') server = e.listener.accept();
    if (e.type === 'tcp' && server !== null && e.socket === server) {
      readAll(server, got);
      if (e.event.type === 'peer-closed') server.close(now);
    }
  };
  const client = a.stack.connect(net.now, { host: '10.0.0.2', port: 7 });
  let offset = 0;
  a.onEvent = (e, now) => {
    if (e.type !== 'tcp' || e.socket !== client) return;
    if (e.event.type === 'connected' || e.event.type === 'writable') {
      offset += client.write(data.subarray(offset));
      if (offset === data.length && client.state === TcpState.Established) client.shutdown(now);
    }
  };
  net.runUntilTime(instant(millis(5000)));
  assert.equal(listener.port, 7);
  assert.equal(got.length, data.length);
  assert.ok(
    got.every((x, i) => x === data[i]),
    'every byte in order',
  );
  assert.ok(sums.length > 100);
  assert.ok(
    sums.every((s) => s === 0),
    'segments cross without checksums',
  );
  assert.equal(a.stack.stats().interfaces[0]!.drops['bad-checksum'] ?? 0, 0);
  assert.equal(b.stack.stats().interfaces[0]!.drops['bad-checksum'] ?? 0, 0);
});

test('impair and pcapTap refuse an endpoint with checksum offload; a plain pair has none', () => {
  const [ea] = memoryPair({ kind: 'ip', checksumOffload: true });
  assert.throws(() => impair(ea, { seed: 1 }), /checksum offload/);
  assert.throws(() => pcapTap(ea), /checksum offload/);
  const [plain] = memoryPair({ kind: 'ip' });
  assert.equal(plain.checksumOffload, false);
  const wrapped: LinkEndpoint = impair(plain, { seed: 1 });
  assert.notEqual(wrapped.checksumOffload, true, 'a wrapper never claims offload');
});
