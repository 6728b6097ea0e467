/**
 * The tcpts page: TCP at work, live. A scenario runs the real stack on the
 * simulator in virtual time (the same scenes and runner as `tcpts demo`),
 * or a capture the reader opens is read in the page (never uploaded); either
 * way the connection is drawn as a ladder, stepped packet by packet, with
 * each side's state lit on RFC 9293's state diagram, the selected segment's
 * header fields, the time–sequence plot, and why each segment was sent.
 */
import { runDemo, SCENARIOS, type ScenarioName } from '../src/cli/demo/pure.js';
import { ladderFromCapture, type CaptureConnection } from '../src/cli/ladder-capture.js';
import type { LadderDiagram, LadderPacket } from '../src/cli/ladder-model.js';
import { plotFromCapture, plotFromSamples } from '../src/cli/plot-model.js';
import { renderPlotSvg } from '../src/cli/plot-svg.js';
import {
  analyseSegments,
  roleInputOfPacket,
  type SegmentAnalysis,
} from '../src/cli/segment-roles.js';
import { renderLadderSvg } from '../src/cli/svg.js';
import { drawStateDiagram, LATER_STATES } from './state-diagram.js';
import { statesByStep, type StepStates } from './steps.js';

/** Everything one view (a scenario run or a capture's connection) shows. */
interface View {
  title: string;
  caption: string[];
  diagram: LadderDiagram;
  roles: SegmentAnalysis[];
  /** Frame numbers (1-based) of a capture's packets; null for a scenario. */
  frames: number[] | null;
  plotSvg: string | null;
  steps: StepStates[];
}

const SCENARIO_TITLES: Record<ScenarioName, string> = {
  handshake: 'Handshake, data and the four-way close',
  transfer: 'A transfer (loss, delay, bandwidth)',
  'half-close': 'Half-close',
  'old-duplicate-syn': 'An old duplicate SYN',
  'simultaneous-open': 'Simultaneous open',
  'simultaneous-close': 'Simultaneous close',
  reset: 'Reset',
};

/** Samples of the client connection kept for the plot (TcpConfig.recordSamples). */
const PLOT_SAMPLES = 50_000;
/** Milliseconds between steps while playing. */
const PLAY_INTERVAL_MS = 900;

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`the page has no #${id}`);
  return node as T;
}

const ui = {
  scenario: byId<HTMLSelectElement>('scenario'),
  loss: byId<HTMLInputElement>('loss'),
  delay: byId<HTMLInputElement>('delay'),
  rate: byId<HTMLInputElement>('rate'),
  bytes: byId<HTMLInputElement>('bytes'),
  seed: byId<HTMLInputElement>('seed'),
  run: byId<HTMLButtonElement>('run'),
  back: byId<HTMLButtonElement>('step-back'),
  forward: byId<HTMLButtonElement>('step-forward'),
  play: byId<HTMLButtonElement>('play'),
  first: byId<HTMLButtonElement>('step-first'),
  last: byId<HTMLButtonElement>('step-last'),
  stepLabel: byId('step-label'),
  title: byId('view-title'),
  caption: byId('caption'),
  why: byId('why'),
  clientState: byId('client-state'),
  serverState: byId('server-state'),
  ladder: byId('ladder'),
  figure: byId('state-figure'),
  fields: byId('fields'),
  plot: byId('plot'),
  packets: byId<HTMLTableSectionElement>('packets'),
  file: byId<HTMLInputElement>('file'),
  drop: byId('drop'),
  captureInfo: byId('capture-info'),
  connections: byId<HTMLTableSectionElement>('connections'),
  expert: byId<HTMLTableSectionElement>('expert'),
  error: byId('error'),
};

const figure = drawStateDiagram();
ui.figure.append(figure.svg);

let view: View | null = null;
let step = 0;
let timer: ReturnType<typeof setInterval> | null = null;

// ---------------------------------------------------------------- views

function roleOfPackets(diagram: LadderDiagram): SegmentAnalysis[] {
  return analyseSegments(diagram.packets.map((p) => roleInputOfPacket(p, 'client')));
}

function scenarioView(): View {
  const scenario = ui.scenario.value as ScenarioName;
  const bytes = Number(ui.bytes.value);
  const result = runDemo({
    scenario,
    seed: Number(ui.seed.value) || 1,
    loss: Number(ui.loss.value) / 100,
    delayMs: Number(ui.delay.value),
    rateMbps: Number(ui.rate.value),
    ...(scenario === 'transfer' ? { bytes } : {}),
    recordSamples: scenario === 'transfer' ? PLOT_SAMPLES : 0,
  });
  const samples = result.samples;
  const plotSvg =
    samples !== null && samples.list.length > 0
      ? renderPlotSvg(plotFromSamples(samples.list, samples.dropped), {
          title: 'client → server: time–sequence, cwnd and RTT',
        })
      : null;
  const summary = result.summary;
  return {
    title: `${SCENARIO_TITLES[scenario]} — ${summary.packets} packets, ${summary.lost} lost, ${summary.retransmissions} retransmitted; ${result.rerun}`,
    caption: result.caption,
    diagram: result.diagram,
    roles: roleOfPackets(result.diagram),
    frames: null,
    plotSvg,
    steps: statesByStep(result.diagram),
  };
}

// ---------------------------------------------------------------- drawing

function text(tag: string, content: string, className?: string): HTMLElement {
  const node = document.createElement(tag);
  node.textContent = content;
  if (className !== undefined) node.className = className;
  return node;
}

function roleName(a: SegmentAnalysis): string {
  return a.role.replace(/-/g, ' ') + (a.sack ? ' + SACK' : '');
}

function showView(next: View): void {
  stop();
  view = next;
  ui.title.textContent = next.title;
  ui.caption.replaceChildren(...next.caption.map((line) => text('span', `${line} `)));
  ui.ladder.innerHTML = renderLadderSvg(next.diagram).replace(/^<\?xml[^>]*>\s*/, '');
  ui.plot.innerHTML =
    next.plotSvg === null
      ? '<p class="muted">The plot is drawn for the transfer scenario and for captures with data.</p>'
      : next.plotSvg.replace(/^<\?xml[^>]*>\s*/, '');
  const rows = next.diagram.packets.map((p, i) => {
    const row = document.createElement('tr');
    row.tabIndex = 0;
    row.dataset.step = String(i + 1);
    row.dataset.role = next.roles[i]!.role;
    row.dataset.expert = next.roles[i]!.expert.join('|');
    if (next.frames !== null) row.dataset.frame = String(next.frames[i]);
    const time = p.sentAt ?? p.arrivedAt ?? 0;
    row.append(
      text('td', next.frames === null ? String(p.number) : String(next.frames[i])),
      text('td', (time / 1000).toFixed(3)),
      text('td', p.from === 'client' ? 'client → server' : 'server → client'),
      text('td', p.note === null ? p.label : `${p.label} (${p.note})`, 'mono'),
      text('td', roleName(next.roles[i]!), `role role-${next.roles[i]!.role}`),
      text('td', next.roles[i]!.expert.join(', ')),
    );
    row.addEventListener('click', () => goTo(i + 1));
    row.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') goTo(i + 1);
    });
    return row;
  });
  ui.packets.replaceChildren(...rows);
  goTo(next.frames === null ? 0 : 1);
}

function fieldRows(p: LadderPacket, d: LadderDiagram, a: SegmentAnalysis): Array<[string, string]> {
  const src = p.from === 'client' ? d.client : d.server;
  const dst = p.from === 'client' ? d.server : d.client;
  const flagBits = a ? p.tcpdumpFlags : '';
  return [
    ['Source port', String(src.port)],
    ['Destination port', String(dst.port)],
    ['Sequence number', `${p.relativeSeq} (relative)   raw ${p.seq}`],
    [
      'Acknowledgment number',
      p.flags.includes('ACK') ? `${p.relativeAck} (relative)   raw ${p.ack}` : '0 (ACK not set)',
    ],
    ['Flags', `${p.flags} [${flagBits}]`],
    ['Window', String(p.window)],
    ['Options', p.options === '' ? '(none)' : p.options],
    ['TCP segment data', `${p.length} byte(s)`],
    [
      '[SEQ/ACK analysis]',
      a.expert.length === 0 ? roleName(a) : `${roleName(a)}: ${a.expert.join(', ')}`,
    ],
    ['Sent', p.sentAt === null ? 'not seen' : `${(p.sentAt / 1000).toFixed(3)} ms`],
    [
      'Arrived',
      p.lost
        ? 'lost'
        : p.arrivedAt === null
          ? 'not seen'
          : `${(p.arrivedAt / 1000).toFixed(3)} ms${p.estimated ? ' (estimated)' : ''}`,
    ],
  ];
}

function goTo(n: number): void {
  if (view === null) return;
  const total = view.diagram.packets.length;
  step = Math.max(0, Math.min(total, n));
  const states = view.steps[step]!;
  ui.stepLabel.textContent =
    step === 0 ? `before the first packet (of ${total})` : `packet ${step} of ${total}`;
  ui.stepLabel.dataset.step = String(step);
  ui.clientState.textContent = states.client;
  ui.serverState.textContent = states.server;
  // aria-disabled rather than disabled: a disabled button would drop the keyboard focus.
  for (const [button, off] of [
    [ui.back, step === 0],
    [ui.first, step === 0],
    [ui.forward, step === total],
    [ui.last, step === total],
  ] as const)
    button.setAttribute('aria-disabled', String(off));
  const passed = { client: false, server: false };
  for (let i = 0; i <= step; i++) {
    for (const side of ['client', 'server'] as const)
      if (LATER_STATES.has(view.steps[i]![side])) passed[side] = true;
  }
  figure.show(states, states.previous, passed);

  // The ladder: packets up to this step drawn, the current one bold, the rest faint.
  let cutoff = Number.NEGATIVE_INFINITY;
  for (const node of ui.ladder.querySelectorAll<SVGElement>('[data-packet]')) {
    const number = Number(node.dataset.packet);
    node.classList.toggle('future', number > step);
    node.classList.toggle('current', number === step);
    if (number === step && node.tagName === 'line') {
      const line = node as SVGLineElement;
      cutoff = Math.max(line.y1.baseVal.value, line.y2.baseVal.value);
    }
  }
  if (step === 0) cutoff = 0;
  for (const node of ui.ladder.querySelectorAll<SVGTextElement>(
    'text.state, text.time, text.cause',
  )) {
    const y = node.y.baseVal[0]?.value ?? 0;
    node.classList.toggle('future', step < total && y > cutoff + 6);
  }
  // Keep the current arrow in the middle of the ladder's scrolling box.
  const current = ui.ladder.querySelector<SVGElement>('line.current');
  if (current !== null) {
    const box = ui.ladder.getBoundingClientRect();
    const line = current.getBoundingClientRect();
    const middle = line.top + line.height / 2 - box.top;
    if (middle < box.height * 0.15 || middle > box.height * 0.85)
      ui.ladder.scrollTop += middle - box.height / 2;
  } else if (step === 0) ui.ladder.scrollTop = 0;

  for (const row of ui.packets.querySelectorAll('tr')) {
    row.classList.toggle('selected', Number(row.dataset.step) === step);
  }

  if (step === 0) {
    ui.why.replaceChildren(
      text(
        'p',
        'Before the first packet. Step forward (→) to send it; the caption above says what to watch for.',
      ),
    );
    ui.fields.replaceChildren(text('p', 'Select a packet to see its header.', 'muted'));
    return;
  }
  const packet = view.diagram.packets[step - 1]!;
  const analysis = view.roles[step - 1]!;
  const why: HTMLElement[] = [
    text(
      'h3',
      `${packet.from === 'client' ? 'client → server' : 'server → client'}: ${packet.flags}${packet.note === null ? '' : ` (${packet.note})`}`,
    ),
  ];
  // An injected old SYN repeats no byte of this connection: its story replaces the role's.
  if (packet.note !== 'old duplicate') why.push(text('p', analysis.why));
  if (packet.lost)
    why.push(text('p', 'The link dropped it: the sender will notice only when no ACK comes back.'));
  if (packet.note === 'old duplicate')
    why.push(
      text(
        'p',
        'An old SYN of an earlier connection, still in the network. Because the handshake takes three messages, the client can tell from the server’s SYN,ACK that it acknowledges the wrong SYN, and reset it; with two messages the server would have opened a connection nobody asked for.',
      ),
    );
  for (const cause of states.causes) why.push(text('p', cause, 'transition'));
  ui.why.replaceChildren(...why);
  const table = document.createElement('table');
  table.className = 'fields';
  for (const [k, v] of fieldRows(packet, view.diagram, analysis)) {
    const row = document.createElement('tr');
    row.append(text('th', k), text('td', v, 'mono'));
    table.append(row);
  }
  ui.fields.replaceChildren(table);
}

// ---------------------------------------------------------------- playing

function stop(): void {
  if (timer !== null) clearInterval(timer);
  timer = null;
  ui.play.textContent = '▶ Play';
  ui.play.setAttribute('aria-pressed', 'false');
}

function togglePlay(): void {
  if (view === null) return;
  if (timer !== null) {
    stop();
    return;
  }
  if (step >= view.diagram.packets.length) goTo(0);
  ui.play.textContent = '⏸ Pause';
  ui.play.setAttribute('aria-pressed', 'true');
  timer = setInterval(() => {
    if (view === null || step >= view.diagram.packets.length) stop();
    else goTo(step + 1);
  }, PLAY_INTERVAL_MS);
}

ui.back.addEventListener('click', () => goTo(step - 1));
ui.forward.addEventListener('click', () => goTo(step + 1));
ui.first.addEventListener('click', () => goTo(0));
ui.last.addEventListener('click', () => view !== null && goTo(view.diagram.packets.length));
ui.play.addEventListener('click', togglePlay);

// Keys anywhere but in a form field: ← → step, Home/End, space plays.
document.addEventListener('keydown', (e) => {
  const target = e.target as HTMLElement | null;
  if (target !== null && ['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON'].includes(target.tagName)) return;
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.key === 'ArrowRight') goTo(step + 1);
  else if (e.key === 'ArrowLeft') goTo(step - 1);
  else if (e.key === 'Home') goTo(0);
  else if (e.key === 'End' && view !== null) goTo(view.diagram.packets.length);
  else if (e.key === ' ') togglePlay();
  else return;
  e.preventDefault();
});

// ---------------------------------------------------------------- scenarios

function showError(message: string | null): void {
  ui.error.textContent = message ?? '';
  ui.error.hidden = message === null;
}

function runScenario(): void {
  try {
    showError(null);
    showView(scenarioView());
    document.body.dataset.mode = 'scenario';
  } catch (error) {
    showError(`The scenario failed: ${String(error)}`);
  }
}

for (const name of SCENARIOS) {
  const option = document.createElement('option');
  option.value = name;
  option.textContent = SCENARIO_TITLES[name];
  ui.scenario.append(option);
}
const outputs: Array<[HTMLInputElement, string, (v: number) => string]> = [
  [ui.loss, 'loss-value', (v) => `${v}%`],
  [ui.delay, 'delay-value', (v) => `${v} ms`],
  [ui.rate, 'rate-value', (v) => (v === 0 ? 'unlimited' : `${v} Mbit/s`)],
  [ui.bytes, 'bytes-value', (v) => `${Math.round(v / 1000)} kB`],
];
for (const [input, id, format] of outputs) {
  const out = byId(id);
  const update = (): void => {
    out.textContent = format(Number(input.value));
  };
  input.addEventListener('input', update);
  input.addEventListener('change', runScenario);
  update();
}
ui.scenario.addEventListener('change', () => {
  ui.bytes.disabled = ui.scenario.value !== 'transfer';
  runScenario();
});
ui.seed.addEventListener('change', runScenario);
ui.run.addEventListener('click', runScenario);

// ---------------------------------------------------------------- captures

interface LoadedCapture {
  name: string;
  bytes: Uint8Array;
  connections: CaptureConnection[];
}

let capture: LoadedCapture | null = null;

function captureView(n: number): View | string {
  if (capture === null) return 'no capture';
  const result = ladderFromCapture(capture.bytes, { connection: n });
  if (typeof result === 'string') return result;
  const plot = plotFromCapture(capture.bytes, n);
  const c = result.connections[n - 1]!;
  return {
    title: `${capture.name}: connection ${n}, ${c.client} → ${c.server}, ${c.packets} packets`,
    caption: [
      'Each segment’s role is named as Wireshark’s analysis would; the far end of each arrow is estimated (the capture saw each packet at one point) and the states are inferred from the flags.',
      ...(result.fileError === null ? [] : [result.fileError]),
    ],
    diagram: result.diagram,
    roles: result.roles,
    frames: result.records.map((r) => r + 1),
    plotSvg:
      typeof plot === 'string' ? null : renderPlotSvg(plot.model, { title: `connection ${n}` }),
    steps: statesByStep(result.diagram),
  };
}

function showConnection(n: number): void {
  const v = captureView(n);
  if (typeof v === 'string') {
    showError(v);
    return;
  }
  showView(v);
  for (const row of ui.connections.querySelectorAll('tr'))
    row.classList.toggle('selected', Number(row.dataset.connection) === n);
}

function loadCapture(name: string, bytes: Uint8Array): void {
  stop();
  showError(null);
  const first = ladderFromCapture(bytes);
  if (typeof first === 'string') {
    showError(`${name}: ${first}`);
    return;
  }
  capture = { name, bytes, connections: first.connections };
  document.body.dataset.mode = 'capture';
  const expert: Array<{ frame: number; connection: number; flag: string }> = [];
  const rows = first.connections.map((c) => {
    const r = c.number === 1 ? first : ladderFromCapture(bytes, { connection: c.number });
    let retransmissions = 0;
    if (typeof r !== 'string') {
      r.roles.forEach((a, i) => {
        for (const flag of a.expert)
          expert.push({ frame: r.records[i]! + 1, connection: c.number, flag });
        if (a.expert.includes('retransmission')) retransmissions++;
      });
    }
    const row = document.createElement('tr');
    row.dataset.connection = String(c.number);
    row.dataset.retransmissions = String(retransmissions);
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = String(c.number);
    button.setAttribute('aria-label', `show connection ${c.number}`);
    button.addEventListener('click', () => showConnection(c.number));
    const cell = document.createElement('td');
    cell.append(button);
    row.append(
      cell,
      text('td', c.client, 'mono'),
      text('td', c.server, 'mono'),
      text('td', String(c.packets)),
      text('td', String(retransmissions)),
    );
    return row;
  });
  ui.connections.replaceChildren(...rows);
  expert.sort((a, b) => a.frame - b.frame);
  ui.expert.replaceChildren(
    ...expert.map((e) => {
      const row = document.createElement('tr');
      row.dataset.frame = String(e.frame);
      row.dataset.flag = e.flag;
      row.append(text('td', String(e.frame)), text('td', String(e.connection)), text('td', e.flag));
      return row;
    }),
  );
  ui.captureInfo.textContent = `${name}: ${first.connections.length} TCP connection(s), ${first.otherRecords} other record(s); read in this page, never uploaded.`;
  showConnection(1);
}

async function openFile(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  loadCapture(file.name, bytes);
}

ui.file.addEventListener('change', () => {
  const file = ui.file.files?.[0];
  if (file !== undefined) void openFile(file);
});
ui.drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  ui.drop.classList.add('over');
});
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.drop.classList.remove('over');
  const file = e.dataTransfer?.files[0];
  if (file !== undefined) void openFile(file);
});

ui.bytes.disabled = true;
runScenario();
document.body.dataset.ready = 'true';
