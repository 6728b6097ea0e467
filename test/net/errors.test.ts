// The one table from the core's error vocabulary to Node's error shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { constants as osConstants } from 'node:os';
import { seconds } from '../../src/base/index.js';
import { TCP_ERROR_CODES, netError, tcpError } from '../../src/net/index.js';
import { TcpError } from '../../src/tcp/index.js';
import { virtualPair } from './helpers.js';

test('every TcpError has a Node code, with the OS errno negated as libuv reports it', () => {
  const all = Object.values(TcpError);
  assert.deepEqual(Object.keys(TCP_ERROR_CODES).sort(), [...all].sort());
  assert.deepEqual(TCP_ERROR_CODES, {
    refused: 'ECONNREFUSED',
    reset: 'ECONNRESET',
    'timed-out': 'ETIMEDOUT',
    aborted: 'ECONNABORTED',
    unreachable: 'EHOSTUNREACH',
  });
  for (const e of all) {
    const error = tcpError(e, 'read');
    const code = TCP_ERROR_CODES[e];
    assert.equal(error.code, code);
    assert.equal(error.errno, -(osConstants.errno as Record<string, number>)[code]!);
    assert.equal(error.syscall, 'read');
    assert.equal(error.message, `read ${code}`);
    assert.equal(error.address, undefined, 'Node gives no address on read errors');
  }
});

test('message forms: connect with host:port, listen with the libuv text, getaddrinfo with the name', () => {
  const connect = tcpError('refused', 'connect', 'fd00::2', 80);
  assert.equal(connect.message, 'connect ECONNREFUSED fd00::2:80');
  assert.equal(connect.address, 'fd00::2');
  assert.equal(connect.port, 80);
  const listen = netError('EADDRINUSE', 'listen', '0.0.0.0', 443);
  assert.equal(listen.message, 'listen EADDRINUSE: address already in use 0.0.0.0:443');
  const lookup = netError('ENOTFOUND', 'getaddrinfo', 'nowhere.example');
  assert.equal(lookup.message, 'getaddrinfo ENOTFOUND nowhere.example');
  assert.equal(lookup.hostname, 'nowhere.example');
  assert.equal(lookup.errno, -3008);
  assert.equal(lookup.address, undefined);
});

test('EHOSTUNREACH: nobody answers ARP for the address (virtual clock)', async (t) => {
  const p = virtualPair(6, { kind: 'ethernet' });
  t.after(() => p.close());
  const start = p.a.now();
  const c = p.netA.connect(80, '10.0.0.9');
  const [error] = (await once(c, 'error').catch((e: unknown) => [e])) as [
    Error & { code?: string; errno?: number; syscall?: string; address?: string; port?: number },
  ];
  assert.equal(error.code, 'EHOSTUNREACH');
  assert.equal(error.errno, -osConstants.errno.EHOSTUNREACH);
  assert.equal(error.syscall, 'connect');
  assert.equal(error.address, '10.0.0.9');
  assert.equal(error.port, 80);
  assert.ok(p.a.now() - start <= seconds(127), 'no later than the SYN retries run out');
});
