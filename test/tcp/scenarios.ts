/**
 * Random pair scenarios from a seed, shared by the sweep test and `scripts/sweep`.
 */
import assert from 'node:assert/strict';
import { SeededRng, randomBytes, randomFloat, randomInt } from '../../src/base/index.js';
import { TcpState, type TcpConfig } from '../../src/tcp/index.js';
import { Pair, type Impairment } from './harness.js';

/** One random scenario from a seed: impairments, buffer sizes, options and data sizes. */
export function scenario(seed: number): Pair {
  const rng = new SeededRng(seed * 7919 + 1);
  const pick = <T>(xs: readonly T[]): T => xs[randomInt(rng, xs.length)]!;
  const impairment: Impairment = {
    loss: pick([0, 0, 0.01, 0.03, 0.08]),
    duplicate: pick([0, 0, 0.02, 0.1]),
    reorder: pick([0, 0, 0.05, 0.2]),
    delayMs: pick([1, 5, 20, 50]),
    reorderMs: pick([2, 10, 40]),
  };
  const config = (): Partial<TcpConfig> => ({
    timestamps: randomFloat(rng) < 0.7,
    sack: randomFloat(rng) < 0.7,
    windowScaling: randomFloat(rng) < 0.7,
    noDelay: randomFloat(rng) < 0.3,
    delayedAck: randomFloat(rng) < 0.8,
    sendBufferSize: pick([2048, 16_384, 65_536, 1 << 20]),
    receiveBufferSize: pick([1024, 4096, 65_536, 1 << 20]),
    mss: pick([536, 1000, 1460]),
  });
  const sizes = [0, 1, 100, 5000, 70_000, 250_000];
  return new Pair({
    seed,
    clientData: randomBytes(rng, new Uint8Array(pick(sizes))),
    serverData: randomBytes(rng, new Uint8Array(pick(sizes))),
    clientConfig: config(),
    serverConfig: config(),
    impairment,
  });
}

export function checkScenario(pair: Pair, seed: number): void {
  const where = `seed ${seed}`;
  assert.deepEqual(
    pair.server.receivedData(),
    pair.client.toSend,
    `${where}: client -> server bytes`,
  );
  assert.deepEqual(
    pair.client.receivedData(),
    pair.server.toSend,
    `${where}: server -> client bytes`,
  );
  for (const side of [pair.client, pair.server]) {
    const state = side.conn.state;
    assert.ok(
      state === TcpState.Closed || state === TcpState.TimeWait,
      `${where}: final state ${state}`,
    );
    if (state === TcpState.Closed) assert.equal(side.closedWith, 'ok', `${where}: clean close`);
  }
}
