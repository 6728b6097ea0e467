/**
 * Loss recovery end to end, in virtual time over a Pair whose hooks lose,
 * delay or mark exactly the segments a scenario needs: one fast retransmit
 * for one loss, a tail loss probe for a lost tail (RFC 8985 §7), RACK
 * adapting to reordering (RFC 8985 §6.2), a spurious timeout detected and
 * undone (F-RTO, RFC 5682; RFC 3708), an ECN flow that reduces without
 * losing (RFC 3168), receive-buffer autotuning on a long path.
 */
import { describe as suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng, randomBytes, seqDiff, type SeqNum } from '../../src/base/index.js';
import { TcpState, type TcpConfig, TcpSampleKind } from '../../src/tcp/index.js';
import { Pair, type Departure, type Impairment } from './harness.js';

const KB = 1024;
const MB = 1024 * 1024;

function data(bytes: number, seed = 7): Uint8Array {
  return randomBytes(new SeededRng(seed), new Uint8Array(bytes));
}

function path(delayMs: number): Impairment {
  return { loss: 0, duplicate: 0, reorder: 0, delayMs, reorderMs: 0 };
}

/** Offset of a client data segment in the client's stream (0 = first byte). */
function offsetOf(pair: Pair, d: Departure): number {
  return seqDiff(d.seg.seq, (pair.client.conn.initialSendSequence + 1) as SeqNum);
}

/** A one-way transfer from client to server; the server sends nothing. */
function transfer(options: {
  bytes: number;
  delayMs: number;
  config?: Partial<TcpConfig>;
  serverConfig?: Partial<TcpConfig>;
  drop?: (d: Departure, pair: Pair) => boolean;
  delay?: (d: Departure, pair: Pair) => number;
  markCe?: (d: Departure, pair: Pair) => boolean;
}): Pair {
  // eslint-disable-next-line prefer-const
  let pair: Pair;
  const hook = <T>(f: ((d: Departure, p: Pair) => T) | undefined) =>
    f === undefined ? undefined : (d: Departure) => f(d, pair);
  pair = new Pair({
    seed: 11,
    clientData: data(options.bytes),
    serverData: new Uint8Array(0),
    clientConfig: options.config,
    serverConfig: options.serverConfig ?? options.config,
    impairment: path(options.delayMs),
    drop: hook(options.drop),
    delay: hook(options.delay),
    markCe: hook(options.markCe),
  });
  return pair;
}

function delivered(pair: Pair): void {
  assert.deepEqual(pair.server.receivedData(), pair.client.toSend, 'every byte, in order');
  for (const side of [pair.client, pair.server]) {
    assert.ok(
      side.conn.state === TcpState.Closed || side.conn.state === TcpState.TimeWait,
      side.conn.state,
    );
  }
}

/** Drops the first transmission of the data segments starting at these stream offsets. */
function loseOnce(offsets: (pair: Pair) => number[]) {
  const done = new Set<number>();
  return (d: Departure, pair: Pair): boolean => {
    if (!d.toServer || d.seg.payload.length === 0) return false;
    const off = offsetOf(pair, d);
    if (done.has(off) || !offsets(pair).includes(off)) return false;
    done.add(off);
    return true;
  };
}

suite('one loss, one fast retransmit', () => {
  const cases: Array<[string, Partial<TcpConfig>]> = [
    ['CUBIC with SACK and RACK (the Linux profile)', {}],
    ['NewReno with SACK', { congestionControl: 'newreno' }],
    ['RFC 6675 without RACK', { rack: false }],
    ['NewReno without SACK', { sack: false, congestionControl: 'newreno' }],
  ];
  for (const [name, config] of cases) {
    test(name, () => {
      const pair = transfer({
        bytes: 1 * MB,
        delayMs: 10,
        config,
        drop: loseOnce((p) => [100 * p.client.conn.mss]),
      });
      pair.run();
      delivered(pair);
      const s = pair.client.conn.stats();
      assert.equal(pair.segmentsDropped, 1);
      assert.equal(s.retransmitTimeouts, 0, 'no RTO');
      assert.equal(s.fastRetransmits, 1, 'one recovery');
      assert.equal(s.segmentsRetransmitted, 1, 'one retransmission');
      assert.equal(s.spuriousRecoveries, 0);
    });
  }
});

suite('a lost tail is repaired by a tail loss probe (RFC 8985 §7)', () => {
  test('the last segment lost: the probe resends it two SRTTs later, no RTO', () => {
    const bytes = 40 * KB;
    const pair = transfer({
      bytes,
      delayMs: 10,
      drop: loseOnce((p) => [Math.floor(bytes / p.client.conn.mss) * p.client.conn.mss]),
    });
    pair.client.shutdownWhenDone = false;
    pair.run(2000);
    assert.equal(pair.server.receivedBytes, bytes);
    const s = pair.client.conn.stats();
    assert.equal(pair.segmentsDropped, 1);
    assert.equal(s.retransmitTimeouts, 0);
    assert.equal(s.lossProbes, 1);
    assert.equal(s.segmentsRetransmitted, 1, 'the probe was the repair');
  });

  test('the last three segments lost: the probe brings a SACK and RACK repairs the rest', () => {
    const bytes = 60 * KB;
    const pair = transfer({
      bytes,
      delayMs: 10,
      drop: loseOnce((p) => {
        const mss = p.client.conn.mss;
        const last = Math.floor(bytes / mss) * mss;
        return [last - 2 * mss, last - mss, last];
      }),
    });
    pair.run();
    delivered(pair);
    const s = pair.client.conn.stats();
    assert.equal(pair.segmentsDropped, 3);
    assert.equal(s.retransmitTimeouts, 0, 'no RTO');
    assert.equal(s.lossProbes, 1);
    assert.equal(s.segmentsRetransmitted, 3);
    assert.equal(s.fastRetransmits, 1, 'the probe SACKed, the holes went in recovery');
  });

  test('without TLP (or without SACK) the same tail waits for the RTO', () => {
    for (const config of [{ tlp: false }, { sack: false }]) {
      const bytes = 40 * KB;
      const pair = transfer({
        bytes,
        delayMs: 10,
        config,
        drop: loseOnce((p) => [Math.floor(bytes / p.client.conn.mss) * p.client.conn.mss]),
      });
      pair.client.shutdownWhenDone = false;
      pair.run(2000);
      assert.equal(pair.server.receivedBytes, bytes);
      assert.equal(pair.client.conn.stats().retransmitTimeouts, 1, JSON.stringify(config));
    }
  });
});

test('heavy reordering without loss: after RACK adapts, no more spurious retransmissions', () => {
  // Every 7th data segment is held back 25 ms on a 40 ms RTT path: more than
  // the first reordering window (min_RTT / 4 = 10 ms). D-SACKs grow it.
  let late = 0;
  const retransmittedAt: number[] = [];
  let highest = 0;
  const pair = transfer({
    bytes: 4 * MB,
    delayMs: 20,
    delay: (d, p) => {
      if (!d.toServer || d.seg.payload.length === 0) return 0;
      const off = offsetOf(p, d);
      if (off < highest) retransmittedAt.push(off);
      highest = Math.max(highest, off + d.seg.payload.length);
      late++;
      return late % 7 === 0 ? 25 : 0;
    },
  });
  pair.run();
  delivered(pair);
  const s = pair.client.conn.stats();
  assert.ok(s.reorderingSeen > 0, 'reordering was seen');
  assert.ok(s.dsacksReceived > 0, 'D-SACKs reported the early spurious retransmissions');
  const halfway = pair.client.toSend.length / 2;
  const late2 = retransmittedAt.filter((o) => o > halfway);
  assert.deepEqual(late2, [], 'no retransmission in the second half');
  assert.ok(retransmittedAt.length <= 6, `${retransmittedAt.length} spurious retransmissions`);
  assert.equal(s.retransmitTimeouts, 0);
});

test('a spurious timeout (the path stalls) is detected and undone', () => {
  // The path stalls for 700 ms once, both ways, losing nothing: what is
  // in flight arrives late, after the RTO fired. F-RTO (RFC 5682) or the
  // D-SACK of the needless retransmission (RFC 3708) shows it, and the
  // window from before comes back.
  let stallFrom = -1;
  const STALL = 700_000;
  let ssthreshBefore = -1;
  const pair = transfer({
    bytes: 3 * MB,
    delayMs: 20,
    delay: (d, p) => {
      if (stallFrom < 0) {
        if (!d.toServer || d.seg.payload.length === 0 || offsetOf(p, d) < MB) return 0;
        stallFrom = d.now;
        ssthreshBefore = p.client.conn.stats().ssthresh;
      }
      const wait = stallFrom + STALL - d.now;
      return wait > 0 ? wait / 1000 : 0;
    },
  });
  pair.run();
  delivered(pair);
  const s = pair.client.conn.stats();
  assert.ok(s.retransmitTimeouts >= 1, 'the RTO fired');
  assert.ok(s.spuriousRecoveries >= 1, 'and was undone');
  assert.ok(s.spuriousRtos + s.dsacksReceived >= 1);
  assert.equal(s.ssthresh, ssthreshBefore, 'ssthresh as before the timeout');
});

test('ECN: marks instead of drops reduce the window without a retransmission (RFC 3168)', () => {
  let n = 0;
  const pair = transfer({
    bytes: 2 * MB,
    delayMs: 10,
    config: { ecn: 1 },
    // An AQM marking one data segment in 200.
    markCe: (d) => d.toServer && d.seg.payload.length > 0 && ++n % 200 === 0,
  });
  pair.run();
  delivered(pair);
  const c = pair.client.conn.stats();
  const sv = pair.server.conn.stats();
  assert.ok(c.ecn && sv.ecn, 'negotiated');
  assert.ok(pair.segmentsMarked > 5);
  assert.equal(sv.ceReceived, pair.segmentsMarked);
  assert.ok(c.ecnReductions >= 1 && c.ecnReductions <= pair.segmentsMarked);
  assert.equal(c.segmentsRetransmitted, 0);
  assert.ok(c.ssthresh < 0x7fffffff, 'slow start ended on a mark, not a loss');
});

test('receive-buffer autotuning: a 64 KiB buffer grows with the BDP of a long path', () => {
  const run = (autotune: boolean) => {
    const pair = transfer({
      bytes: 8 * MB,
      delayMs: 50,
      serverConfig: { receiveBufferSize: 64 * KB, receiveBufferAutotuning: autotune },
    });
    pair.run();
    delivered(pair);
    return { ms: pair.now / 1000, limit: pair.server.conn.stats().receiveBufferLimit };
  };
  const fixed = run(false);
  const tuned = run(true);
  assert.equal(fixed.limit, 64 * KB);
  // 64 KiB per 100 ms is 640 KiB/s: 8 MiB takes over 12 s.
  assert.ok(fixed.ms > 12_000, `window-limited: ${fixed.ms} ms`);
  assert.ok(tuned.limit > MB, `grew to ${tuned.limit}`);
  assert.ok(tuned.limit <= 32 * MB, 'up to maxReceiveBufferSize');
  assert.ok(tuned.ms < fixed.ms / 4, `autotuned: ${tuned.ms} ms vs ${fixed.ms} ms`);
});

test('the recorder sees sends, retransmissions, SACKs, ACKs and windows, bounded', () => {
  const pair = transfer({
    bytes: 300 * KB,
    delayMs: 10,
    config: { recordSamples: 5000 },
    serverConfig: {},
    drop: loseOnce((p) => [30 * p.client.conn.mss]),
  });
  pair.run();
  delivered(pair);
  const rec = pair.client.conn.recorder!;
  const kinds = new Set(rec.samples().map((s) => s.kind));
  for (const k of [
    TcpSampleKind.Sent,
    TcpSampleKind.Retransmitted,
    TcpSampleKind.Sacked,
    TcpSampleKind.Acked,
    TcpSampleKind.Window,
  ]) {
    assert.ok(kinds.has(k), `kind ${k}`);
  }
  const rtx = rec.samples().find((s) => s.kind === TcpSampleKind.Retransmitted)!;
  assert.equal(rtx.a, 30 * pair.client.conn.mss);
  assert.ok(rec.size <= 5000);
  assert.equal(pair.server.conn.recorder, null, 'off by default');
  const s = pair.client.conn.stats();
  assert.ok(s.deliveryRate > 0, 'a delivery rate was measured');
  assert.equal(s.deliveredBytes, 300 * KB + 1, 'every byte and the FIN');
});
