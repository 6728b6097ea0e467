/**
 * Saved plans: a plan written by an earlier generator (a regression in
 * test/sim/dst.test.ts, a plan.json) lacks the fields added since; they
 * are filled in here with the values that reproduce what it did then.
 */
import type { ScenarioPlan } from './plan.js';

/**
 * Fills in what plans saved by an earlier generator lack, with the value
 * that reproduces what they did then: a saved failing plan keeps working
 * as a regression test after the generator grows.
 */
export function withDefaults(saved: ScenarioPlan): ScenarioPlan {
  return {
    ...saved,
    hosts: saved.hosts.map((h) => ({ ...h, maxSynBacklog: h.maxSynBacklog ?? 1024 })),
    mtuDrop: saved.mtuDrop ?? null,
    workloads: saved.workloads.map((w) => {
      if (w.kind === 'many-short') return { ...w, clientPort: w.clientPort ?? 0 };
      if (w.kind === 'request-response')
        return { ...w, rounds: w.rounds.map((r) => ({ ...r, think: r.think ?? 0 })) };
      return w;
    }),
  };
}
