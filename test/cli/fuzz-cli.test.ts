// `tcpts fuzz`: its help, its usage errors, and a short run that passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';

function capture(): {
  out: string[];
  err: string[];
  io: { out(t: string): void; err(t: string): void };
} {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t) => out.push(t), err: (t) => err.push(t) } };
}

test('tcpts fuzz --help documents the options and the checks', () => {
  const c = capture();
  assert.equal(main(['fuzz', '--help'], c.io), 0);
  const help = c.out.join('\n');
  for (const word of ['--frames', '--seed', '--strict', 'named drop', 'bounded'])
    assert.ok(help.includes(word), word);
});

test('tcpts fuzz: a bad --frames, a bad --seed or an argument is a usage error', () => {
  for (const args of [['--frames', '0'], ['--frames', 'x'], ['--seed', '-1'], ['extra']]) {
    const c = capture();
    assert.equal(main(['fuzz', ...args], c.io), 2, args.join(' '));
    assert.equal(c.err.length, 1);
    assert.match(c.err[0]!, /^tcpts fuzz: /);
  }
});

test('tcpts fuzz runs a seed and says what it injected', () => {
  const c = capture();
  assert.equal(main(['fuzz', '--frames', '500', '--seed', '3'], c.io), 0, c.out.join('\n'));
  const text = c.out.join('\n');
  assert.match(text, /^seed 3: \d+ frames injected/m);
  assert.match(text, /^drops: /m);
  assert.equal(c.out[c.out.length - 1], 'ok');
});
