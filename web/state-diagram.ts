/**
 * The TCP connection state diagram (RFC 9293 §3.3.2, Figure 5), drawn as
 * SVG: one box per state, one arrow per transition labelled with its event
 * and action. The client's and the server's current states are lit, and the
 * edge each side just took is drawn bold.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';
const BOX_W = 112;
const BOX_H = 28;

/** Where each state's box sits (top-left corner). CLOSED is drawn twice, as in the RFC's figure. */
const BOXES: ReadonlyArray<readonly [id: string, state: string, x: number, y: number]> = [
  ['CLOSED', 'CLOSED', 250, 8],
  ['LISTEN', 'LISTEN', 250, 78],
  ['SYN-RCVD', 'SYN-RECEIVED', 40, 158],
  ['SYN-SENT', 'SYN-SENT', 440, 158],
  ['ESTABLISHED', 'ESTABLISHED', 250, 238],
  ['FIN-WAIT-1', 'FIN-WAIT-1', 40, 318],
  ['CLOSE-WAIT', 'CLOSE-WAIT', 440, 318],
  ['FIN-WAIT-2', 'FIN-WAIT-2', 0, 408],
  ['CLOSING', 'CLOSING', 160, 408],
  ['LAST-ACK', 'LAST-ACK', 440, 408],
  ['TIME-WAIT', 'TIME-WAIT', 80, 498],
  ['CLOSED-END', 'CLOSED', 440, 498],
];

/** The transitions of Figure 5: from, to, and the label (event / action). */
/** Labels sit right of the line (start), left of it (end), or above it (middle). */
type Anchor = 'start' | 'end' | 'middle';

const EDGES: ReadonlyArray<readonly [from: string, to: string, label: string, anchor: Anchor]> = [
  ['CLOSED', 'LISTEN', 'passive OPEN', 'start'],
  ['CLOSED', 'SYN-SENT', 'active OPEN / snd SYN', 'start'],
  ['LISTEN', 'SYN-RCVD', 'rcv SYN / snd SYN,ACK', 'end'],
  ['LISTEN', 'SYN-SENT', 'SEND / snd SYN', 'start'],
  ['SYN-SENT', 'SYN-RCVD', 'rcv SYN / snd SYN,ACK', 'middle'],
  ['SYN-RCVD', 'ESTABLISHED', 'rcv ACK of SYN', 'end'],
  ['SYN-SENT', 'ESTABLISHED', 'rcv SYN,ACK / snd ACK', 'start'],
  ['SYN-RCVD', 'FIN-WAIT-1', 'CLOSE / snd FIN', 'start'],
  ['ESTABLISHED', 'FIN-WAIT-1', 'CLOSE / snd FIN', 'start'],
  ['ESTABLISHED', 'CLOSE-WAIT', 'rcv FIN / snd ACK', 'start'],
  ['FIN-WAIT-1', 'FIN-WAIT-2', 'rcv ACK of FIN', 'end'],
  ['FIN-WAIT-1', 'CLOSING', 'rcv FIN / snd ACK', 'start'],
  ['FIN-WAIT-2', 'TIME-WAIT', 'rcv FIN / snd ACK', 'end'],
  ['CLOSING', 'TIME-WAIT', 'rcv ACK of FIN', 'start'],
  ['CLOSE-WAIT', 'LAST-ACK', 'CLOSE / snd FIN', 'end'],
  ['LAST-ACK', 'CLOSED-END', 'rcv ACK of FIN', 'end'],
  ['TIME-WAIT', 'CLOSED-END', 'timeout = 2 MSL', 'middle'],
];

function el<K extends keyof SVGElementTagNameMap>(
  name: K,
  attributes: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The point where the line from a box's centre toward (tx, ty) leaves the box. */
function edgePoint(x: number, y: number, tx: number, ty: number): [number, number] {
  const cx = x + BOX_W / 2;
  const cy = y + BOX_H / 2;
  const dx = tx - cx;
  const dy = ty - cy;
  const scale = Math.min(
    dx === 0 ? Infinity : BOX_W / 2 / Math.abs(dx),
    dy === 0 ? Infinity : BOX_H / 2 / Math.abs(dy),
  );
  return [cx + dx * scale, cy + dy * scale];
}

/** A value for each side. */
export interface Sides {
  client: string;
  server: string;
}

/** The drawn diagram, with a method that lights the current states. */
export interface StateDiagram {
  svg: SVGSVGElement;
  /**
   * Lights each side's state and the edge it just took (previous → current).
   * `passed` says whether a side has been ESTABLISHED or later (its CLOSED is
   * then the bottom box).
   */
  show(current: Sides, previous: Sides, passed: { client: boolean; server: boolean }): void;
}

/** The box a state is drawn in: the bottom CLOSED once a side has left the opening states. */
function boxOf(state: string, passedEstablished: boolean): string {
  if (state === 'SYN-RECEIVED') return 'SYN-RCVD';
  if (state === 'CLOSED' && passedEstablished) return 'CLOSED-END';
  return state;
}

/** States from which CLOSED is the bottom box of the figure. */
export const LATER_STATES = new Set([
  'ESTABLISHED',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'CLOSING',
  'TIME-WAIT',
  'CLOSE-WAIT',
  'LAST-ACK',
]);

/** Draws Figure 5 once; {@link StateDiagram.show} updates it. */
export function drawStateDiagram(): StateDiagram {
  const svg = el('svg', {
    viewBox: '-4 0 650 536',
    role: 'img',
    'aria-label': 'TCP state diagram, RFC 9293 Figure 5',
    class: 'state-diagram',
  });
  const defs = el('defs', {});
  const marker = el('marker', {
    id: 'fig5-head',
    viewBox: '0 0 10 10',
    refX: 10,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: 'auto-start-reverse',
  });
  marker.append(el('path', { d: 'M0,0 L10,5 L0,10 z', fill: 'context-stroke' }));
  defs.append(marker);
  svg.append(defs);
  const where = new Map(BOXES.map(([id, , x, y]) => [id, { x, y }] as const));
  const edges = new Map<string, SVGGElement>();
  for (const [from, to, label, anchor] of EDGES) {
    const a = where.get(from)!;
    const b = where.get(to)!;
    const [x1, y1] = edgePoint(a.x, a.y, b.x + BOX_W / 2, b.y + BOX_H / 2);
    const [x2, y2] = edgePoint(b.x, b.y, a.x + BOX_W / 2, a.y + BOX_H / 2);
    const group = el('g', { class: 'edge', 'data-edge': `${from}>${to}` });
    group.append(el('line', { x1, y1, x2, y2, 'marker-end': 'url(#fig5-head)' }));
    const mx = (x1 + x2) / 2;
    const my = (y1 + y2) / 2;
    const dx = anchor === 'start' ? 5 : anchor === 'end' ? -5 : 0;
    group.append(
      el(
        'text',
        { x: mx + dx, y: my + (anchor === 'middle' ? -4 : 3), 'text-anchor': anchor },
        label,
      ),
    );
    svg.append(group);
    edges.set(`${from}>${to}`, group);
  }
  const boxes = new Map<string, SVGGElement>();
  for (const [id, state, x, y] of BOXES) {
    const group = el('g', { class: 'state', 'data-state': id });
    group.append(el('rect', { x, y, width: BOX_W, height: BOX_H, rx: 5 }));
    group.append(
      el('text', { x: x + BOX_W / 2, y: y + BOX_H / 2 + 4, 'text-anchor': 'middle' }, state),
    );
    const badges = el('text', { x: x + BOX_W + 3, y: y + BOX_H / 2 + 4, class: 'badges' });
    group.append(badges);
    svg.append(group);
    boxes.set(id, group);
  }
  return {
    svg,
    show(current, previous, passed) {
      for (const g of boxes.values()) {
        g.classList.remove('client', 'server');
        g.querySelector('.badges')!.textContent = '';
      }
      for (const g of edges.values()) g.classList.remove('client', 'server');
      for (const side of ['client', 'server'] as const) {
        const id = boxOf(current[side], passed[side]);
        const box = boxes.get(id);
        if (box === undefined) continue;
        box.classList.add(side);
        const badge = box.querySelector('.badges')!;
        badge.textContent = `${badge.textContent ?? ''} ${side}`.trim();
        if (previous[side] !== current[side]) {
          const from = boxOf(previous[side], passed[side] && previous[side] !== 'CLOSED');
          edges.get(`${from}>${id}`)?.classList.add(side);
        }
      }
    },
  };
}
