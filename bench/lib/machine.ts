/** What the figures were measured on: they mean little without it. */
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';

/** The machine and runtime of a bench run. */
export interface MachineInfo {
  nproc: number;
  memoryBytes: number;
  kernel: string;
  cpuModel: string;
  node: string;
  /** 1-, 5- and 15-minute load averages when the run started (other work on the machine skews figures). */
  loadAverageStart: number[];
}

/** Describes this machine and Node. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    nproc: availableParallelism(),
    memoryBytes: totalmem(),
    kernel: release(),
    cpuModel: list.length > 0 ? list[0]!.model.trim() : 'unknown',
    node: process.version,
    loadAverageStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
