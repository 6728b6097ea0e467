/**
 * TUN and TAP devices as {@link LinkEndpoint}s: a TUN device carries bare IP
 * packets (link kind `ip`), a TAP device Ethernet frames (`ethernet`). The
 * kernel side of the device is an ordinary interface of the host (or of a
 * network namespace), so a stack on this end talks to the real Linux stack.
 *
 * Above the sans-IO line: this file uses the addon (packages/tuntap/tuntap.c) and
 * Node's event loop. Packets move in batches both ways: `receive()` reads
 * every packet waiting on the device in one call into C and hands them out
 * one by one; `send()` copies into a batch that is written in one call into
 * C when the current turn of the event loop ends (or sooner, see
 * {@link HostLink.flush}).
 *
 * How a driver runs it (see link.ts for the calling protocol): a host
 * device learns of arrivals from the host, not from time, so its
 * `pollTimeout()` covers only frames it already holds, and the driver also
 * runs when {@link HostLink.onReadable}'s handler is called.
 */
import { getSystemErrorName } from 'node:util';
import { NEVER, type Instant } from '../../base/index.js';
import {
  LinkCounters,
  LinkDropReason,
  LinkKind,
  checkLinkConfig,
  frameSizeProblem,
  maxFrameLength,
  minFrameLength,
  type LinkEndpoint,
  type LinkStats,
} from '../index.js';
import { PollEvent, requireAddon, type NativeDevice } from './addon.js';

/** Options of {@link openTun} and {@link openTap}. */
export interface HostLinkOptions {
  /**
   * The interface name, at most 15 bytes. A `%d` in it lets the kernel pick
   * the first free number (`tcpts%d` gives tcpts0, tcpts1, ...), which is
   * the default. An existing non-persistent device of that name in use by
   * another process fails with EBUSY.
   */
  name?: string;
  /** The largest IP packet (default 1500, at most 65535); the device's MTU is set to it. */
  mtu?: number;
  /** Bring the interface up (default true), as `ip link set <name> up`. Addresses stay the caller's business. */
  up?: boolean;
  /**
   * A network namespace to create the device in: a name as `ip netns` knows
   * it (`/run/netns/<name>`), or a path to a namespace file
   * (`/proc/<pid>/ns/net`). Default: the namespace of this process.
   */
  netns?: string;
}

/** Counters of the device side that {@link LinkStats} has no place for. */
export interface HostLinkDeviceStats {
  /** Calls into C that read at least one packet. */
  readBatches: number;
  /** Calls into C that wrote packets. */
  writeBatches: number;
  /** Times a write met EAGAIN/ENOBUFS and the rest waited for the device to be writable. */
  writeBlocked: number;
  /** Packets the kernel refused (counted as `cut` drops), by errno name. */
  writeErrors: Record<string, number>;
}

/** Packets per batch, both ways. */
const BATCH_FRAMES = 256;
/** Bytes of each batch buffer (grown to hold several maximal frames on large MTUs). */
const BATCH_BYTES = 256 * 1024;

/**
 * A TUN or TAP device as a {@link LinkEndpoint}. Open one with
 * {@link openTun} or {@link openTap}; close it with {@link HostLink.close},
 * which also removes the device from the kernel.
 */
export class HostLink implements LinkEndpoint {
  /** `ip` for a TUN device, `ethernet` for a TAP device. */
  readonly kind: LinkKind;
  /** The largest IP packet; the device's MTU was set to it when it opened. */
  readonly mtu: number;
  /** The interface name the kernel gave the device. */
  readonly name: string;
  /** The network namespace file the device was created in, or null for this process's own. */
  readonly netns: string | null;
  /** The first error reading from the device (it is then no longer polled), or null. */
  error: Error | null = null;

  private device: NativeDevice | null;
  private readonly counters = new LinkCounters();
  private readonly deviceCounters: HostLinkDeviceStats = {
    readBatches: 0,
    writeBatches: 0,
    writeBlocked: 0,
    writeErrors: {},
  };
  /** Bytes given to each read: one more than the longest frame, so a longer one shows as filling it. */
  private readonly readSpace: number;
  private readonly minFrame: number;
  private readonly rxArena: Uint8Array;
  private readonly rxLengths = new Int32Array(BATCH_FRAMES);
  private rxCount = 0;
  private rxIndex = 0;
  private rxOffset = 0;
  private readonly txArena: Uint8Array;
  private readonly txLengths = new Int32Array(BATCH_FRAMES);
  private readonly txErrors = new Int32Array(BATCH_FRAMES);
  private txCount = 0;
  private txUsed = 0;
  /** The device said EAGAIN: the batch waits for it to be writable. */
  private txBlocked = false;
  private flushQueued = false;
  private readableHandler: (() => void) | null = null;
  private polling = 0;
  /** The latest instant the driver passed in, for pollTimeout's "already due". */
  private lastNow = 0 as Instant;

  /**
   * Opens the device; {@link openTun} and {@link openTap} say more. Throws
   * a RangeError on bad options, and an Error with a `code` saying what is
   * missing when the device cannot be opened.
   */
  constructor(kind: LinkKind, options: HostLinkOptions = {}) {
    const who = kind === LinkKind.Ethernet ? 'openTap' : 'openTun';
    const mtu = options.mtu ?? 1500;
    checkLinkConfig(who, kind, mtu);
    const name = options.name ?? 'tcpts%d';
    if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > 15) {
      throw new RangeError(`${who}: name must be 1 to 15 bytes (IFNAMSIZ), got '${String(name)}'`);
    }
    const netns = netnsPath(options.netns);
    const { Device } = requireAddon();
    // The addon holds the callback strongly only while the device is
    // polled, so an idle link that nobody references can still be collected.
    const device = new Device(
      name,
      kind === LinkKind.Ethernet,
      mtu,
      options.up ?? true,
      netns,
      this.onHostEvent,
    );
    this.kind = kind;
    this.mtu = mtu;
    this.device = device;
    this.name = device.name;
    this.netns = netns;
    this.readSpace = maxFrameLength(kind, mtu) + 1;
    this.minFrame = minFrameLength(kind);
    const arenaBytes = Math.max(BATCH_BYTES, 4 * this.readSpace);
    this.rxArena = new Uint8Array(arenaBytes);
    this.txArena = new Uint8Array(arenaBytes);
  }

  /** The device's file descriptor, or -1 once closed. */
  get fd(): number {
    return this.device !== null ? this.device.fd : -1;
  }

  /** Whether {@link HostLink.close} has been called. */
  get closed(): boolean {
    return this.device === null;
  }

  /**
   * Copies the frame into the outgoing batch. False (and counted) when it is
   * too big or too short for the link, when the batch is full and the
   * device is not taking packets (`queue-full`), or when the link is closed
   * (`cut`).
   */
  send(now: Instant, frame: Uint8Array): boolean {
    if (now > this.lastNow) this.lastNow = now;
    if (this.device === null) {
      this.counters.dropTx(LinkDropReason.Cut);
      return false;
    }
    const problem = frameSizeProblem(this.kind, this.mtu, frame.length);
    if (problem !== null) {
      this.counters.dropTx(problem);
      return false;
    }
    if (this.txCount === BATCH_FRAMES || this.txUsed + frame.length > this.txArena.length) {
      if (!this.txBlocked) this.flush();
      if (this.txCount === BATCH_FRAMES || this.txUsed + frame.length > this.txArena.length) {
        this.counters.dropTx(LinkDropReason.QueueFull);
        return false;
      }
    }
    this.txArena.set(frame, this.txUsed);
    this.txLengths[this.txCount++] = frame.length;
    this.txUsed += frame.length;
    this.counters.sent(frame.length);
    if (!this.flushQueued && !this.txBlocked) {
      // One flush per turn of the event loop, however many frames the
      // driver sends in it.
      this.flushQueued = true;
      queueMicrotask(this.flushTask);
    }
    return true;
  }

  /**
   * The next frame from the device, or null when none is waiting. The frame
   * is a copy (`slice`) out of the batch buffer: the caller's to keep.
   * Writes the outgoing batch first, so that a driver which sends and then
   * receives in one turn has its frames on the wire before it looks for
   * answers.
   */
  receive(now: Instant): Uint8Array | null {
    if (now > this.lastNow) this.lastNow = now;
    if (this.device === null) return null;
    for (;;) {
      if (this.rxIndex >= this.rxCount) {
        if (this.txCount > 0 && !this.txBlocked) this.flush();
        if (!this.refill()) return null;
      }
      const length = this.rxLengths[this.rxIndex++]!;
      const start = this.rxOffset;
      this.rxOffset += length;
      if (length >= this.readSpace) {
        // Longer than the MTU allows (the read filled all the space it had,
        // so the kernel may have cut it short): the kernel's MTU was raised
        // behind our back.
        this.counters.dropRx(LinkDropReason.TooBig);
        continue;
      }
      if (length < this.minFrame) {
        this.counters.dropRx(LinkDropReason.TooShort);
        continue;
      }
      this.counters.received(length);
      return this.rxArena.slice(start, start + length);
    }
  }

  /**
   * Already due (the latest instant seen) while this endpoint holds a frame
   * or the kernel has one queued on the device, or an outgoing batch is not
   * yet written; NEVER otherwise. To know about the kernel's queue it reads
   * the device (one non-blocking read when nothing is held), so the answer
   * covers every frame that has reached the device by now. Frames that
   * arrive later are announced through {@link HostLink.onReadable}, not
   * here; a batch waiting for the device to become writable is written when
   * it does, without the driver.
   */
  pollTimeout(): Instant {
    if (this.device === null) return NEVER;
    if (this.txCount > 0 && !this.txBlocked) return this.lastNow;
    if (this.rxIndex < this.rxCount || this.refill()) return this.lastNow;
    return NEVER;
  }

  /** A snapshot of the counters: frames this link sent and received, and what it dropped. */
  stats(): LinkStats {
    return this.counters.snapshot();
  }

  /** Device-side counters (batches, blocked writes, kernel refusals); a snapshot. */
  deviceStats(): HostLinkDeviceStats {
    const d = this.deviceCounters;
    return {
      readBatches: d.readBatches,
      writeBatches: d.writeBatches,
      writeBlocked: d.writeBlocked,
      writeErrors: { ...d.writeErrors },
    };
  }

  /**
   * Calls `handler` whenever the host says the device has packets to read
   * (level-triggered: again on the next turn of the event loop while any
   * remain), until it is replaced or null is given. A driver drains
   * `receive()` there. While a handler is set, the device keeps the event
   * loop alive unless {@link HostLink.unref} was called.
   */
  onReadable(handler: (() => void) | null): void {
    if (this.device === null && handler !== null) {
      throw new Error(`${this.name}: the link is closed; open a new one`);
    }
    this.readableHandler = handler;
    this.updatePoll();
  }

  /** Writes the outgoing batch now instead of at the end of this turn of the event loop. */
  flush(): void {
    const device = this.device;
    if (device === null || this.txCount === 0) return;
    const count = this.txCount;
    const written = device.write(this.txArena, this.txLengths, count, this.txErrors);
    this.deviceCounters.writeBatches++;
    let consumedBytes = 0;
    for (let i = 0; i < written; i++) {
      consumedBytes += this.txLengths[i]!;
      const errno = this.txErrors[i]!;
      if (errno !== 0) this.writeRefused(errno);
    }
    if (written < count) {
      // EAGAIN: keep the rest, in order, and wait for the device.
      this.txArena.copyWithin(0, consumedBytes, this.txUsed);
      this.txLengths.copyWithin(0, written, count);
      this.txCount = count - written;
      this.txUsed -= consumedBytes;
      if (!this.txBlocked) {
        this.txBlocked = true;
        this.deviceCounters.writeBlocked++;
        this.updatePoll();
      }
    } else {
      this.txCount = 0;
      this.txUsed = 0;
      if (this.txBlocked) {
        this.txBlocked = false;
        this.updatePoll();
      }
    }
  }

  /** Stops the device from keeping the event loop alive (as `socket.unref()`). */
  unref(): void {
    if (this.device !== null) this.device.setRef(false);
  }

  /** Lets the device keep the event loop alive again while it is polled (as `socket.ref()`). */
  ref(): void {
    if (this.device !== null) this.device.setRef(true);
  }

  /**
   * Writes what is still batched if the device takes it, then closes the
   * descriptor: the kernel removes the device. Frames that could not be
   * written are counted as `cut`. Closing twice does nothing.
   */
  close(): void {
    const device = this.device;
    if (device === null) return;
    if (!this.txBlocked) this.flush();
    for (let i = 0; i < this.txCount; i++) this.counters.dropTx(LinkDropReason.Cut);
    this.txCount = 0;
    this.txUsed = 0;
    this.rxCount = 0;
    this.rxIndex = 0;
    this.readableHandler = null;
    this.device = null;
    device.close();
  }

  // -------------------------------------------------------------------------

  private readonly flushTask = (): void => {
    this.flushQueued = false;
    if (!this.txBlocked) this.flush();
  };

  private readonly onHostEvent = (events: number): void => {
    if (this.device === null) return;
    const error = events < 0;
    if ((error || (events & PollEvent.Writable) !== 0) && this.txBlocked) {
      this.txBlocked = false;
      this.flush();
      if (!this.txBlocked) this.updatePoll();
    }
    if ((error || (events & PollEvent.Readable) !== 0) && this.readableHandler !== null) {
      this.readableHandler();
    }
  };

  /** Reads the next batch from the device; false when nothing is waiting. */
  private refill(): boolean {
    const device = this.device;
    this.rxCount = 0;
    this.rxIndex = 0;
    this.rxOffset = 0;
    if (device === null || this.error !== null) return false;
    let n = 0;
    try {
      n = device.read(this.rxArena, this.rxLengths, this.readSpace);
    } catch (error) {
      // The device is gone or broken (e.g. its namespace was deleted). Stop
      // polling so a driver does not spin on it; the error stays readable.
      this.error = error instanceof Error ? error : new Error(String(error));
      this.readableHandler = null;
      this.updatePoll();
      return false;
    }
    if (n > 0) this.deviceCounters.readBatches++;
    this.rxCount = n;
    return n > 0;
  }

  private writeRefused(errno: number): void {
    this.counters.dropTx(LinkDropReason.Cut);
    const name = getSystemErrorName(-errno);
    const errors = this.deviceCounters.writeErrors;
    errors[name] = (errors[name] ?? 0) + 1;
  }

  private updatePoll(): void {
    const device = this.device;
    if (device === null) return;
    const events =
      (this.readableHandler !== null ? PollEvent.Readable : 0) |
      (this.txBlocked ? PollEvent.Writable : 0);
    if (events === this.polling) return;
    this.polling = events;
    device.poll(events);
  }
}

/** A TUN device: bare IPv4 and IPv6 packets (link kind `ip`). */
export class TunLink extends HostLink {
  /** As {@link openTun}. */
  constructor(options: HostLinkOptions = {}) {
    super(LinkKind.Ip, options);
  }
}

/** A TAP device: Ethernet frames without the FCS (link kind `ethernet`). */
export class TapLink extends HostLink {
  /** As {@link openTap}. */
  constructor(options: HostLinkOptions = {}) {
    super(LinkKind.Ethernet, options);
  }
}

function netnsPath(netns: string | undefined): string | null {
  if (netns === undefined) return null;
  if (typeof netns !== 'string' || netns.length === 0) {
    throw new TypeError('netns must be a namespace name or a path to a namespace file');
  }
  return netns.includes('/') ? netns : `/run/netns/${netns}`;
}

/**
 * Opens (creating if needed) a TUN device: the kernel routes IP packets to
 * it, and what this link sends the kernel receives as if from a wire.
 * Needs Linux, root (CAP_NET_ADMIN; CAP_SYS_ADMIN too for `netns`),
 * /dev/net/tun and the addon; otherwise it throws an Error whose `code`
 * (ENOENT, EPERM, EACCES, EBUSY, ERR_TUNTAP_NOT_BUILT, ...) and sentence say
 * what is missing.
 */
export function openTun(options: HostLinkOptions = {}): TunLink {
  return new TunLink(options);
}

/**
 * Opens (creating if needed) a TAP device: an Ethernet segment between the
 * kernel's interface and this link, so the stack on this side answers ARP
 * and NDP itself. Requirements and errors as {@link openTun}.
 */
export function openTap(options: HostLinkOptions = {}): TapLink {
  return new TapLink(options);
}
