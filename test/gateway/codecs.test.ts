// The gateway's pure parts: DHCP and DNS codecs (with their named drop
// reasons), the reachability policy, and the command's argument parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DhcpDropReason,
  DhcpMessageType,
  DhcpOption,
  DnsDropReason,
  Policy,
  checkDnsAnswer,
  checkDnsQuery,
  emitDhcpReply,
  emitDhcpRequest,
  parseDhcpReply,
  parseDhcpRequest,
  parseDnsUpstream,
  withDnsId,
  type GatewayAddresses,
} from '../../src/gateway/index.js';
import { parseForward, parseGatewayArgs } from '../../src/cli/gateway-args.js';
import { IpAddr, parseCidr } from '../../src/stack/index.js';

const MAC = Uint8Array.of(2, 0, 0, 0, 0, 9);
const v4 = (text: string): number => IpAddr.parse(text)!.v4;

test('DHCP: a DISCOVER parses; the reply carries mask, router, DNS, lease and server id', () => {
  const discover = emitDhcpRequest({
    messageType: DhcpMessageType.Discover,
    xid: 0xabcd,
    chaddr: MAC,
  });
  const request = parseDhcpRequest(discover);
  assert.ok(typeof request !== 'string');
  assert.equal(request.messageType, DhcpMessageType.Discover);
  assert.equal(request.xid, 0xabcd);
  assert.deepEqual([...request.chaddr], [...MAC]);
  const offer = emitDhcpReply({
    messageType: DhcpMessageType.Offer,
    xid: request.xid,
    flags: 0,
    ciaddr: 0,
    yiaddr: v4('10.0.2.100'),
    giaddr: 0,
    chaddr: request.chaddr,
    serverId: v4('10.0.2.2'),
    leaseTime: 3600,
    subnetMask: v4('255.255.255.0'),
    router: v4('10.0.2.2'),
    dnsServers: [v4('10.0.2.3')],
  });
  assert.ok(offer.length >= 300);
  const parsed = parseDhcpReply(offer);
  assert.ok(parsed !== null);
  assert.equal(parsed.messageType, DhcpMessageType.Offer);
  assert.equal(parsed.yiaddr, v4('10.0.2.100'));
  assert.deepEqual([...parsed.options.get(DhcpOption.SubnetMask)!], [255, 255, 255, 0]);
  assert.deepEqual([...parsed.options.get(DhcpOption.Router)!], [10, 0, 2, 2]);
  assert.deepEqual([...parsed.options.get(DhcpOption.DnsServers)!], [10, 0, 2, 3]);
  assert.deepEqual([...parsed.options.get(DhcpOption.LeaseTime)!], [0, 0, 0x0e, 0x10]);
  assert.deepEqual([...parsed.options.get(DhcpOption.ServerId)!], [10, 0, 2, 2]);
});

test('DHCP: malformed messages are dropped with a named reason, never thrown', () => {
  const good = emitDhcpRequest({
    messageType: DhcpMessageType.Request,
    xid: 1,
    chaddr: MAC,
    requestedAddress: v4('10.0.2.100'),
  });
  assert.equal(parseDhcpRequest(good.subarray(0, 100)), DhcpDropReason.Truncated);
  const reply = good.slice();
  reply[0] = 2;
  assert.equal(parseDhcpRequest(reply), DhcpDropReason.NotRequest);
  const token = good.slice();
  token[1] = 6;
  assert.equal(parseDhcpRequest(token), DhcpDropReason.BadHardware);
  const cookie = good.slice();
  cookie[236] = 0;
  assert.equal(parseDhcpRequest(cookie), DhcpDropReason.BadCookie);
  // An option whose length runs past the end.
  const overrun = good.slice(0, 243);
  overrun[241] = 200;
  assert.equal(parseDhcpRequest(overrun), DhcpDropReason.BadOption);
  // No message type: only End.
  const bare = good.slice(0, 241);
  bare[240] = 255;
  assert.equal(parseDhcpRequest(bare), DhcpDropReason.NoMessageType);
  // Every truncation of a good message parses or drops, never throws.
  for (let n = 0; n <= good.length; n++) parseDhcpRequest(good.subarray(0, n));
});

function query(name: string): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...new TextEncoder().encode(l)]);
  return Uint8Array.of(0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1);
}

test('DNS: a query passes, malformed ones get a named reason; answers must match the ID', () => {
  const q = query('example.org');
  assert.equal(checkDnsQuery(q), null);
  assert.equal(checkDnsQuery(q.subarray(0, 11)), DnsDropReason.Truncated);
  const response = q.slice();
  response[2] = 0x81;
  assert.equal(checkDnsQuery(response), DnsDropReason.NotQuery);
  const none = q.slice();
  none[5] = 0;
  assert.equal(checkDnsQuery(none), DnsDropReason.NoQuestion);
  assert.equal(checkDnsQuery(q.subarray(0, q.length - 2)), DnsDropReason.BadQuestion);
  // A compression pointer to itself would loop: refused.
  const loop = Uint8Array.of(0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1);
  assert.equal(checkDnsQuery(loop), DnsDropReason.BadQuestion);
  const answer = withDnsId(response, 0x5555);
  assert.equal(checkDnsAnswer(answer, 0x5555), null);
  assert.equal(checkDnsAnswer(answer, 0x5556), DnsDropReason.BadAnswer);
  for (let n = 0; n <= q.length; n++) checkDnsQuery(q.subarray(0, n));
});

function addresses(): GatewayAddresses {
  return {
    network4: parseCidr('10.0.2.0/24'),
    gateway4: IpAddr.parse('10.0.2.2')!,
    dns4: IpAddr.parse('10.0.2.3')!,
    guest4: IpAddr.parse('10.0.2.100')!,
    network6: parseCidr('fd00::/64'),
    gateway6: IpAddr.parse('fd00::2')!,
    dns6: IpAddr.parse('fd00::3')!,
  };
}

test('policy: host loopback only with the flag (through the gateway address); rules by longest prefix', () => {
  const closed = new Policy({
    addresses: addresses(),
    allowHostLoopback: false,
    allow: [],
    deny: [],
  });
  const at = (p: Policy, text: string) => p.decide(IpAddr.parse(text)!);
  assert.deepEqual(at(closed, '10.0.2.2'), { allowed: false, reason: 'denied-host-loopback' });
  assert.deepEqual(at(closed, '127.0.0.1'), { allowed: false, reason: 'denied-host-loopback' });
  assert.deepEqual(at(closed, '::1'), { allowed: false, reason: 'denied-host-loopback' });
  assert.deepEqual(at(closed, '198.51.100.7'), { allowed: true, host: '198.51.100.7' });
  assert.deepEqual(at(closed, '10.0.2.77'), { allowed: false, reason: 'denied-guest-network' });
  const open = new Policy({ addresses: addresses(), allowHostLoopback: true, allow: [], deny: [] });
  assert.deepEqual(at(open, '10.0.2.2'), { allowed: true, host: '127.0.0.1' });
  assert.deepEqual(at(open, 'fd00::2'), { allowed: true, host: '::1' });
  const rules = new Policy({
    addresses: addresses(),
    allowHostLoopback: false,
    allow: ['198.51.100.0/24'],
    deny: ['198.51.100.128/25', '2001:db8::/32'],
  });
  assert.deepEqual(at(rules, '198.51.100.7'), { allowed: true, host: '198.51.100.7' });
  assert.deepEqual(at(rules, '198.51.100.200'), { allowed: false, reason: 'denied-rule' });
  // With an --allow rule, what no rule matches is denied.
  assert.deepEqual(at(rules, '203.0.113.1'), { allowed: false, reason: 'denied-rule' });
  const denyOnly = new Policy({
    addresses: addresses(),
    allowHostLoopback: false,
    allow: [],
    deny: ['2001:db8::/32'],
  });
  assert.deepEqual(at(denyOnly, '2001:db8::1'), { allowed: false, reason: 'denied-rule' });
  assert.deepEqual(at(denyOnly, '2001:db9::1'), { allowed: true, host: '2001:db9::1' });
});

test("gateway arguments: defaults are slirp4netns's; bad values are one-line usage errors", () => {
  const io = { out: () => undefined, err: () => undefined };
  const parsed = parseGatewayArgs(['--tap', 'tap0', '--dns-upstream', '127.0.0.1:5353'], io);
  assert.ok(typeof parsed !== 'string');
  const o = parsed.options;
  assert.equal(o.gateway4, '10.0.2.2');
  assert.equal(o.dns4, '10.0.2.3');
  assert.equal(o.guest4, '10.0.2.100');
  assert.equal(o.network6, 'fd00::/64');
  assert.equal(o.allowHostLoopback, false);
  assert.deepEqual(o.dnsUpstream, { address: '127.0.0.1', port: 5353 });
  assert.match(String(parseGatewayArgs([], io)), /--tap NAME is required/);
  assert.match(
    String(parseGatewayArgs(['--tap', 't', '--deny', 'nonsense'], io)),
    /takes an address prefix/,
  );
  assert.match(
    String(parseGatewayArgs(['--tap', 't', '--forward', 'udp:1:2'], io)),
    /--forward takes/,
  );
  assert.match(
    String(parseGatewayArgs(['--tap', 't', '--max-flows', '0'], io)),
    /positive whole number/,
  );
  assert.equal(parseGatewayArgs(['--help'], io), 'help');
  assert.deepEqual(parseForward('tcp:8080:80'), {
    protocol: 'tcp',
    hostAddress: '127.0.0.1',
    hostPort: 8080,
    guestPort: 80,
  });
  assert.deepEqual(parseDnsUpstream('[::1]:53'), { address: '::1', port: 53 });
  assert.deepEqual(parseDnsUpstream('1.1.1.1'), { address: '1.1.1.1', port: 53 });
  assert.throws(() => parseDnsUpstream('bogus:x'), /--dns-upstream takes/);
});
