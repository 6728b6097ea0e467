/**
 * Row 1 of the bench in a browser page: the same in-memory bulk transfer as
 * jobs.ts's memBulk (two stacks on real-clock drivers joined by a memory
 * pair of bare IP packets with checksum offload, the BulkSender and Sink of
 * lib/apps.ts), bundled for Chromium by bench/browser.ts.
 */
import { memoryPair } from '../src/link/index.js';
import { RealDriver, joinDrivers } from '../src/runtime/index.js';
import { BulkSender, Sink, acceptAll, adopt } from './lib/apps.js';
import { gbits } from './lib/stats.js';

const PORT = 5001;

/** One bulk transfer of `bytes` at `mtu`; resolves with Gbit/s from connection to the sender's FIN. */
async function memBulk(mtu: number, bytes: number): Promise<number> {
  const a = new RealDriver();
  const b = new RealDriver();
  joinDrivers(a, b, {
    pair: memoryPair({ kind: 'ip', mtu, checksumOffload: true }),
    a: { addresses: ['10.0.0.1/24'] },
    b: { addresses: ['10.0.0.2/24'] },
  });
  try {
    const sinkP = new Promise<Sink>((resolve) => {
      acceptAll(b.stack.listen({ port: PORT }), (socket, now) => {
        const sink = new Sink(socket);
        adopt(socket, sink, now);
        resolve(sink);
      });
    });
    const sender = new BulkSender(
      a.stack.connect(a.now(), { host: '10.0.0.2', port: PORT }),
      bytes,
    );
    a.kick();
    const sink = await sinkP;
    await sink.done;
    if (sink.bytes !== bytes) throw new Error(`in-memory bulk: received ${sink.bytes} of ${bytes}`);
    return gbits(sink.bytes, (sink.endedAt - sender.connectedAt) / 1000);
  } finally {
    a.close();
    b.close();
  }
}

Object.assign(globalThis, { tcpts: { memBulk } });
