import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FAST_OPEN_COOKIE_LENGTH,
  fastOpenCookie,
  fastOpenKeyFromBytes,
  isValidFastOpenCookie,
  parseFastOpenKey,
} from '../../src/tcp/fastopen-cookie.js';

const hex = (c: Uint8Array): string => Buffer.from(c).toString('hex');
const LINUX_KEY = 'a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4';
const CLIENT4 = Uint8Array.from([192, 0, 2, 1]);
const SERVER4 = Uint8Array.from([192, 168, 0, 1]);
const CLIENT6 = Uint8Array.from([0xfd, 0x3d, 0xfa, 0x7b, 0xd1, 0x7d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
const SERVER6 = Uint8Array.from([0xfd, 0x3d, 0x0a, 0x0b, 0x17, 0xd6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

test("cookies equal Linux's for the key and addresses google/packetdrill's run_all.py uses", () => {
  // run_all.py passes TFO_COOKIE=3021b9d889017eeb (IPv4) and c1d1e9742a47a9bc
  // (IPv6): what Linux computes under defaults.sh's key for those addresses.
  const key = parseFastOpenKey(LINUX_KEY);
  assert.ok(key !== null);
  assert.equal(hex(fastOpenCookie(key, CLIENT4, SERVER4)), '3021b9d889017eeb');
  assert.equal(hex(fastOpenCookie(key, CLIENT6, SERVER6)), 'c1d1e9742a47a9bc');
});

test('a cookie is bound to the client address and the key', () => {
  const key = parseFastOpenKey(LINUX_KEY)!;
  const cookie = fastOpenCookie(key, CLIENT4, SERVER4);
  assert.equal(cookie.length, FAST_OPEN_COOKIE_LENGTH);
  assert.equal(isValidFastOpenCookie(key, cookie, CLIENT4, SERVER4), true);
  assert.equal(isValidFastOpenCookie(key, cookie, Uint8Array.from([192, 0, 2, 2]), SERVER4), false);
  const other = fastOpenKeyFromBytes(new Uint8Array(16).fill(7));
  assert.equal(isValidFastOpenCookie(other, cookie, CLIENT4, SERVER4), false);
  const flipped = cookie.slice();
  flipped[7]! ^= 1;
  assert.equal(isValidFastOpenCookie(key, flipped, CLIENT4, SERVER4), false);
  assert.equal(isValidFastOpenCookie(key, cookie.subarray(0, 4), CLIENT4, SERVER4), false);
});

test("the key sysctl's format: four hex words, an optional backup key after a comma", () => {
  assert.deepEqual(Array.from(parseFastOpenKey('1-2-3-4')!), [1, 2, 3, 4]);
  assert.deepEqual(
    Array.from(parseFastOpenKey(`${LINUX_KEY},00000000-00000000-00000000-00000001`)!),
    [0xa1a1a1a1, 0xb2b2b2b2, 0xc3c3c3c3, 0xd4d4d4d4],
  );
  for (const bad of ['', 'a1a1a1a1-b2b2b2b2-c3c3c3c3', '1-2-3-4-5', 'x-2-3-4', '123456789-2-3-4'])
    assert.equal(parseFastOpenKey(bad), null, bad);
  assert.throws(() => fastOpenCookie(parseFastOpenKey(LINUX_KEY)!, CLIENT4, SERVER6), RangeError);
});
