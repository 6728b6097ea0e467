// HOST names for `tcpts connect`: resolved by the host's resolver, the
// first address of a family tcpts has is used, -v says which, and a name
// that does not resolve is one line naming it, before any device is made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runConnect } from '../../src/cli/connect.js';
import { resolveHost, type LookupAll } from '../../src/cli/resolve-host.js';
import type { HostFacts } from '../../src/cli/tun-setup.js';

const DUAL: LookupAll = (name, callback) =>
  process.nextTick(() =>
    name === 'dual.example'
      ? callback(null, [
          { address: 'fd00::1', family: 6 },
          { address: '10.0.0.1', family: 4 },
        ])
      : callback(
          Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' }),
          [],
        ),
  );

test('a literal is used as it is; a name takes its first address of a family tcpts has', async () => {
  assert.deepEqual(await resolveHost('10.0.0.9', [4], DUAL), {
    address: '10.0.0.9',
    resolved: false,
    all: ['10.0.0.9'],
  });
  assert.deepEqual(await resolveHost('dual.example', [4], DUAL), {
    address: '10.0.0.1',
    resolved: true,
    all: ['fd00::1', '10.0.0.1'],
  });
  // Both families: the resolver's order decides.
  const both = await resolveHost('dual.example', [4, 6], DUAL);
  assert.equal(typeof both === 'string' ? both : both.address, 'fd00::1');
  assert.equal(
    await resolveHost('nowhere.example', [4], DUAL),
    'cannot resolve nowhere.example: no such host (ENOTFOUND)',
  );
  const v6only: LookupAll = (_name, callback) =>
    callback(null, [{ address: 'fd00::1', family: 6 }]);
  assert.equal(
    await resolveHost('six.example', [4], v6only),
    'six.example is fd00::1, but tcpts has only IPv4 (give --addr of that family too)',
  );
});

test('the system resolver answers for localhost', async () => {
  const r = await resolveHost('localhost', [4, 6]);
  assert.notEqual(typeof r, 'string', String(r));
  assert.ok(['127.0.0.1', '::1'].includes((r as { address: string }).address));
});

const NO_ADDON: HostFacts = {
  platform: 'linux',
  addon: { available: false, reason: 'not built here' },
  tunDevice: true,
  netAdmin: true,
  sysAdmin: true,
  iproute2: true,
};

test('connect: a name that does not resolve is one line and status 1; -v says which address a name is', async () => {
  const err: string[] = [];
  const io = { out: () => {}, err: (t: string) => err.push(t) };
  const link = ['--tun', 't0', '--addr', '10.0.0.2/24'];
  assert.equal(
    await runConnect([...link, 'nowhere.example', '80'], io, { lookupAll: DUAL, facts: NO_ADDON }),
    1,
  );
  assert.deepEqual(err, [
    'tcpts connect: cannot resolve nowhere.example: no such host (ENOTFOUND)',
  ]);
  err.length = 0;
  // Resolved, then stopped by the missing addon: nothing was opened.
  assert.equal(
    await runConnect(['-v', ...link, 'dual.example', '80'], io, {
      lookupAll: DUAL,
      facts: NO_ADDON,
    }),
    1,
  );
  assert.equal(err[0], 'tcpts connect: dual.example is 10.0.0.1 (of fd00::1, 10.0.0.1)');
  assert.equal(err.length, 2);
});
