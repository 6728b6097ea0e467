// The option cursor alone: where each option lies, EOL ending the list,
// Malformed for a length that cannot be right, Truncated when the bytes end
// inside the area (a cut capture), and resumeAt for printers that step
// their own way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TcpOptionCursor, TcpOptionStep } from '../../src/wire/index.js';

/** Every step of a walk over `area` (offsets relative to the area), with the step that ended it. */
function walk(area: number[], end = area.length, have = area.length): string[] {
  const bytes = Uint8Array.from(area.slice(0, have));
  const cursor = new TcpOptionCursor();
  cursor.reset(bytes, 0, end);
  const seen: string[] = [];
  for (let step = cursor.next(); ; step = cursor.next()) {
    if (step !== TcpOptionStep.Option) {
      seen.push(Object.keys(TcpOptionStep).find((k) => TcpOptionStep[k as 'End'] === step)!);
      return seen;
    }
    seen.push(`${cursor.kind}@${cursor.offset}+${cursor.length}`);
  }
}

test('steps over NOPs and options by their length, and EOL ends the list', () => {
  // nop,nop,TS val 1 ecr 2, mss 1460, eol, then padding that looks like options.
  const area = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 2, 4, 5, 180, 0, 2, 4, 0];
  assert.deepEqual(walk(area), ['1@0+1', '1@1+1', '8@2+10', '2@12+4', '0@16+1', 'End']);
  assert.deepEqual(walk([]), ['End']);
});

test('a length below 2, past the area, or missing is Malformed', () => {
  assert.deepEqual(walk([1, 2, 1, 0]), ['1@0+1', 'Malformed']);
  assert.deepEqual(walk([2, 6, 5, 180]), ['Malformed']);
  // The kind is the area's last byte, and the segment goes on: its length byte is not the option's.
  assert.deepEqual(walk([1, 1, 1, 2, 4, 4], 4), ['1@0+1', '1@1+1', '1@2+1', 'Malformed']);
  // Any length fits an unknown kind, down to 2 (no data).
  assert.deepEqual(walk([99, 2, 1, 1]), ['99@0+2', '1@2+1', '1@3+1', 'End']);
});

test('bytes that end inside the area give Truncated at the kind or length byte', () => {
  assert.deepEqual(walk([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], 12, 2), [
    '1@0+1',
    '1@1+1',
    'Truncated',
  ]);
  assert.deepEqual(walk([1, 8, 10, 0], 4, 2), ['1@0+1', 'Truncated']);
  // An option whose data is cut is still delimited: reading its data is the caller's check.
  assert.deepEqual(walk([2, 4, 5, 180], 4, 3), ['2@0+4', 'End']);
});

test('resumeAt continues where the caller says', () => {
  const bytes = Uint8Array.from([2, 3, 5, 180, 1]);
  const cursor = new TcpOptionCursor();
  cursor.reset(bytes, 0, bytes.length);
  assert.equal(cursor.next(), TcpOptionStep.Option);
  assert.equal(cursor.length, 3);
  // tcpdump reads an MSS as 2 data bytes whatever the length byte says.
  cursor.resumeAt(4);
  assert.equal(cursor.next(), TcpOptionStep.Option);
  assert.deepEqual([cursor.kind, cursor.offset], [1, 4]);
  assert.equal(cursor.next(), TcpOptionStep.End);
  cursor.clear();
  assert.equal(cursor.bytes.length, 0);
});
