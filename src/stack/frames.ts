/**
 * Outgoing frames: the storage they are built in and the queue they wait in
 * until the driver polls them. No RFC governs this; it is about memory: an
 * ArrayBuffer costs far more to make (and to collect) than the bytes in it,
 * so small frames are carved from shared blocks and large ones reuse storage
 * the link gave back.
 */
import {
  ETHERNET_HEADER_LENGTH,
  IPV6_HEADER_LENGTH,
  emitEthernet,
  type MacAddress,
} from '../wire/index.js';

/** Headroom reserved in front of every packet we build, for an Ethernet header. */
export const HEADROOM = ETHERNET_HEADER_LENGTH;
/** A stack that sends little keeps small blocks; one that sends a lot doubles them up to the largest. */
const FRAME_BLOCK_MIN = 16 * 1024;
const FRAME_BLOCK_MAX = 512 * 1024;
/**
 * Frames at least this long are built in recycled storage when there is some
 * (FramePool.recycle): below it, carving from a block costs less than
 * keeping spares.
 */
const RECYCLE_MIN_FRAME = 16 * 1024;
/** Spare frame buffers kept at most: enough for a window of 64 KB frames in flight in memory. */
const MAX_SPARE_FRAMES = 64;
const NO_BLOCK = new Uint8Array(0);
/** Frames are 8-byte aligned in a block, so their IP and TCP headers stay 4-byte aligned for the checksum's word loop. */
const FRAME_ALIGN = 8;

/**
 * A frame ready to leave through an interface. The frame's bytes are the
 * caller's: the stack never writes them again. They are a view into a block
 * of memory the stack shares between frames, so `frame.buffer` is more than
 * the frame: copy (`slice`) rather than transfer it.
 */
export interface OutgoingFrame {
  ifIndex: number;
  frame: Uint8Array;
}

/** Storage for outgoing frames. */
export class FramePool {
  private frameBlock = NO_BLOCK;
  private frameUsed = 0;
  /** Storage for large frames given back by {@link FramePool.recycle}, newest last. */
  private readonly spareFrames: Uint8Array[] = [];

  /**
   * A zeroed buffer for one frame of `length` bytes, carved from the current
   * block (see FRAME_BLOCK_MIN). Frames never share bytes, so each is as
   * much its receiver's as a buffer of its own would be.
   */
  buffer(length: number, headerBytes: number): Uint8Array {
    if (length >= RECYCLE_MIN_FRAME) {
      // A large frame has an ArrayBuffer of its own, so that it can come
      // back whole (recycleFrame) and be built again. In storage that came
      // back the payload is copied over all the rest, so only the headers
      // need the zeros a fresh buffer has (options padding, reserved bits).
      const spares = this.spareFrames;
      while (spares.length > 0) {
        const spare = spares.pop()!;
        if (spare.length < length) continue; // too small for this one: let it go
        const out = new Uint8Array(spare.buffer, 0, length);
        out.fill(0, 0, HEADROOM + IPV6_HEADER_LENGTH + headerBytes);
        return out;
      }
      return new Uint8Array(length);
    }
    let block = this.frameBlock;
    let at = this.frameUsed;
    if (at + length > block.length) {
      if (length > FRAME_BLOCK_MAX / 4) return new Uint8Array(length);
      let size = Math.min(FRAME_BLOCK_MAX, Math.max(FRAME_BLOCK_MIN, 2 * block.length));
      while (size < length) size *= 2;
      block = new Uint8Array(size);
      this.frameBlock = block;
      at = 0;
    }
    this.frameUsed = (at + length + FRAME_ALIGN - 1) & ~(FRAME_ALIGN - 1);
    // The constructor, not subarray: no species lookup per frame.
    return new Uint8Array(block.buffer, block.byteOffset + at, length);
  }

  /** Bytes of storage kept for later frames: the spare large frames and the current block. */
  get keptBytes(): number {
    let bytes = this.frameBlock.length;
    for (const spare of this.spareFrames) bytes += spare.length;
    return bytes;
  }

  /**
   * Lets go of every spare and of the current block, for the garbage
   * collector to return to the runtime: called when the stack has gone quiet
   * (no connections), so memory taken in a burst does not stay with an idle
   * stack. Frames already handed out keep their own storage alive.
   */
  trim(): void {
    this.spareFrames.length = 0;
    this.frameBlock = NO_BLOCK;
    this.frameUsed = 0;
  }

  /**
   * Gives back a frame this stack emitted (pollTransmit) that nobody will
   * read or write again: one it handed over whose receiver has finished with
   * it (`LinkEndpoint.reclaim`). The stack builds large frames in such
   * storage again, so a bulk sender reuses a few buffers instead of
   * allocating (and the garbage collector freeing) one per 64 KB frame.
   * Small frames (carved from shared blocks), anything that is not a whole
   * large frame's buffer, and more than a few spares are left to the
   * collector.
   */
  recycle(frame: Uint8Array): void {
    const whole = frame.buffer;
    // A large frame we built owns its whole ArrayBuffer; the link may see it
    // without the headroom (an IP link), so it starts at 0 or HEADROOM.
    if (
      frame.length < RECYCLE_MIN_FRAME - HEADROOM ||
      frame.byteOffset > HEADROOM ||
      frame.byteOffset + frame.length !== whole.byteLength ||
      this.spareFrames.length >= MAX_SPARE_FRAMES
    )
      return;
    this.spareFrames.push(new Uint8Array(whole));
  }
}

/** Frames waiting for the driver's pollTransmit, oldest first. */
export class TxQueue {
  private readonly queue: OutgoingFrame[] = [];
  private head = 0;

  /** Queues a finished frame. */
  push(ifIndex: number, frame: Uint8Array): void {
    this.queue.push({ ifIndex, frame });
  }

  /** Writes the Ethernet header into the headroom of `buffer` and queues the frame. */
  ethernet(
    iface: { index: number; mac: MacAddress },
    dstMac: MacAddress,
    ethertype: number,
    buffer: Uint8Array,
  ): void {
    emitEthernet(
      { dst: dstMac, src: iface.mac, ethertype, payload: buffer.subarray(HEADROOM) },
      buffer,
    );
    this.push(iface.index, buffer);
  }

  /** Whether frames are waiting. */
  get pending(): boolean {
    return this.head < this.queue.length;
  }

  /** The oldest waiting frame, or null (and the queue starts afresh). */
  next(): OutgoingFrame | null {
    if (this.head >= this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      return null;
    }
    return this.queue[this.head++]!;
  }
}
