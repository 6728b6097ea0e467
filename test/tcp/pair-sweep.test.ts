import { test } from 'node:test';
import { checkScenario, scenario } from './scenarios.js';

test('200 random scenarios deliver every byte once, in order, and close', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const pair = scenario(seed);
    pair.run(3_600_000);
    checkScenario(pair, seed);
  }
});
