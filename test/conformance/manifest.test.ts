/**
 * The conformance manifest's file format and the comparison of a run with
 * it (scripts/conformance.ts), on made-up rows: no suite checkout needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MANIFEST_HEADER,
  compareWithManifest,
  countOutcomes,
  formatDifference,
  formatManifest,
  parseManifest,
  type ManifestRow,
} from '../../src/packetdrill/manifest.js';

const BLOB_A = 'a'.repeat(40);
const BLOB_B = 'b'.repeat(40);

const rows: ManifestRow[] = [
  { path: 'gtests/net/tcp/z.pkt', blob: BLOB_A, outcome: 'PASS', reason: '' },
  { path: 'gtests/net/tcp/a.pkt', blob: BLOB_B, outcome: 'FAIL', reason: 'ipv4: line 3:\tpsh' },
  { path: 'gtests/net/tcp/m.pkt', blob: BLOB_A, outcome: 'SKIP', reason: 'sysctl x' },
];

test('the manifest is written sorted by path, one tab-separated row each, and read back', () => {
  const text = formatManifest(rows);
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], MANIFEST_HEADER);
  assert.deepEqual(
    lines.slice(1).map((l) => l.split('\t')[0]),
    ['gtests/net/tcp/a.pkt', 'gtests/net/tcp/m.pkt', 'gtests/net/tcp/z.pkt'],
  );
  assert.equal(lines[1], `gtests/net/tcp/a.pkt\t${BLOB_B}\tFAIL\tipv4: line 3: psh`);
  const back = parseManifest(text);
  assert.ok(Array.isArray(back));
  assert.equal(back.length, 3);
  assert.deepEqual(back[0], { ...rows[1], reason: 'ipv4: line 3: psh' });
  assert.equal(countOutcomes(back), '1 passed, 1 failed, 1 skipped');
});

test('a bad manifest line is reported with its number', () => {
  const noReason = parseManifest(`${MANIFEST_HEADER}\nx.pkt\t${BLOB_A}\tFAIL\t\n`);
  assert.deepEqual(noReason, { error: 'x.pkt is FAIL without a reason', line: 2 });
  const badOutcome = parseManifest(`x.pkt\t${BLOB_A}\tMAYBE\tr\n`);
  assert.deepEqual(badOutcome, { error: "outcome 'MAYBE' is not PASS, FAIL or SKIP", line: 1 });
  const badBlob = parseManifest('x.pkt\t1234\tPASS\t\n');
  assert.ok(!Array.isArray(badBlob) && /not 40 hex digits/.test(badBlob.error));
  const columns = parseManifest('x.pkt\tPASS\n');
  assert.ok(!Array.isArray(columns) && /4 tab-separated columns, found 2/.test(columns.error));
});

test('a run matching the manifest has no differences, whatever its reason texts say', () => {
  const run = rows.map((r) => (r.outcome === 'PASS' ? r : { ...r, reason: `${r.reason} (now)` }));
  assert.deepEqual(compareWithManifest(rows, run), []);
});

test('every kind of difference is found and described', () => {
  const run: ManifestRow[] = [
    // was FAIL, now passes: the manifest must be brought up to date
    { path: 'gtests/net/tcp/a.pkt', blob: BLOB_B, outcome: 'PASS', reason: '' },
    // was PASS, now fails, and its text changed
    { path: 'gtests/net/tcp/z.pkt', blob: BLOB_B, outcome: 'FAIL', reason: 'ipv6: line 9: ack' },
    // not listed
    { path: 'gtests/net/tcp/new.pkt', blob: BLOB_A, outcome: 'SKIP', reason: 'FO' },
    // m.pkt is missing from the run
  ];
  const differences = compareWithManifest(rows, run);
  assert.deepEqual(
    differences.map((d) => d.kind),
    ['outcome', 'changed', 'outcome', 'new', 'missing'],
  );
  assert.deepEqual(differences.map(formatDifference), [
    'gtests/net/tcp/a.pkt: expected FAIL, got PASS',
    'gtests/net/tcp/z.pkt: the script changed (blob aaaaaaaaaaaa in the manifest, bbbbbbbbbbbb now)',
    'gtests/net/tcp/z.pkt: expected PASS, got FAIL (ipv6: line 9: ack)',
    'gtests/net/tcp/new.pkt: not in the manifest (got SKIP)',
    'gtests/net/tcp/m.pkt: in the manifest but not in the suite',
  ]);
});
