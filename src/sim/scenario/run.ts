/**
 * The run: the state one run of a plan shares between its parts (the
 * network, hosts, links, peers, workloads, failures, the trace), and the
 * loop that runs the workloads to their end in virtual time, lets the
 * network fall quiet and calls the checks.
 */
import { SeededRng, later, seconds, type Duration, type Instant } from '../../base/index.js';
import { Network, type SimHost } from '../network.js';
import { scheduleFaults } from './faults.js';
import { planScenario } from './generate.js';
import { HostApp } from './host-app.js';
import { checkAlways, checkEnd } from './invariants.js';
import type { Peer } from './peer.js';
import type { ScenarioPlan } from './plan.js';
import { resultOf, type ScenarioFailure, type ScenarioResult } from './report.js';
import { withDefaults } from './saved.js';
import { address, buildTopology, type BuiltLink } from './topology.js';
import type { TcpWireLedger } from './wire-ledger.js';
import { makeWorkload, type Endpoints, type Workload } from './workloads/index.js';

/** Options of {@link runScenario} and {@link runPlan}. */
export interface ScenarioOptions {
  /** Record a pcap of every link (the wire between its two ends). Default false. */
  capture?: boolean;
  /** Receives one line per notable event: connections, state changes, cuts. */
  trace?: ((line: string) => void) | null;
  /** Count the {@link KNOWN_ISSUES} as failures too. Default false. */
  strict?: boolean;
  /** Virtual time the workloads may take; default 3 hours. */
  timeLimit?: Duration;
  /** For {@link runScenario}: the congestion controls a plan may give its hosts (PlanOptions). */
  congestionControls?: readonly string[];
}

/**
 * One run of a plan: what its parts share (the network and its hosts and
 * links, the peers and workloads, the failures found, the trace).
 */
export class Run {
  readonly plan: ScenarioPlan;
  readonly net: Network;
  readonly peers: Peer[] = [];
  readonly failures: ScenarioFailure[] = [];
  readonly tracing: boolean;
  private readonly trace: ((line: string) => void) | null;
  private readonly apps = new Map<SimHost, HostApp>();
  readonly hosts = new Map<string, SimHost>();
  readonly links: BuiltLink[] = [];
  readonly ledgers = new Map<SimHost, TcpWireLedger>();
  readonly workloads: Workload[] = [];
  private readonly keyRng: SeededRng;
  /** Frames bigger than their link's MTU that a stack handed over (see topology.ts). */
  oversize = 0;
  /** Connections reset by a failed SYN cookie (see Peer.cookieSuspect). */
  cookieResets = 0;
  /** Connections accepted that no client opened (see TcpWorkload.stray). */
  strays = 0;
  /** Connects that ended `unreachable` for a cut and were tried again (see unreachable.ts). */
  unreachableRetries = 0;

  constructor(plan: ScenarioPlan, options: ScenarioOptions) {
    this.plan = plan;
    this.trace = options.trace ?? null;
    this.tracing = this.trace !== null;
    this.net = new Network({ seed: plan.seed });
    this.keyRng = new SeededRng((plan.seed ^ 0x6a09e667) >>> 0);
    buildTopology(this, options.capture ?? false);
    scheduleFaults(this);
  }

  nextKey(): number {
    return this.keyRng.nextU32();
  }

  appOf(host: SimHost): HostApp {
    let app = this.apps.get(host);
    if (app === undefined) {
      app = new HostApp(this, host);
      this.apps.set(host, app);
      const bound = app;
      host.onEvent = (e, now) => bound.onEvent(e, now);
    }
    return app;
  }

  fail(check: string, message: string): void {
    // A broken run can repeat one complaint thousands of times; keep the first few.
    if (this.failures.length < 50) this.failures.push({ check, message });
  }

  log(now: Instant, line: string): void {
    if (this.trace !== null) this.trace(`[${(now / 1e6).toFixed(6)}] ${line}`);
  }

  /** Sets up the workloads, each starting at its time. */
  setupWorkloads(): void {
    const a = this.hosts.get('a')!;
    const b = this.hosts.get('b')!;
    const n = this.plan.links.length;
    this.plan.workloads.forEach((w, i) => {
      const ends: Endpoints = {
        a,
        b,
        aAddress: address(1, 1, w.family),
        bAddress: address(n, 2, w.family),
      };
      const name = `w${i}:${w.kind}/v${w.family}`;
      const workload = makeWorkload(this, w, name, ends);
      this.workloads.push(workload);
      this.net.schedule(w.start as Instant, (now) => {
        this.log(now, `${name} starts`);
        workload.start(now);
      });
    });
  }

  allDone(): boolean {
    for (const w of this.workloads) if (!w.done()) return false;
    return true;
  }
}

/**
 * Runs a plan and checks every invariant (see ./index.ts). Never
 * throws: an exception inside the run is itself a failure ('exception').
 */
export function runPlan(saved: ScenarioPlan, options: ScenarioOptions = {}): ScenarioResult {
  const plan = withDefaults(saved);
  const limit = options.timeLimit ?? seconds(3 * 3600);
  let run: Run | null = null;
  const early: ScenarioFailure[] = [];
  try {
    run = new Run(plan, options);
    const r = run;
    r.setupWorkloads();
    const finished = r.net.runUntil(() => r.allDone(), later(0 as Instant, limit));
    if (!finished) {
      const open = r.peers.filter((p) => !p.finished).slice(0, 5);
      r.fail(
        'stuck',
        `the workloads did not finish by ${(r.net.now / 1e6).toFixed(1)} s of virtual time` +
          (open.length > 0
            ? `: ${open.map((p) => `${p.label} in ${p.socket.state} at step ${p.pc}/${p.script.length}, read ${p.received}/${p.recvLength}`).join('; ')}`
            : ''),
      );
    } else {
      for (const w of r.workloads) w.finish(r.net.now);
      // Let TIME-WAIT, neighbour and fragment timers run out: the network must fall quiet.
      r.net.runUntil(() => false, (r.net.now + seconds(2 * 3600)) as Instant);
    }
    if (finished) checkEnd(r);
    checkAlways(r);
  } catch (e) {
    const message =
      e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 6).join('\n') : String(e);
    (run?.failures ?? early).push({ check: 'exception', message });
  }
  return resultOf(plan, run?.failures ?? early, run, options.strict ?? false);
}

/** Plans the scenario of `seed` and runs it: the one call behind `tcpts sim` and `tcpts soak`. */
export function runScenario(seed: number, options: ScenarioOptions = {}): ScenarioResult {
  const congestionControls = options.congestionControls;
  return runPlan(
    planScenario(seed, congestionControls !== undefined ? { congestionControls } : {}),
    options,
  );
}
