// Run by test/runtime/exit.test.ts in a child process: does the process
// exit on its own? Modes:
//   closed    a server and a client talk, everything is closed: must exit
//             (TIME-WAIT and other TCP timers must not hold the process)
//   listening a server keeps listening: must stay alive
//   unref     a listening server that was unref'd: must exit
//   open      an open connection: must stay alive
//   virtual   the same as closed on the virtual clock: must exit
import { createNet } from '../../../src/net/index.js';
import { RealDriver, VirtualLoop, joinDrivers, type Driver } from '../../../src/runtime/index.js';
import { memoryPair } from '../../../src/link/index.js';

const mode = process.argv[2] ?? 'closed';

function drivers(): [Driver, Driver] {
  if (mode === 'virtual') {
    const loop = VirtualLoop.create(1);
    const a = loop.addHost('a');
    const b = loop.addHost('b');
    const [ea, eb] = memoryPair({ kind: 'ethernet' });
    a.attach(ea, { addresses: ['10.0.0.1/24'] });
    b.attach(eb, { addresses: ['10.0.0.2/24'] });
    return [a, b];
  }
  const a = new RealDriver();
  const b = new RealDriver();
  joinDrivers(a, b, { a: { addresses: ['10.0.0.1/24'] }, b: { addresses: ['10.0.0.2/24'] } });
  return [a, b];
}

const [a, b] = drivers();
const netA = createNet(a);
const netB = createNet(b);
const server = netB.createServer((s) => s.pipe(s));
server.listen(7, () => {
  if (mode === 'listening') {
    console.log('listening');
    return;
  }
  if (mode === 'unref') {
    server.unref();
    console.log('unref');
    return;
  }
  const c = netA.connect(7, '10.0.0.2', () => c.write('ping'));
  c.on('data', (d: Buffer) => {
    console.log(`got ${d.toString()}`);
    if (mode === 'open') return;
    c.end();
    server.close(() => console.log('closed'));
  });
});
