// A repeatable option keeps every value through parseCommandArgs: the
// bad-value messages once rebuilt the declarations without `multiple`, so
// `serve --addr 10.0.0.2/24 --addr fd00::2/64` kept only the IPv6 address
// and every IPv4 connection was refused (the interop tests caught it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandArgs, type OptionSpec } from '../../src/cli/args.js';

test('a repeatable option keeps all its values, and a takes text still words the error', () => {
  const options = {
    addr: { type: 'string', multiple: true },
    loss: { type: 'string', takes: 'a fraction' },
  } as unknown as Record<string, OptionSpec>;
  const parsed = parseCommandArgs(
    'serve',
    ['--addr', '10.0.0.2/24', '--addr', 'fd00::2/64'],
    options,
  );
  assert.ok(typeof parsed !== 'string', String(parsed));
  assert.deepEqual(parsed.values.addr, ['10.0.0.2/24', 'fd00::2/64']);
  const missing = parseCommandArgs('serve', ['--loss'], options);
  assert.equal(typeof missing, 'string');
  assert.match(missing as string, /--loss needs a value: a fraction/);
});
