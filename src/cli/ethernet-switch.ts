/**
 * A learning switch (IEEE 802.1D's transparent bridge, without spanning
 * tree): it learns which port each source MAC address was last seen on,
 * sends a frame for a known unicast address out of that port alone, and
 * floods broadcast, multicast and unknown destinations to every other port.
 * The relay's ports are WebSocket clients and, optionally, a TAP device.
 */

/** Somewhere frames go out. */
export interface SwitchPort {
  /** A name for logs ("ws 127.0.0.1:51234", "tap tcpts0"). */
  readonly name: string;
  /** Sends one frame out of this port; false if the port dropped it (its queue was full). */
  send(frame: Uint8Array): boolean;
}

/** Counters of a {@link LearningSwitch}. */
export interface SwitchStats {
  /** Frames that came in. */
  frames: number;
  /** Frames sent to one learned port. */
  forwarded: number;
  /** Frames sent to all other ports. */
  flooded: number;
  /** Frames for the port they came from (both ends on one port), or shorter than an Ethernet header. */
  filtered: number;
  /** Copies a port refused (its queue was full). */
  portDrops: number;
}

/** The length of an Ethernet header: destination, source, EtherType. */
const ETHERNET_HEADER = 14;

/** A MAC address as one number (48 bits fit a double exactly), for the table's key. */
function macKey(frame: Uint8Array, offset: number): number {
  return (
    frame[offset]! * 2 ** 40 +
    frame[offset + 1]! * 2 ** 32 +
    ((frame[offset + 2]! << 24) >>> 0) +
    (frame[offset + 3]! << 16) +
    (frame[offset + 4]! << 8) +
    frame[offset + 5]!
  );
}

/** A switch over any number of {@link SwitchPort}s. */
export class LearningSwitch {
  private readonly ports = new Set<SwitchPort>();
  private readonly table = new Map<number, SwitchPort>();
  private readonly counters: SwitchStats = {
    frames: 0,
    forwarded: 0,
    flooded: 0,
    filtered: 0,
    portDrops: 0,
  };

  /** Plugs a port in. */
  add(port: SwitchPort): void {
    this.ports.add(port);
  }

  /** Unplugs a port and forgets the addresses learned on it. */
  remove(port: SwitchPort): void {
    this.ports.delete(port);
    for (const [mac, p] of this.table) if (p === port) this.table.delete(mac);
  }

  /** Ports plugged in now. */
  get size(): number {
    return this.ports.size;
  }

  /** A snapshot of the counters. */
  stats(): SwitchStats {
    return { ...this.counters };
  }

  /** A frame arrived on `from`: learn its source, then forward or flood it. */
  receive(from: SwitchPort, frame: Uint8Array): void {
    const c = this.counters;
    c.frames++;
    if (frame.length < ETHERNET_HEADER) {
      c.filtered++;
      return;
    }
    // The group bit (I/G, the low bit of the first octet) marks broadcast and
    // multicast; a group address is never a source, so it is not learned.
    if ((frame[6]! & 1) === 0) this.table.set(macKey(frame, 6), from);
    const target = (frame[0]! & 1) === 0 ? this.table.get(macKey(frame, 0)) : undefined;
    if (target !== undefined) {
      if (target === from) {
        c.filtered++;
        return;
      }
      c.forwarded++;
      if (!target.send(frame)) c.portDrops++;
      return;
    }
    c.flooded++;
    for (const port of this.ports) {
      if (port !== from && !port.send(frame)) c.portDrops++;
    }
  }
}
