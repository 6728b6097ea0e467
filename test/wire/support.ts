/** Helpers shared by the wire codec tests. */
import assert from 'node:assert/strict';
import { isDropReason, type WireDropReason } from '../../src/wire/index.js';

/** Bytes from hex text; whitespace (line breaks, grouping spaces) is ignored. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) {
    throw new Error(`hex(): not an even run of hex digits: ${text.slice(0, 40)}`);
  }
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Hex text of `bytes`, for assertion messages. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Unwraps a parse result, failing the test with the drop reason if there is one. */
export function ok<T>(result: T | WireDropReason): T {
  if (isDropReason(result)) assert.fail(`expected a repr, got drop reason '${result}'`);
  return result as T;
}
