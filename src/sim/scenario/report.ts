/**
 * What a run reports: the result (failures apart from known issues, a
 * summary per workload and link, the captures, totals) and the command
 * that reproduces a seed.
 */
import type { Instant } from '../../base/index.js';
import type { LinkKind } from '../../link/index.js';
import { KNOWN_ISSUES } from './known-issues.js';
import type { ScenarioPlan } from './plan.js';
import type { Run } from './run.js';
import { UdpEcho } from './workloads/index.js';

/** One broken invariant. */
export interface ScenarioFailure {
  /** Which invariant (listed in ./index.ts): 'data', 'outcome', 'tables', ... */
  check: string;
  message: string;
}

/** The capture of one link: the wire between its ends, both ways. */
export interface LinkCapture {
  name: string;
  kind: LinkKind;
  /** A complete pcap file. */
  bytes: Uint8Array;
}

/** What a run found. */
export interface ScenarioResult {
  seed: number;
  plan: ScenarioPlan;
  /** No failure outside {@link KNOWN_ISSUES} (or none at all with `strict`). */
  ok: boolean;
  failures: ScenarioFailure[];
  /** Failures of checks listed in {@link KNOWN_ISSUES}, reported but not failing the run. */
  known: ScenarioFailure[];
  /** Virtual time at the end. */
  virtualTime: Instant;
  /** Simulator steps taken. */
  steps: number;
  /** What happened, one line per workload and link. */
  summary: string[];
  /** One pcap per link when `capture` was set, else empty. */
  captures: LinkCapture[];
  /** Totals across the run. */
  totals: {
    connections: number;
    bytesDelivered: number;
    datagramsEchoed: number;
    tcpSegmentsOnWire: number;
    /** Connections accepted that no client opened (old handshake ACKs meeting a valid SYN cookie). */
    strays: number;
    /** Connects that ended `unreachable` during a cut and were tried again (see unreachable.ts). */
    unreachableRetries: number;
  };
}

/** The one-line command that runs a seed again. */
export function reproduceCommand(seed: number): string {
  return `tcpts sim --seed ${seed}`;
}

/**
 * The result of a run (`run` is null when building it threw): failures of
 * checks listed in KNOWN_ISSUES are set apart unless `strict`.
 */
export function resultOf(
  plan: ScenarioPlan,
  all: ScenarioFailure[],
  run: Run | null,
  strict: boolean,
): ScenarioResult {
  const tainted = !strict && all.some((f) => KNOWN_ISSUES[f.check]?.taints === true);
  const isKnown = (f: ScenarioFailure): boolean =>
    !strict && (tainted || KNOWN_ISSUES[f.check] !== undefined);
  const failures = all.filter((f) => !isKnown(f));
  const known = all.filter(isKnown);
  let bytesDelivered = 0;
  let datagramsEchoed = 0;
  let tcpSegmentsOnWire = 0;
  const captures: LinkCapture[] = [];
  let summary: string[] = [];
  if (run !== null) {
    for (const p of run.peers) bytesDelivered += p.received;
    for (const w of run.workloads) if (w instanceof UdpEcho) datagramsEchoed += w.datagramsEchoed;
    for (const l of run.ledgers.values()) tcpSegmentsOnWire += l.segments;
    for (const l of run.links)
      if (l.tap !== null)
        captures.push({ name: l.plan.name, kind: l.plan.kind, bytes: l.tap.bytes() });
    try {
      summary = summarize(run);
    } catch (e) {
      summary = [`(no summary: ${String(e)})`];
    }
  }
  return {
    seed: plan.seed,
    plan,
    ok: failures.length === 0,
    failures,
    known,
    virtualTime: run?.net.now ?? (0 as Instant),
    steps: run?.net.steps ?? 0,
    summary,
    captures,
    totals: {
      connections: run?.peers.length ?? 0,
      bytesDelivered,
      datagramsEchoed,
      tcpSegmentsOnWire,
      strays: run?.strays ?? 0,
      unreachableRetries: run?.unreachableRetries ?? 0,
    },
  };
}

/** What happened: one line per workload, per link direction, and per host that dropped packets. */
function summarize(run: Run): string[] {
  const lines: string[] = [];
  for (const w of run.workloads) lines.push(w.describe());
  for (const l of run.links) {
    for (const [from, to] of [
      [l.left, l.right],
      [l.right, l.left],
    ] as const) {
      const s = from.link.stats();
      const imp = from.link.impairStats().outgoing;
      const drops = Object.entries(s.drops)
        .filter(([, v]) => v > 0)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ');
      lines.push(
        `${l.plan.name} ${from.host.name}->${to.host.name}: ${from.observer.framesOut} frames` +
          (drops.length > 0 ? `, dropped ${drops}` : '') +
          (imp.duplicated > 0 ? `, ${imp.duplicated} duplicated` : '') +
          (imp.corrupted > 0 ? `, ${imp.corrupted} corrupted` : '') +
          (imp.reordered > 0 ? `, ${imp.reordered} reordered` : ''),
      );
    }
  }
  for (const host of run.hosts.values()) {
    const d = Object.entries(host.stack.stats().drops)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ');
    if (d.length > 0) lines.push(`${host.name} stack drops: ${d}`);
  }
  return lines;
}
