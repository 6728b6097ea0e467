/**
 * ICMP errors handed to the connection by the stack (handleIcmpError): hard
 * and soft errors (RFC 1122 §4.2.3.9), packet-too-big (RFC 1191, RFC 8201),
 * and the RFC 5927 §4.1 check that the quoted sequence number is in flight.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seq } from '../../src/base/index.js';
import { Connection, TcpState } from '../../src/tcp/index.js';
import { CLIENT_ISS, at, drain, established, eventTypes, pattern, plainConfig } from './harness.js';

const OURS = CLIENT_ISS;

test('port unreachable during the handshake refuses the connect', () => {
  const conn = Connection.connect(at(0), { iss: seq(OURS), config: plainConfig() });
  drain(conn, at(0));
  assert.equal(conn.handleIcmpError(at(5), 'refused', seq(OURS + 1), 0), false, 'not our SYN');
  assert.equal(conn.state, TcpState.SynSent);
  assert.equal(conn.handleIcmpError(at(5), 'refused', seq(OURS), 0), true);
  assert.equal(conn.state, TcpState.Closed);
  assert.deepEqual(eventTypes(conn), ['closed:refused']);
});

test('host or network unreachable during our handshake ends the connect at once (Linux)', () => {
  const conn = Connection.connect(at(0), { iss: seq(OURS), config: plainConfig() });
  drain(conn, at(0));
  assert.equal(conn.handleIcmpError(at(5), 'unreachable', seq(OURS + 1), 0), false, 'not our SYN');
  assert.equal(conn.state, TcpState.SynSent);
  assert.equal(conn.handleIcmpError(at(5), 'unreachable', seq(OURS), 0), true);
  assert.equal(conn.state, TcpState.Closed);
  assert.deepEqual(eventTypes(conn), ['closed:unreachable']);
  assert.equal(drain(conn, at(2000)).length, 0, 'no SYN retransmission follows');
});

test('errors quoting data not in flight are ignored as forgeries (RFC 5927 §4.1)', () => {
  const conn = established();
  assert.equal(conn.handleIcmpError(at(20), 'unreachable', seq(OURS + 1), 0), false);
  conn.write(pattern(100));
  drain(conn, at(20));
  assert.equal(conn.handleIcmpError(at(21), 'unreachable', seq(OURS + 101), 0), false);
  assert.equal(conn.handleIcmpError(at(21), 'unreachable', seq(OURS), 0), false);
  const listener = Connection.listen({ iss: seq(OURS), config: plainConfig() });
  assert.equal(listener.handleIcmpError(at(0), 'refused', seq(OURS), 0), false);
});

test('on a synchronized connection unreachable errors are soft: reported only if it times out', () => {
  const conn = established({ maxRetransmits: 1 });
  conn.write(pattern(100));
  drain(conn, at(20));
  assert.equal(conn.handleIcmpError(at(21), 'refused', seq(OURS + 50), 0), true);
  assert.equal(conn.handleIcmpError(at(21), 'unreachable', seq(OURS + 1), 0), true);
  assert.equal(conn.state, TcpState.Established);
  while (!conn.isClosed) {
    const t = conn.pollTimeout();
    conn.handleTimeout(t);
    drain(conn, t);
  }
  assert.deepEqual(eventTypes(conn), ['closed:unreachable']);
  assert.equal(conn.closeError, 'unreachable');
});

test('packet-too-big lowers the MSS and resends at once; a larger MTU is ignored', () => {
  const conn = established({ noDelay: true });
  conn.write(pattern(2000));
  assert.deepEqual(
    drain(conn, at(20)).map((s) => s.payload.length),
    [1460, 540],
  );
  assert.equal(conn.handleIcmpError(at(21), 'packet-too-big', seq(OURS + 1), 1460), false);
  assert.equal(conn.handleIcmpError(at(21), 'packet-too-big', seq(OURS + 1), 1000), true);
  assert.equal(conn.mss, 1000);
  assert.deepEqual(
    drain(conn, at(21)).map((s) => [s.seq - OURS, s.payload.length]),
    [
      [1, 1000],
      [1001, 1000],
    ],
  );
});
