/**
 * The gateway's counters: flows opened, refused (by reason), bytes each way,
 * malformed DHCP and DNS messages (by drop reason). Printed on SIGUSR1 and
 * at exit; every refusal and drop is counted under a name of its own.
 */
export class Counters {
  private readonly values = new Map<string, number>();

  /** Adds `n` (default 1) to the counter `name`. */
  add(name: string, n = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + n);
  }

  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  /** Every counter, by name, sorted. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of [...this.values.keys()].sort()) out[name] = this.values.get(name)!;
    return out;
  }

  /** One line: `name=value` pairs, sorted by name. */
  format(): string {
    return Object.entries(this.snapshot())
      .map(([name, value]) => `${name}=${value}`)
      .join(' ');
  }
}
