/**
 * Congestion controllers (docs/architecture.md convention 5) and their registry, by
 * name as Linux's tcp_congestion_control sysctl names them.
 */
import type { CongestionControlFactory } from './types.js';
import { createNewReno } from './newreno.js';
import { createCubic } from './cubic.js';
import { createBbr } from './bbr.js';

export type { CongestionConfig, CongestionControl, CongestionControlFactory } from './types.js';
export { INFINITE_SSTHRESH } from './types.js';
export { NewReno, createNewReno } from './newreno.js';
export { Cubic, CUBIC_BETA, CUBIC_C, createCubic } from './cubic.js';
export { HystartPhase, HystartPlusPlus } from './hystart.js';
export { Bbr, createBbr, type BbrInfo, type BbrOptions } from './bbr.js';
export { BbrState } from './bbr-model.js';

/** The controllers this build has, by registry name (TcpConfig.congestionControl). */
export type CongestionControlName = 'bbr' | 'cubic' | 'newreno';

/** Every available controller by name; adding one here is all a new algorithm needs. */
export const congestionControls: Record<string, CongestionControlFactory> = {
  newreno: createNewReno,
  cubic: createCubic,
  bbr: createBbr,
};
