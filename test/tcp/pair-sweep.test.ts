import { test } from 'node:test';
import { checkScenario, scenario } from './scenarios.js';

test('300 random scenarios deliver every byte once, in order, and close', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const pair = scenario(seed);
    pair.run(3_600_000);
    checkScenario(pair, seed);
  }
});
