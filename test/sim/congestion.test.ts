// The seeded scenarios with each end host's congestion control drawn from
// CUBIC, NewReno and BBR (PlanOptions.congestionControls): every invariant
// holds with BBR on either end. Without the option a seed's plan is what it
// was before the option existed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planScenario, runScenario } from '../../src/sim/scenario/index.js';

const ALL = ['cubic', 'newreno', 'bbr'] as const;
const SEEDS = 120;

test('without congestionControls a seed plans exactly what it did before', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const plan = planScenario(seed);
    for (const h of plan.hosts) assert.equal(h.tcp.congestionControl, undefined);
    // The choice is a separate stream: everything else of the plan is the same.
    const mixed = planScenario(seed, { congestionControls: ALL });
    const strip = mixed.hosts.map((h) => {
      const { congestionControl: _ignored, ...rest } = h.tcp;
      return { ...h, tcp: rest };
    });
    assert.deepEqual({ ...mixed, hosts: strip }, plan);
  }
});

test(`${SEEDS} seeded scenarios with CUBIC, NewReno and BBR hosts keep every invariant`, () => {
  const failed: string[] = [];
  const seen = new Map<string, number>();
  for (let seed = 1; seed <= SEEDS; seed++) {
    const result = runScenario(seed, { congestionControls: ALL });
    for (const h of result.plan.hosts) {
      const cc = h.tcp.congestionControl;
      if (cc !== undefined) seen.set(cc, (seen.get(cc) ?? 0) + 1);
    }
    if (!result.ok)
      failed.push(
        `seed ${seed} (${result.plan.hosts.map((h) => h.tcp.congestionControl ?? '-').join('/')}): ` +
          result.failures
            .slice(0, 3)
            .map((f) => `[${f.check}] ${f.message}`)
            .join('; '),
      );
  }
  console.log(
    `# hosts per congestion control: ${[...seen].map(([k, v]) => `${k} ${v}`).join(', ')}`,
  );
  assert.ok((seen.get('bbr') ?? 0) > SEEDS / 2, 'BBR was drawn often');
  assert.equal(
    failed.length,
    0,
    `${failed.length} of ${SEEDS} seeds failed:\n${failed.join('\n')}`,
  );
});
