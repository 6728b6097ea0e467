/**
 * --mtu too small for any MSS tcpts accepts: the runner says so in one line
 * instead of the connection's config check throwing out of the run when the
 * first SYN arrives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScript } from '../../src/packetdrill/index.js';

const HANDSHAKE = [
  '0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3',
  '+0    bind(3, ..., ...) = 0',
  '+0    listen(3, 1) = 0',
  '+0    < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>',
  '+0    > S. 0:0(0) ack 1 win 64240 <mss 1460,nop,nop,sackOK,nop,wscale 7>',
];

test('--mtu=72 (MSS 32) is reported with the smallest MTU that works, not thrown', () => {
  const result = runScript(['--mtu=72', ...HANDSHAKE].join('\n'));
  assert.equal(result.status, 'skip');
  assert.match(result.message ?? '', /--mtu=72 gives an MSS of 32.*MTU 104 for IPv4/);
});

test('the same for IPv6, whose header is 40 bytes', () => {
  const result = runScript(['--ip_version=ipv6', '--mtu=100', ...HANDSHAKE].join('\n'));
  assert.equal(result.status, 'skip');
  assert.match(result.message ?? '', /--mtu=100 gives an MSS of 40.*MTU 124 for IPv6/);
});

test('the smallest MTU that gives MSS 64 runs the script', () => {
  const result = runScript(
    [
      '--mtu=104',
      ...HANDSHAKE.slice(0, 4),
      '+0    > S. 0:0(0) ack 1 win 65472 <mss 64,nop,nop,sackOK,nop,wscale 7>',
    ].join('\n'),
  );
  assert.equal(result.status, 'pass', result.message ?? '');
});
