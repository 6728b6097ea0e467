// Deterministic simulation testing: a few hundred seeded scenarios, each a
// random topology, impairments, TCP options and workloads, with every
// invariant of src/sim/scenario/ checked; the seeds that once failed, as
// named regressions; and proof that the invariants catch a broken stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  KNOWN_ISSUES,
  reproduceCommand,
  runPlan,
  runScenario,
  type ScenarioPlan,
  type ScenarioResult,
} from '../../src/sim/scenario/index.js';
import { Stack, TcpSocket } from '../../src/stack/index.js';
import { Connection } from '../../src/tcp/index.js';

/** Seeds run by `npm test`: about 300 take a few seconds here; the soak runs thousands. */
const SCENARIOS = 300;

/** Runs the seed again with capture on and writes its pcaps; returns the files. */
function writePcaps(seed: number, plan?: ScenarioPlan): string[] {
  const result =
    plan !== undefined ? runPlan(plan, { capture: true }) : runScenario(seed, { capture: true });
  const dir = join('tmp', 'sim', `seed-${seed}`);
  mkdirSync(dir, { recursive: true });
  return result.captures.map((c) => {
    const file = join(dir, `${c.name}.pcap`);
    writeFileSync(file, c.bytes);
    return file;
  });
}

/**
 * What a failing run reports: its failures, how to run it again, where its
 * pcaps are. A saved plan from an older generator is not what its seed
 * plans today, so it is named by where it is kept instead.
 */
function explain(result: ScenarioResult, plan?: ScenarioPlan): string {
  const again =
    plan === undefined
      ? reproduceCommand(result.seed)
      : `the saved plan of seed ${result.seed} in test/sim/dst.test.ts (REGRESSIONS), run with runPlan`;
  const lines = [`seed ${result.seed}: ${again}`];
  for (const f of result.failures.slice(0, 5)) lines.push(`  [${f.check}] ${f.message}`);
  lines.push(`  pcaps: ${writePcaps(result.seed, plan).join(' ')}`);
  return lines.join('\n');
}

test(`${SCENARIOS} seeded scenarios keep every invariant`, () => {
  const failed: string[] = [];
  let connections = 0;
  let bytes = 0;
  let datagrams = 0;
  let segments = 0;
  const kinds = new Set<string>();
  for (let seed = 1; seed <= SCENARIOS; seed++) {
    const result = runScenario(seed);
    connections += result.totals.connections;
    bytes += result.totals.bytesDelivered;
    datagrams += result.totals.datagramsEchoed;
    segments += result.totals.tcpSegmentsOnWire;
    for (const w of result.plan.workloads) kinds.add(w.kind);
    if (!result.ok) failed.push(explain(result));
  }
  assert.equal(
    failed.length,
    0,
    `${failed.length} of ${SCENARIOS} seeds failed:\n${failed.join('\n')}`,
  );
  // The scenarios did real work: every kind of workload, thousands of connections.
  assert.equal(kinds.size, 9, `workload kinds seen: ${[...kinds].join(', ')}`);
  assert.ok(connections > 1000, `${connections} connection ends`);
  assert.ok(bytes > 10_000_000, `${bytes} bytes delivered`);
  assert.ok(datagrams > 1000, `${datagrams} datagrams echoed`);
  assert.ok(segments > 50_000, `${segments} TCP segments`);
});

/**
 * Scenarios that once failed, kept as plans (plain data) so that they stay
 * the same scenario if the generator changes. `reported` ones point at bugs
 * not fixed yet (see KNOWN_ISSUES): they pass only in strict mode once fixed.
 * Seeds 28 to 4199 come from the first generator, 525 from the second, the
 * rest from the third (seeds mean other scenarios today; the plans do not change).
 */
const REGRESSIONS: Array<{
  seed: number;
  what: string;
  check: string;
  reported: boolean;
  plan: string;
}> = [
  {
    seed: 119,
    what: 'tcp: keepalive and a zero window with data queued re-armed the keepalive timer at `now` on every poll, a virtual-time livelock (fixed: updateTimers re-arms it only when idle)',
    check: 'exception',
    reported: false,
    plan: '{"seed":119,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":true,"windowScaling":false,"noDelay":false,"delayedAck":true,"sendBufferSize":16384,"receiveBufferSize":1024,"initialCwndSegments":2}},{"name":"b","router":false,"tcp":{"timestamps":false,"sack":true,"dsack":false,"windowScaling":false,"noDelay":true,"delayedAck":true,"sendBufferSize":1048576,"receiveBufferSize":1024,"initialCwndSegments":10}}],"links":[{"name":"link1","kind":"ip","mtu":1280,"left":"a","right":"b","leftToRight":{"reorder":0.01,"reorderDelay":20000},"rightToLeft":{"delay":50000,"loss":0.01,"rate":100000000,"queueBytes":5120},"cut":null}],"mtuDrop":null,"workloads":[{"kind":"simultaneous-open","family":6,"portA":21000,"portB":26000,"start":714222,"aBytes":300000,"bBytes":20000},{"kind":"backlog","family":6,"port":1001,"start":665385,"backlog":2,"acceptCount":0,"closeListenerAfter":112258897,"keepAliveIdle":20000000,"clients":[{"request":310,"response":968,"delay":935125},{"request":422,"response":1919,"delay":657591},{"request":2155,"response":987,"delay":534916},{"request":1064,"response":815,"delay":1464329},{"request":2059,"response":209,"delay":580898}]},{"kind":"udp-echo","family":6,"port":1002,"start":1468441,"bursts":[{"after":1725722,"sizes":[1472,3000,1000,3000,8000,1000,4,100,8000,100,8000,100,8000,1000,4,100,3000,8000,3000,1472,1000,3000,1000,1472,4,100,4,100,1472,100,100,3000]},{"after":2129477,"sizes":[1000,4,8000,3000,1472,1000,3000,8000,1000,4,1000,4,8000,3000,1472,1472]},{"after":1743589,"sizes":[1472,100,1472,100,1472,8000,1000,4,8000,1472,1000,4,1000,3000,1000,1472,1000,1472,100,1000,1000,8000,1000,3000,1472,100,100]}]}]}',
  },
  {
    seed: 153,
    what: 'tcp: the same keepalive livelock, through two routers',
    check: 'exception',
    reported: false,
    plan: '{"seed":153,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":true,"windowScaling":true,"noDelay":false,"delayedAck":true,"sendBufferSize":262144,"receiveBufferSize":65536,"initialCwndSegments":10}},{"name":"r1","router":true,"tcp":{}},{"name":"r2","router":true,"tcp":{}},{"name":"b","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":false,"windowScaling":true,"noDelay":true,"delayedAck":true,"sendBufferSize":1024,"receiveBufferSize":1024,"initialCwndSegments":10}}],"links":[{"name":"link1","kind":"ip","mtu":576,"left":"a","right":"r1","leftToRight":{"delay":20000,"jitter":3400,"loss":0.001},"rightToLeft":{"loss":0.001},"cut":null},{"name":"link2","kind":"ip","mtu":1500,"left":"r1","right":"r2","leftToRight":{"delay":1000,"jitter":175,"loss":0.001,"corrupt":0.001},"rightToLeft":{"delay":20000,"jitter":2314},"cut":null},{"name":"link3","kind":"ip","mtu":1500,"left":"r2","right":"b","leftToRight":{"delay":5000},"rightToLeft":{"delay":100,"jitter":29,"duplicate":0.005},"cut":null}],"mtuDrop":null,"workloads":[{"kind":"bulk","family":4,"port":1000,"start":450679,"clientBytes":1,"serverBytes":5000,"clientPacing":null,"serverPacing":null,"clientCloses":false},{"kind":"backlog","family":4,"port":1001,"start":170949,"backlog":3,"acceptCount":3,"closeListenerAfter":164495283,"keepAliveIdle":20000000,"clients":[{"request":1305,"response":2594,"delay":0},{"request":230,"response":1338,"delay":0},{"request":1522,"response":931,"delay":0},{"request":466,"response":2822,"delay":0},{"request":2287,"response":84,"delay":0},{"request":531,"response":848,"delay":0},{"request":2035,"response":10,"delay":0},{"request":1447,"response":981,"delay":0},{"request":1579,"response":536,"delay":0},{"request":2959,"response":1287,"delay":0}]}]}',
  },
  {
    seed: 1267,
    what: "tcp: an old SYN,ACK (a reordered SYN retransmission answered by a new listener child) ended our TIME-WAIT as 'aborted' (fixed: acceptsNewSyn wants a SYN without ACK)",
    check: 'outcome',
    reported: false,
    plan: '{"seed":1267,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":true,"sack":false,"dsack":false,"windowScaling":true,"noDelay":true,"delayedAck":true,"sendBufferSize":4096,"receiveBufferSize":1048576,"initialCwndSegments":4}},{"name":"b","router":false,"tcp":{"timestamps":false,"sack":false,"dsack":true,"windowScaling":true,"noDelay":false,"delayedAck":true,"sendBufferSize":1024,"receiveBufferSize":4194304,"initialCwndSegments":10}}],"links":[{"name":"link1","kind":"ip","mtu":1500,"left":"a","right":"b","leftToRight":{"burst":{"pGoodToBad":0.005,"pBadToGood":0.5},"reorder":0.1,"reorderDelay":20000},"rightToLeft":{"delay":5000,"jitter":1796,"loss":0.01,"reorder":0.05,"reorderDelay":5000,"duplicate":0.005},"cut":null}],"mtuDrop":null,"workloads":[{"kind":"many-short","family":4,"port":1000,"start":498262,"concurrency":1,"connections":[{"request":1340,"response":1395,"closer":"client"},{"request":1840,"response":3722,"closer":"client"},{"request":106,"response":2718,"closer":"client"},{"request":1271,"response":959,"closer":"client"},{"request":484,"response":2121,"closer":"server"},{"request":1938,"response":3993,"closer":"server"},{"request":1557,"response":192,"closer":"client"},{"request":1826,"response":8,"closer":"client"},{"request":1893,"response":2452,"closer":"client"},{"request":5,"response":779,"closer":"client"},{"request":1265,"response":170,"closer":"server"},{"request":1675,"response":2236,"closer":"client"},{"request":1597,"response":884,"closer":"client"},{"request":230,"response":4440,"closer":"server"},{"request":1360,"response":4059,"closer":"client"},{"request":1724,"response":1168,"closer":"server"},{"request":1328,"response":1391,"closer":"server"},{"request":463,"response":861,"closer":"server"},{"request":445,"response":298,"closer":"server"}]}]}',
  },
  {
    seed: 525,
    what: 'tcp: a packet-too-big whose MTU was within 12 bytes of our packets was ignored (compared with the MSS net of timestamps), a PMTU black hole (fixed)',
    check: 'stuck',
    reported: false,
    plan: '{"seed":525,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":false,"windowScaling":true,"noDelay":true,"delayedAck":true,"sendBufferSize":16384,"receiveBufferSize":1048576,"initialCwndSegments":1}},{"name":"r1","router":true,"tcp":{}},{"name":"b","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":true,"windowScaling":true,"noDelay":false,"delayedAck":true,"sendBufferSize":4194304,"receiveBufferSize":8192,"initialCwndSegments":10}}],"links":[{"name":"link1","kind":"ethernet","mtu":1280,"left":"a","right":"r1","leftToRight":{"delay":1000,"reorder":0.05,"reorderDelay":20000},"rightToLeft":{},"cut":{"at":2110225,"duration":2712909}},{"name":"link2","kind":"ethernet","mtu":1500,"left":"r1","right":"b","leftToRight":{"loss":0.01,"corrupt":0.005},"rightToLeft":{"delay":50000,"jitter":22331,"loss":0.02,"burst":{"pGoodToBad":0.01,"pBadToGood":0.9}},"cut":null}],"mtuDrop":{"host":"r1","link":"link1","at":4608339,"mtu":1272},"workloads":[{"kind":"bulk","family":4,"port":1000,"start":368521,"clientBytes":100,"serverBytes":65536,"clientPacing":null,"serverPacing":null,"clientCloses":false},{"kind":"request-response","family":4,"port":1001,"start":1824393,"rounds":[{"request":1,"response":2000,"think":3000000},{"request":1,"response":100,"think":200000},{"request":500,"response":20000,"think":0},{"request":500,"response":20000,"think":0}]},{"kind":"abort","family":4,"port":1002,"start":1582019,"bytes":500000,"clientSends":false,"senderAborts":true,"abortAfter":439608,"keepAliveIdle":10000000}]}',
  },
  {
    seed: 533,
    what: 'harness: the receiving victim of an abort may get all data and the FIN before the RST and end normally',
    check: 'outcome',
    reported: false,
    plan: '{"seed":533,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":false,"windowScaling":false,"noDelay":false,"delayedAck":true,"sendBufferSize":1048576,"receiveBufferSize":1024,"initialCwndSegments":1}},{"name":"b","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":true,"windowScaling":true,"noDelay":false,"delayedAck":true,"sendBufferSize":1048576,"receiveBufferSize":1048576,"initialCwndSegments":10}}],"links":[{"name":"link1","kind":"ip","mtu":1006,"left":"a","right":"b","leftToRight":{"delay":50000,"jitter":16771,"loss":0.02},"rightToLeft":{"delay":5000,"jitter":1590,"loss":0.05},"cut":null}],"mtuDrop":null,"workloads":[{"kind":"abort","family":4,"port":1000,"start":164079,"bytes":50000,"clientSends":true,"senderAborts":true,"abortAfter":40640,"keepAliveIdle":2000000},{"kind":"bulk","family":4,"port":1001,"start":1073347,"clientBytes":100,"serverBytes":100,"clientPacing":null,"serverPacing":{"bytes":4096,"interval":10000},"clientCloses":false}]}',
  },
  {
    seed: 807,
    what: 'harness: the same, IPv6',
    check: 'outcome',
    reported: false,
    plan: '{"seed":807,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":true,"windowScaling":false,"noDelay":false,"delayedAck":true,"sendBufferSize":4096,"receiveBufferSize":65536,"initialCwndSegments":1}},{"name":"b","router":false,"tcp":{"timestamps":false,"sack":true,"dsack":true,"windowScaling":true,"noDelay":false,"delayedAck":true,"sendBufferSize":65536,"receiveBufferSize":8192,"initialCwndSegments":10}}],"links":[{"name":"link1","kind":"ethernet","mtu":1280,"left":"a","right":"b","leftToRight":{"delay":5000,"jitter":12,"loss":0.001},"rightToLeft":{"delay":1000,"jitter":86,"rate":1000000,"queueBytes":10352},"cut":{"at":7028506,"duration":809185}}],"mtuDrop":null,"workloads":[{"kind":"abort","family":6,"port":1000,"start":1810755,"bytes":50000,"clientSends":false,"senderAborts":true,"abortAfter":41101,"keepAliveIdle":10000000},{"kind":"udp-echo","family":6,"port":1001,"start":1379002,"bursts":[{"after":2367678,"sizes":[1000,3000,3000,1000,8000,8000,8000,100,3000,3000,8000,8000]},{"after":1450887,"sizes":[8000,100,1000,100,8000,8000,1000,3000,100,4,1000,100,1472,3000,1000,4,1472,1472,3000,8000,100,4,100,8000,1000,100,100,1472,4,1472,4,1000,8000,4,1000,3000,4]},{"after":2210029,"sizes":[4]}]},{"kind":"bulk","family":4,"port":1002,"start":715996,"clientBytes":1,"serverBytes":100,"clientPacing":null,"serverPacing":null,"clientCloses":false}]}',
  },
  {
    seed: 1442,
    what: 'harness: the same, through a router',
    check: 'outcome',
    reported: false,
    plan: '{"seed":1442,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":false,"windowScaling":false,"noDelay":false,"delayedAck":false,"sendBufferSize":65536,"receiveBufferSize":65536,"initialCwndSegments":10}},{"name":"r1","router":true,"tcp":{}},{"name":"b","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":false,"windowScaling":true,"noDelay":true,"delayedAck":true,"sendBufferSize":65536,"receiveBufferSize":262144,"initialCwndSegments":4}}],"links":[{"name":"link1","kind":"ip","mtu":9000,"left":"a","right":"r1","leftToRight":{"delay":5000,"jitter":84},"rightToLeft":{"reorder":0.1,"reorderDelay":1000},"cut":null},{"name":"link2","kind":"ip","mtu":1400,"left":"r1","right":"b","leftToRight":{"delay":100,"duplicate":0.005,"rate":1000000,"queueBytes":11200},"rightToLeft":{"delay":100,"jitter":10,"rate":100000000,"queueBytes":22400},"cut":{"at":6358092,"duration":15830765}}],"mtuDrop":null,"workloads":[{"kind":"abort","family":6,"port":1000,"start":211975,"bytes":50000,"clientSends":true,"senderAborts":true,"abortAfter":41462,"keepAliveIdle":10000000}]}',
  },
  {
    seed: 28,
    what: 'tcp: data segments with SACK blocks exceeded the MTU (the MSS left no room for the SACK option); the link refused them and both ends timed out (fixed in 68c1fe1)',
    check: 'oversize',
    reported: false,
    plan: '{"seed":28,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":false,"sack":true,"dsack":true,"windowScaling":true,"noDelay":true,"delayedAck":true,"sendBufferSize":262144,"receiveBufferSize":4194304,"initialCwndSegments":2}},{"name":"b","router":false,"tcp":{"timestamps":false,"sack":true,"dsack":false,"windowScaling":true,"noDelay":true,"delayedAck":true,"sendBufferSize":4096,"receiveBufferSize":8192,"initialCwndSegments":10}}],"links":[{"name":"link1","kind":"ip","mtu":1500,"left":"a","right":"b","leftToRight":{"reorder":0.1,"reorderDelay":5000},"rightToLeft":{"loss":0.01,"reorder":0.1,"reorderDelay":20000,"corrupt":0.001},"cut":null}],"mtuDrop":null,"workloads":[{"kind":"bulk","family":6,"port":1000,"start":1704585,"clientBytes":5000,"serverBytes":300000,"clientPacing":{"bytes":65536,"interval":10000},"serverPacing":null,"clientCloses":false}]}',
  },
  {
    seed: 475,
    what: 'tcp: the same over a 576-byte hop: the router answered fragmentation-needed for its MTU, which did not lower the MSS, and the connection died (fixed in 68c1fe1)',
    check: 'oversize',
    reported: false,
    plan: '{"seed":475,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":false,"sack":true,"dsack":true,"windowScaling":false,"noDelay":true,"delayedAck":true,"sendBufferSize":1024,"receiveBufferSize":65536,"initialCwndSegments":4}},{"name":"r1","router":true,"tcp":{}},{"name":"r2","router":true,"tcp":{}},{"name":"b","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":true,"windowScaling":true,"noDelay":true,"delayedAck":true,"sendBufferSize":16384,"receiveBufferSize":1048576,"initialCwndSegments":10}}],"links":[{"name":"link1","kind":"ip","mtu":1006,"left":"a","right":"r1","leftToRight":{"delay":20000,"jitter":5505},"rightToLeft":{"delay":5000,"jitter":1651,"loss":0.01,"burst":{"pGoodToBad":0.01,"pBadToGood":0.7},"reorder":0.1,"reorderDelay":1000,"corrupt":0.005},"cut":null},{"name":"link2","kind":"ethernet","mtu":576,"left":"r1","right":"r2","leftToRight":{"delay":1000,"loss":0.02,"rate":20000000,"queueBytes":4720},"rightToLeft":{"delay":50000,"jitter":10819,"loss":0.01},"cut":null},{"name":"link3","kind":"ip","mtu":1006,"left":"r2","right":"b","leftToRight":{},"rightToLeft":{"loss":0.02},"cut":null}],"mtuDrop":null,"workloads":[{"kind":"half-close","family":4,"port":1000,"start":1624931,"clientBytes":100000,"serverBefore":20000,"serverAfter":5000},{"kind":"request-response","family":4,"port":1001,"start":1636735,"rounds":[{"request":3000,"response":100,"think":0},{"request":3000,"response":100,"think":0},{"request":50,"response":0,"think":0},{"request":1,"response":2000,"think":0},{"request":3000,"response":20000,"think":0},{"request":1,"response":1,"think":0},{"request":500,"response":1,"think":0},{"request":3000,"response":100000,"think":0}]},{"kind":"half-close","family":4,"port":1002,"start":1697797,"clientBytes":0,"serverBefore":65536,"serverAfter":10}]}',
  },
  {
    seed: 4199,
    what: "stack/neighbor: an ARP reply damaged on the way poisoned r1's cache for ever; three connections timed out (fixed: RFC 4861 NUD re-probes a used stale entry)",
    check: 'outcome',
    reported: false,
    plan: '{"seed":4199,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":true,"sack":false,"dsack":true,"windowScaling":false,"noDelay":false,"delayedAck":true,"sendBufferSize":262144,"receiveBufferSize":4194304,"initialCwndSegments":10}},{"name":"r1","router":true,"tcp":{}},{"name":"r2","router":true,"tcp":{}},{"name":"b","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":true,"windowScaling":false,"noDelay":true,"delayedAck":true,"sendBufferSize":4096,"receiveBufferSize":1048576,"initialCwndSegments":1}}],"links":[{"name":"link1","kind":"ip","mtu":1006,"left":"a","right":"r1","leftToRight":{"burst":{"pGoodToBad":0.001,"pBadToGood":0.7}},"rightToLeft":{"loss":0.02,"corrupt":0.005},"cut":null},{"name":"link2","kind":"ethernet","mtu":1006,"left":"r1","right":"r2","leftToRight":{"loss":0.01,"reorder":0.1,"reorderDelay":20000},"rightToLeft":{"loss":0.05,"corrupt":0.02},"cut":null},{"name":"link3","kind":"ethernet","mtu":1280,"left":"r2","right":"b","leftToRight":{"delay":20000,"jitter":8704,"burst":{"pGoodToBad":0.001,"pBadToGood":0.5},"reorder":0.1,"reorderDelay":5000,"rate":1000000,"queueBytes":2588},"rightToLeft":{"reorder":0.1,"reorderDelay":1000,"duplicate":0.005},"cut":{"at":3368072,"duration":13315814}}],"mtuDrop":null,"workloads":[{"kind":"bulk","family":4,"port":1000,"start":1932469,"clientBytes":1460,"serverBytes":65536,"clientPacing":null,"serverPacing":null,"clientCloses":false},{"kind":"abort","family":4,"port":1001,"start":1918057,"bytes":200000,"clientSends":false,"senderAborts":true,"abortAfter":135167,"keepAliveIdle":30000000},{"kind":"request-response","family":4,"port":1002,"start":1929416,"rounds":[{"request":50,"response":0,"think":0},{"request":3000,"response":0,"think":0},{"request":3000,"response":1,"think":0}]}]}',
  },
  {
    seed: 2876,
    what: "tcp/stack: a new SYN on the 4-tuple of a server's TIME-WAIT (every connection from one client port) ended that finished connection as 'aborted' (fixed: abort() in TIME-WAIT answers ok, RFC 9293 §3.10.5)",
    check: 'outcome',
    reported: false,
    plan: '{"seed":2876,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":false,"sack":true,"dsack":false,"windowScaling":true,"noDelay":true,"delayedAck":true,"sendBufferSize":1024,"receiveBufferSize":2048,"initialCwndSegments":1},"maxSynBacklog":2},{"name":"b","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":true,"windowScaling":false,"noDelay":true,"delayedAck":false,"sendBufferSize":1024,"receiveBufferSize":262144,"initialCwndSegments":1},"maxSynBacklog":1024}],"links":[{"name":"link1","kind":"ip","mtu":1500,"left":"a","right":"b","leftToRight":{"delay":50000},"rightToLeft":{"corrupt":0.005},"cut":null}],"mtuDrop":null,"workloads":[{"kind":"many-short","family":6,"port":1000,"start":265345,"concurrency":1,"clientPort":31000,"connections":[{"request":308,"response":1955,"closer":"server"},{"request":1038,"response":3962,"closer":"server"},{"request":328,"response":3345,"closer":"server"},{"request":1024,"response":3416,"closer":"server"},{"request":1806,"response":1310,"closer":"server"},{"request":451,"response":3614,"closer":"server"},{"request":956,"response":2764,"closer":"server"},{"request":241,"response":2193,"closer":"server"},{"request":1612,"response":135,"closer":"server"},{"request":1629,"response":2562,"closer":"server"},{"request":94,"response":3229,"closer":"server"},{"request":402,"response":254,"closer":"server"},{"request":1842,"response":1310,"closer":"server"},{"request":1671,"response":1301,"closer":"server"},{"request":1143,"response":2552,"closer":"server"},{"request":848,"response":505,"closer":"server"},{"request":1530,"response":3881,"closer":"server"},{"request":553,"response":3777,"closer":"server"},{"request":635,"response":1700,"closer":"server"},{"request":1813,"response":816,"closer":"server"},{"request":1382,"response":802,"closer":"server"}]},{"kind":"many-short","family":6,"port":1001,"start":1296045,"concurrency":4,"clientPort":0,"connections":[{"request":256,"response":2087,"closer":"server"},{"request":668,"response":658,"closer":"server"},{"request":1893,"response":3470,"closer":"server"},{"request":186,"response":2558,"closer":"client"},{"request":634,"response":227,"closer":"client"},{"request":804,"response":4720,"closer":"server"},{"request":10,"response":4205,"closer":"server"},{"request":971,"response":298,"closer":"server"},{"request":608,"response":2026,"closer":"client"},{"request":660,"response":647,"closer":"client"},{"request":1801,"response":4328,"closer":"client"},{"request":561,"response":4020,"closer":"server"},{"request":590,"response":515,"closer":"client"},{"request":562,"response":2417,"closer":"client"},{"request":1278,"response":498,"closer":"server"},{"request":1402,"response":3991,"closer":"client"},{"request":1268,"response":1214,"closer":"server"},{"request":267,"response":3843,"closer":"server"},{"request":1999,"response":2180,"closer":"client"},{"request":1707,"response":2147,"closer":"server"},{"request":544,"response":90,"closer":"server"},{"request":796,"response":4449,"closer":"client"},{"request":1763,"response":4558,"closer":"server"},{"request":468,"response":1601,"closer":"client"},{"request":853,"response":3876,"closer":"client"},{"request":112,"response":4833,"closer":"client"},{"request":1584,"response":2802,"closer":"client"},{"request":985,"response":4593,"closer":"server"},{"request":597,"response":114,"closer":"server"},{"request":1043,"response":3988,"closer":"server"}]}]}',
  },
  {
    seed: 2527,
    what: 'stack: a SYN arriving in the same batch as the RST that ended a TIME-WAIT met the not-yet-reaped CLOSED connection and was answered with RST (fixed: CLOSED connections own no segments)',
    check: 'outcome',
    reported: false,
    plan: '{"seed":2527,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":true,"windowScaling":false,"noDelay":false,"delayedAck":true,"sendBufferSize":4194304,"receiveBufferSize":262144,"initialCwndSegments":10},"maxSynBacklog":1024},{"name":"r1","router":true,"tcp":{},"maxSynBacklog":1024},{"name":"b","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":false,"windowScaling":true,"noDelay":false,"delayedAck":true,"sendBufferSize":16384,"receiveBufferSize":65536,"initialCwndSegments":4},"maxSynBacklog":1024}],"links":[{"name":"link1","kind":"ethernet","mtu":1400,"left":"a","right":"r1","leftToRight":{"delay":1000,"reorder":0.05,"reorderDelay":20000},"rightToLeft":{"delay":50000,"jitter":19404,"duplicate":0.005},"cut":null},{"name":"link2","kind":"ip","mtu":9000,"left":"r1","right":"b","leftToRight":{"delay":20000,"reorder":0.01,"reorderDelay":5000,"corrupt":0.005},"rightToLeft":{"delay":20000,"burst":{"pGoodToBad":0.01,"pBadToGood":0.9},"reorder":0.05,"reorderDelay":1000,"rate":1000000,"queueBytes":18000},"cut":null}],"mtuDrop":{"host":"r1","link":"link1","at":4796420,"mtu":1280},"workloads":[{"kind":"many-short","family":6,"port":1000,"start":988228,"concurrency":1,"clientPort":31000,"connections":[{"request":328,"response":3057,"closer":"server"},{"request":433,"response":2978,"closer":"server"},{"request":1415,"response":1596,"closer":"server"},{"request":1764,"response":4108,"closer":"server"},{"request":1503,"response":2501,"closer":"server"},{"request":1901,"response":1885,"closer":"server"}]}]}',
  },
  {
    seed: 1670,
    what: "harness: an old duplicate of a handshake's last ACK with a still-valid SYN cookie makes a connection nobody opened; the server closes it",
    check: 'events',
    reported: false,
    plan: '{"seed":1670,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":true,"windowScaling":false,"noDelay":true,"delayedAck":true,"sendBufferSize":262144,"receiveBufferSize":2048,"initialCwndSegments":2},"maxSynBacklog":1024},{"name":"r1","router":true,"tcp":{},"maxSynBacklog":1024},{"name":"b","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":true,"windowScaling":true,"noDelay":false,"delayedAck":true,"sendBufferSize":4194304,"receiveBufferSize":262144,"initialCwndSegments":10},"maxSynBacklog":1}],"links":[{"name":"link1","kind":"ip","mtu":1500,"left":"a","right":"r1","leftToRight":{},"rightToLeft":{"delay":1000,"loss":0.001},"cut":{"at":8565327,"duration":15165669}},{"name":"link2","kind":"ethernet","mtu":9000,"left":"r1","right":"b","leftToRight":{"loss":0.02,"reorder":0.05,"reorderDelay":20000,"rate":5000000,"queueBytes":36056},"rightToLeft":{"delay":1000},"cut":null}],"mtuDrop":null,"workloads":[{"kind":"many-short","family":6,"port":1000,"start":1490031,"concurrency":4,"clientPort":0,"connections":[{"request":818,"response":2160,"closer":"server"},{"request":444,"response":2272,"closer":"server"},{"request":1077,"response":2328,"closer":"server"},{"request":1461,"response":1073,"closer":"client"},{"request":54,"response":4647,"closer":"server"},{"request":139,"response":1024,"closer":"client"},{"request":225,"response":1018,"closer":"server"},{"request":174,"response":1208,"closer":"server"},{"request":450,"response":1093,"closer":"client"}]}]}',
  },
  {
    seed: 1840,
    what: 'harness: on a zero-delay link a connection can live and die within one tick of the ISN clock; a SYN after data starts a new flow on the wire',
    check: 'counters-tcp-wire',
    reported: false,
    plan: '{"seed":1840,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":false,"sack":true,"dsack":true,"windowScaling":true,"noDelay":true,"delayedAck":true,"sendBufferSize":1048576,"receiveBufferSize":65536,"initialCwndSegments":4},"maxSynBacklog":1024},{"name":"b","router":false,"tcp":{"timestamps":false,"sack":true,"dsack":true,"windowScaling":false,"noDelay":false,"delayedAck":true,"sendBufferSize":65536,"receiveBufferSize":2048,"initialCwndSegments":4},"maxSynBacklog":2}],"links":[{"name":"link1","kind":"ethernet","mtu":1500,"left":"a","right":"b","leftToRight":{},"rightToLeft":{"burst":{"pGoodToBad":0.005,"pBadToGood":0.7}},"cut":null}],"mtuDrop":null,"workloads":[{"kind":"many-short","family":4,"port":1000,"start":1440465,"concurrency":1,"clientPort":31000,"connections":[{"request":615,"response":898,"closer":"server"},{"request":1774,"response":2536,"closer":"server"},{"request":1359,"response":107,"closer":"server"},{"request":916,"response":3073,"closer":"server"},{"request":89,"response":4538,"closer":"server"},{"request":455,"response":2163,"closer":"server"}]},{"kind":"simultaneous-close","family":4,"port":1001,"start":909812,"clientBytes":0,"serverBytes":20000}]}',
  },
  {
    seed: 9837,
    what: "harness: with a tiny SYN backlog the handshake's ACK was lost and a later data segment reached the listener first: its sequence number does not give back the SYN cookie, the listener answers RST (as Linux does) and both ends are reset",
    check: 'outcome',
    reported: false,
    plan: '{"seed":9837,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":true,"windowScaling":true,"noDelay":true,"delayedAck":true,"sendBufferSize":262144,"receiveBufferSize":262144,"initialCwndSegments":10},"maxSynBacklog":1024},{"name":"r1","router":true,"tcp":{},"maxSynBacklog":1024},{"name":"r2","router":true,"tcp":{},"maxSynBacklog":1024},{"name":"b","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":true,"windowScaling":false,"noDelay":false,"delayedAck":true,"sendBufferSize":16384,"receiveBufferSize":1048576,"initialCwndSegments":10},"maxSynBacklog":1}],"links":[{"name":"link1","kind":"ethernet","mtu":1500,"left":"a","right":"r1","leftToRight":{"delay":5000,"reorder":0.01,"reorderDelay":20000,"rate":1000000,"queueBytes":12112},"rightToLeft":{},"cut":null},{"name":"link2","kind":"ip","mtu":1006,"left":"r1","right":"r2","leftToRight":{"delay":5000,"jitter":1565,"burst":{"pGoodToBad":0.01,"pBadToGood":0.5},"rate":20000000,"queueBytes":2012},"rightToLeft":{"delay":50000,"corrupt":0.001},"cut":null},{"name":"link3","kind":"ethernet","mtu":1280,"left":"r2","right":"b","leftToRight":{"delay":20000,"jitter":59,"reorder":0.01,"reorderDelay":5000},"rightToLeft":{"delay":5000,"jitter":1960},"cut":null}],"mtuDrop":null,"workloads":[{"kind":"many-short","family":4,"port":1000,"start":1907111,"concurrency":4,"clientPort":0,"connections":[{"request":192,"response":2078,"closer":"server"},{"request":572,"response":4673,"closer":"client"},{"request":1830,"response":3801,"closer":"client"},{"request":533,"response":2133,"closer":"client"},{"request":163,"response":4634,"closer":"server"},{"request":1360,"response":4279,"closer":"client"},{"request":1092,"response":3463,"closer":"server"},{"request":1471,"response":844,"closer":"client"},{"request":588,"response":4427,"closer":"client"},{"request":1614,"response":399,"closer":"client"},{"request":1518,"response":663,"closer":"server"},{"request":465,"response":3873,"closer":"server"},{"request":633,"response":271,"closer":"server"}]},{"kind":"abort","family":4,"port":1001,"start":1178984,"bytes":500000,"clientSends":false,"senderAborts":true,"abortAfter":290211,"keepAliveIdle":10000000}]}',
  },
  {
    seed: 13657,
    what: 'harness: the same, but the listener then built the connection from the first data segment and its server waited for ever; the server application now gives up when its client was reset',
    check: 'stuck',
    reported: false,
    plan: '{"seed":13657,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":true,"sack":true,"dsack":true,"windowScaling":false,"noDelay":true,"delayedAck":true,"sendBufferSize":4194304,"receiveBufferSize":4194304,"initialCwndSegments":10},"maxSynBacklog":1024},{"name":"r1","router":true,"tcp":{},"maxSynBacklog":1024},{"name":"b","router":false,"tcp":{"timestamps":false,"sack":true,"dsack":true,"windowScaling":false,"noDelay":true,"delayedAck":true,"sendBufferSize":4096,"receiveBufferSize":262144,"initialCwndSegments":10},"maxSynBacklog":2}],"links":[{"name":"link1","kind":"ip","mtu":1500,"left":"a","right":"r1","leftToRight":{"reorder":0.05,"reorderDelay":20000,"rate":20000000,"queueBytes":3000},"rightToLeft":{"loss":0.001,"reorder":0.1,"reorderDelay":1000,"rate":20000000,"queueBytes":3000},"cut":null},{"name":"link2","kind":"ethernet","mtu":1280,"left":"r1","right":"b","leftToRight":{"delay":100,"jitter":21,"rate":100000000,"queueBytes":2588},"rightToLeft":{"loss":0.01},"cut":null}],"mtuDrop":null,"workloads":[{"kind":"half-close","family":4,"port":1000,"start":1693145,"clientBytes":100000,"serverBefore":300000,"serverAfter":100000},{"kind":"many-short","family":4,"port":1001,"start":1321519,"concurrency":30,"clientPort":0,"connections":[{"request":365,"response":4756,"closer":"client"},{"request":1185,"response":4340,"closer":"server"},{"request":618,"response":4475,"closer":"client"},{"request":1995,"response":3295,"closer":"client"},{"request":58,"response":876,"closer":"server"},{"request":1388,"response":4709,"closer":"server"},{"request":251,"response":4635,"closer":"client"},{"request":135,"response":4497,"closer":"server"},{"request":1040,"response":2206,"closer":"server"},{"request":1127,"response":2661,"closer":"server"},{"request":228,"response":3341,"closer":"client"},{"request":1849,"response":844,"closer":"server"},{"request":1104,"response":3128,"closer":"server"},{"request":379,"response":4852,"closer":"server"},{"request":57,"response":469,"closer":"client"},{"request":1685,"response":61,"closer":"server"},{"request":614,"response":98,"closer":"server"},{"request":129,"response":3008,"closer":"client"},{"request":203,"response":869,"closer":"server"},{"request":618,"response":1965,"closer":"server"},{"request":1751,"response":3101,"closer":"client"},{"request":1100,"response":4041,"closer":"server"},{"request":16,"response":174,"closer":"server"},{"request":1062,"response":2331,"closer":"client"},{"request":1660,"response":1998,"closer":"server"},{"request":179,"response":2038,"closer":"server"},{"request":1158,"response":362,"closer":"server"}]}]}',
  },
  {
    seed: 9920,
    what: "harness: two fragments of one datagram each damaged so that the errors cancel in the UDP checksum (RFC 1071): damage the checksum cannot see is not the stack's fault",
    check: 'udp',
    reported: false,
    plan: '{"seed":9920,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":true,"sack":false,"dsack":false,"windowScaling":false,"noDelay":false,"delayedAck":true,"sendBufferSize":1048576,"receiveBufferSize":8192,"initialCwndSegments":4},"maxSynBacklog":1024},{"name":"r1","router":true,"tcp":{},"maxSynBacklog":1024},{"name":"b","router":false,"tcp":{"timestamps":false,"sack":false,"dsack":true,"windowScaling":true,"noDelay":true,"delayedAck":false,"sendBufferSize":65536,"receiveBufferSize":262144,"initialCwndSegments":10},"maxSynBacklog":2}],"links":[{"name":"link1","kind":"ip","mtu":1500,"left":"a","right":"r1","leftToRight":{"delay":1000,"corrupt":0.02},"rightToLeft":{"delay":100,"jitter":35,"reorder":0.1,"reorderDelay":20000,"rate":20000000,"queueBytes":6000},"cut":null},{"name":"link2","kind":"ip","mtu":9000,"left":"r1","right":"b","leftToRight":{"loss":0.01,"reorder":0.1,"reorderDelay":5000},"rightToLeft":{"delay":100,"jitter":16,"loss":0.05},"cut":null}],"mtuDrop":null,"workloads":[{"kind":"udp-echo","family":4,"port":1000,"start":1755590,"bursts":[{"after":1579904,"sizes":[100,8000,3000,4,8000,1000,100,8000,1000,4,8000,100]},{"after":3470420,"sizes":[100,100,3000,1472,8000,1000,100,8000,4,1472,4,1000,1472,4]},{"after":2576573,"sizes":[100,4,100,3000,100,8000,3000,4,4,1472,1000]},{"after":2812519,"sizes":[1472,1472,1000,100,8000,100,1000,3000,3000,8000,8000,3000,4,3000,100,1472,8000,3000,1000,8000,8000,1000,1000,4,4]}]},{"kind":"bulk","family":4,"port":1001,"start":1746526,"clientBytes":100000,"serverBytes":300000,"clientPacing":null,"serverPacing":null,"clientCloses":false}]}',
  },
  {
    seed: 289,
    what: 'tcp: a receive window open but smaller than a segment (a 2 KB buffer, window scale 10) held the sender back by SWS avoidance, and its persist probes carried no data; the receiver, its buffer empty, never opened further (fixed: the probe sends what the window takes, as tcp_write_wakeup)',
    check: 'stuck',
    reported: false,
    plan: '{"seed":289,"hosts":[{"name":"a","router":false,"tcp":{"timestamps":false,"sack":true,"dsack":true,"windowScaling":true,"noDelay":false,"delayedAck":true,"sendBufferSize":1048576,"receiveBufferSize":2048,"initialCwndSegments":10},"maxSynBacklog":1024},{"name":"b","router":false,"tcp":{"timestamps":true,"sack":false,"dsack":true,"windowScaling":true,"noDelay":false,"delayedAck":true,"sendBufferSize":16384,"receiveBufferSize":4194304,"initialCwndSegments":10},"maxSynBacklog":1}],"links":[{"name":"link1","kind":"ethernet","mtu":1500,"left":"a","right":"b","leftToRight":{"loss":0.001,"rate":5000000,"queueBytes":24224},"rightToLeft":{"delay":20000,"jitter":2347,"loss":0.01,"rate":5000000,"queueBytes":3028},"cut":null}],"mtuDrop":null,"workloads":[{"kind":"udp-echo","family":6,"port":1000,"start":104866,"bursts":[{"after":4656571,"sizes":[3000,3000,3000,100,1472,100,3000,8000,3000,100,3000,1472,4,1000,100,4,8000,1000,8000,8000,1472,1472,100,4,3000,1472,8000,4,1000,4,100,1000,100,4,8000,100,3000,3000,1000]}]},{"kind":"many-short","family":6,"port":1001,"start":307655,"concurrency":1,"clientPort":0,"connections":[{"request":79,"response":2117,"closer":"client"},{"request":956,"response":2497,"closer":"server"},{"request":526,"response":96,"closer":"client"},{"request":320,"response":3315,"closer":"server"},{"request":363,"response":436,"closer":"client"},{"request":360,"response":773,"closer":"server"},{"request":1146,"response":2980,"closer":"client"},{"request":1774,"response":4115,"closer":"client"},{"request":77,"response":4275,"closer":"client"},{"request":129,"response":3138,"closer":"client"},{"request":1968,"response":159,"closer":"client"}]},{"kind":"simultaneous-open","family":6,"portA":21002,"portB":26002,"start":623274,"aBytes":1460,"bBytes":300000}]}',
  },
];

for (const r of REGRESSIONS) {
  const plan = JSON.parse(r.plan) as ScenarioPlan;
  if (!r.reported) {
    test(`seed ${r.seed}: ${r.what}`, () => {
      const result = runPlan(plan);
      assert.ok(result.ok, explain(result, plan));
      assert.ok(!result.failures.some((f) => f.check === r.check));
    });
    continue;
  }
  test(`seed ${r.seed}: the run sees the known issue it found`, () => {
    // Until the bug is fixed the run passes as known, and names the check.
    const result = runPlan(plan);
    assert.ok(result.ok, explain(result, plan));
    const known = result.known.map((f) => f.check);
    assert.ok(
      known.includes(r.check) || KNOWN_ISSUES[r.check] === undefined,
      `expected the known issue '${r.check}', got ${known.join(', ')}`,
    );
  });
  test(
    `seed ${r.seed}: ${r.what}`,
    { todo: `reported: ${KNOWN_ISSUES[r.check]?.issue ?? r.check}` },
    () => {
      const result = runPlan(plan, { strict: true });
      assert.ok(result.ok, explain(result, plan));
    },
  );
}

// ---------------------------------------------------------------- the invariants have teeth

/** Two hosts on one clean Ethernet link, 100 kB each way on one connection. */
function simplePlan(): ScenarioPlan {
  return {
    seed: 42,
    hosts: [
      { name: 'a', router: false, tcp: {}, maxSynBacklog: 1024 },
      { name: 'b', router: false, tcp: {}, maxSynBacklog: 1024 },
    ],
    links: [
      {
        name: 'link1',
        kind: 'ethernet',
        mtu: 1500,
        left: 'a',
        right: 'b',
        leftToRight: { delay: 5000 as never, loss: 0.01 },
        rightToLeft: { delay: 5000 as never, reorder: 0.05 },
        cut: null,
      },
    ],
    mtuDrop: null,
    workloads: [
      {
        kind: 'bulk',
        family: 4,
        port: 1000,
        start: 0,
        clientBytes: 100_000,
        serverBytes: 100_000,
        clientPacing: null,
        serverPacing: null,
        clientCloses: false,
      },
    ],
  };
}

/** Runs the simple plan with `patch` applied, then undoes it; returns the checks that failed. */
function checksFailedWith(patch: () => () => void): string[] {
  const undo = patch();
  try {
    const result = runPlan(simplePlan(), { strict: true });
    return [...new Set(result.failures.map((f) => f.check))];
  } finally {
    undo();
  }
}

test('the unpatched simple plan passes (the baseline of the tests below)', () => {
  const result = runPlan(simplePlan(), { strict: true });
  const checks = result.failures.map((f) => f.check);
  // Out-of-order bytes are counted twice by bytesReceived (a known issue) with this reordering.
  assert.deepEqual(
    checks.filter((c) => c !== 'counters-bytes-received'),
    [],
    result.failures.map((f) => f.message).join('\n'),
  );
  assert.equal(result.totals.bytesDelivered, 200_000);
});

test('the invariants catch a byte changed on its way to the application', () => {
  const failed = checksFailedWith(() => {
    const read = TcpSocket.prototype.read;
    let calls = 0;
    TcpSocket.prototype.read = function (this: TcpSocket, dst: Uint8Array): number {
      const n = read.call(this, dst);
      if (n > 0 && ++calls === 5) dst[n - 1] = dst[n - 1]! ^ 0x10;
      return n;
    };
    return () => {
      TcpSocket.prototype.read = read;
    };
  });
  assert.ok(failed.includes('data'), failed.join(', '));
});

test('the invariants catch TCP counters that disagree with the wire', () => {
  const failed = checksFailedWith(() => {
    const stats = Connection.prototype.stats;
    Connection.prototype.stats = function (this: Connection) {
      const s = stats.call(this);
      return { ...s, bytesRetransmitted: s.bytesRetransmitted + 1 };
    };
    return () => {
      Connection.prototype.stats = stats;
    };
  });
  assert.ok(failed.includes('counters-tcp-wire'), failed.join(', '));
});

test('the invariants catch interface counters that disagree with the link', () => {
  const failed = checksFailedWith(() => {
    const stats = Stack.prototype.stats;
    Stack.prototype.stats = function (this: Stack) {
      const s = stats.call(this);
      return { ...s, interfaces: s.interfaces.map((i) => ({ ...i, framesIn: i.framesIn + 1 })) };
    };
    return () => {
      Stack.prototype.stats = stats;
    };
  });
  assert.ok(failed.includes('counters-interface'), failed.join(', '));
});

test('the invariants catch a connection that never ends', () => {
  const failed = checksFailedWith(() => {
    // Swallow every FIN the connections send: nobody ever sees the other side close.
    const poll = Connection.prototype.pollTransmit;
    Connection.prototype.pollTransmit = function (this: Connection, now) {
      const seg = poll.call(this, now);
      if (seg !== null) seg.flags &= ~0x01;
      return seg;
    };
    return () => {
      Connection.prototype.pollTransmit = poll;
    };
  });
  assert.ok(failed.includes('outcome') || failed.includes('stuck'), failed.join(', '));
});

test('the invariants catch an event after closed', () => {
  const failed = checksFailedWith(() => {
    const pollEvent = Connection.prototype.pollEvent;
    const extra = new WeakSet<Connection>();
    Connection.prototype.pollEvent = function (this: Connection) {
      const e = pollEvent.call(this);
      if (e === null && this.isClosed && !extra.has(this)) {
        extra.add(this);
        return { type: 'readable' };
      }
      return e;
    };
    return () => {
      Connection.prototype.pollEvent = pollEvent;
    };
  });
  assert.ok(failed.includes('events'), failed.join(', '));
});

test('bytesReceived counts each byte once, also bytes that arrived out of order', () => {
  // Loss and reordering on the simple plan make the receivers hold out-of-order data.
  const result = runPlan(simplePlan(), { strict: true });
  const wrong = result.failures.filter((f) => f.check === 'counters-bytes-received');
  assert.deepEqual(
    wrong.map((f) => f.message),
    [],
  );
});

/** a - r1 - b, clean links, the middle one narrower; b echoes 1400-byte datagrams. */
function narrowHopUdpPlan(family: 4 | 6): ScenarioPlan {
  const link = (name: string, left: string, right: string, mtu: number) => ({
    name,
    kind: 'ip' as const,
    mtu,
    left,
    right,
    leftToRight: {},
    rightToLeft: {},
    cut: null,
  });
  return {
    seed: 43,
    hosts: [
      { name: 'a', router: false, tcp: {}, maxSynBacklog: 1024 },
      { name: 'r1', router: true, tcp: {}, maxSynBacklog: 1024 },
      { name: 'b', router: false, tcp: {}, maxSynBacklog: 1024 },
    ],
    links: [link('link1', 'a', 'r1', 1500), link('link2', 'r1', 'b', 1280)],
    mtuDrop: null,
    workloads: [
      {
        kind: 'udp-echo',
        family,
        port: 1000,
        start: 0,
        bursts: [
          { after: 0, sizes: [1400] },
          { after: 1_000_000, sizes: [1400, 1400] },
          { after: 2_000_000, sizes: [1400, 1400] },
        ],
      },
    ],
  };
}

test('UDP over a narrower hop: IPv4 routers fragment, IPv6 senders learn the path MTU', () => {
  for (const family of [4, 6] as const) {
    const result = runPlan(narrowHopUdpPlan(family), { strict: true });
    assert.ok(result.ok, result.failures.map((f) => f.message).join('\n'));
    // IPv4 routers fragment DF-clear datagrams (RFC 1812 §5.2.6), so all five arrive. An IPv6
    // router never fragments: the first datagram is dropped with packet-too-big, which teaches
    // the sender the path MTU (RFC 8201 §4); UDP does not resend it, the other four fit.
    const expected = family === 4 ? 5 : 4;
    assert.equal(result.totals.datagramsEchoed, expected, `IPv${family}: datagrams echoed`);
  }
});
