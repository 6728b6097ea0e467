// Two tcpts hosts joined by an in-memory Ethernet link, each with a
// node:net-compatible API. The server upper-cases what it receives; the
// client sends two lines, half-closes, and prints the reply.
//
//   npx tsx examples/node-net.ts
import { createNet } from '../src/net/index.js';
import { RealDriver, joinDrivers } from '../src/runtime/index.js';

// One driver per host: a stack, the real clock, one host timer each.
const alice = new RealDriver();
const bob = new RealDriver();
joinDrivers(alice, bob, {
  kind: 'ethernet',
  a: { addresses: ['10.0.0.1/24', 'fd00::1/64'] },
  b: { addresses: ['10.0.0.2/24', 'fd00::2/64'] },
});
const aliceNet = createNet(alice);
const bobNet = createNet(bob);

const server = bobNet.createServer((socket) => {
  console.log(`server: connection from ${socket.remoteAddress}:${socket.remotePort}`);
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => socket.write(text.toUpperCase()));
  socket.on('end', () => socket.end('bye\n'));
});

server.listen(7007, () => {
  console.log('server: listening on', server.address());
  const client = aliceNet.connect(7007, '10.0.0.2', () => {
    console.log(`client: connected from ${client.localAddress}:${client.localPort}`);
    client.write('hello over tcpts\n');
    client.end('this line ends with a FIN\n');
  });
  let received = '';
  client.setEncoding('utf8');
  client.on('data', (text: string) => (received += text));
  client.on('end', () => {
    console.log('client: received\n' + received.trimEnd().replace(/^/gm, '  | '));
    const stats = client.tcpSocket!.stats();
    console.log(
      `client: ${stats.segmentsSent} segments sent, ${stats.segmentsReceived} received, srtt ${stats.srtt} µs`,
    );
  });
  client.on('close', () => server.close(() => console.log('server: closed')));
});
