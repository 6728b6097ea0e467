/**
 * A link endpoint wrapper between a stack and its link: counts the frames
 * handed over each way (for the counters-interface and counters-link
 * invariants), flags frames bigger than the MTU and shows each outgoing
 * frame to the host's TCP ledger.
 */
import type { Instant } from '../../base/index.js';
import {
  maxFrameLength,
  type LinkEndpoint,
  type LinkKind,
  type LinkStats,
} from '../../link/index.js';
import type { TcpWireLedger } from './wire-ledger.js';

/**
 * Sits between a stack and its link: counts frames both ways (to compare
 * with the stack's interface counters) and shows TCP segments to a ledger.
 */
export class WireObserver implements LinkEndpoint {
  readonly kind: LinkKind;
  readonly inner: LinkEndpoint;
  framesOut = 0;
  framesIn = 0;
  private readonly ledger: TcpWireLedger | null;
  private readonly onOversize: (length: number) => void;
  private readonly onBadArp: (frame: Uint8Array) => void;

  constructor(
    inner: LinkEndpoint,
    ledger: TcpWireLedger | null,
    onOversize: (length: number) => void,
    onBadArp: (frame: Uint8Array) => void,
  ) {
    this.kind = inner.kind;
    this.inner = inner;
    this.ledger = ledger;
    this.onOversize = onOversize;
    this.onBadArp = onBadArp;
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  send(now: Instant, frame: Uint8Array): boolean {
    this.framesOut++;
    // A stack fragments or refuses what does not fit its interface; it never hands the link more.
    if (frame.length > maxFrameLength(this.kind, this.inner.mtu)) this.onOversize(frame.length);
    if (this.ledger !== null) this.ledger.observe(this.kind, frame);
    return this.inner.send(now, frame);
  }

  receive(now: Instant): Uint8Array | null {
    const frame = this.inner.receive(now);
    if (frame === null) return null;
    this.framesIn++;
    // An ARP packet whose sender MAC differs from the frame's source was damaged on the way.
    if (
      this.kind === 'ethernet' &&
      frame.length >= 42 &&
      frame[12] === 0x08 &&
      frame[13] === 0x06
    ) {
      for (let i = 0; i < 6; i++) {
        if (frame[6 + i] !== frame[22 + i]) {
          this.onBadArp(frame);
          break;
        }
      }
    }
    return frame;
  }

  pollTimeout(): Instant {
    return this.inner.pollTimeout();
  }

  stats(): LinkStats {
    return this.inner.stats();
  }
}
