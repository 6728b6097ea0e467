/**
 * Congestion controllers (DESIGN.md convention 5) and their registry, by
 * name as Linux's tcp_congestion_control sysctl names them.
 */
import type { CongestionControlFactory } from './types.js';
import { createNewReno } from './newreno.js';

export type { CongestionConfig, CongestionControl, CongestionControlFactory } from './types.js';
export { INFINITE_SSTHRESH } from './types.js';
export { NewReno, createNewReno } from './newreno.js';

/** Every available controller by name. CUBIC joins later. */
export const congestionControls: Record<string, CongestionControlFactory> = {
  newreno: createNewReno,
};
