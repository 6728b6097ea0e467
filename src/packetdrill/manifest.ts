/**
 * The conformance manifest: one row per script of a public packetdrill
 * suite (its path, the git blob id of the version we ran, the outcome we
 * expect and, for anything but PASS, why), kept as a tab-separated file,
 * and the comparison of a run against it. Pure: reading the suite and the
 * file is the caller's (scripts/conformance.ts).
 */

/** What a script is expected to do, or did. */
export type Outcome = 'PASS' | 'FAIL' | 'SKIP';

/** One row: a script and its outcome. */
export interface ManifestRow {
  /** Path inside the suite's checkout, with `/` separators. */
  path: string;
  /** Git blob id (40 hex digits) of the script's text. */
  blob: string;
  outcome: Outcome;
  /** Why it does not pass ('' for PASS). */
  reason: string;
}

/** The header line of the file, naming the columns. */
export const MANIFEST_HEADER = 'path\tblob\toutcome\treason';

/** Parses the manifest's text: its rows, or the first bad line. */
export function parseManifest(text: string): ManifestRow[] | { error: string; line: number } {
  const rows: ManifestRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' || line.startsWith('#') || (i === 0 && line === MANIFEST_HEADER)) continue;
    const cells = line.split('\t');
    if (cells.length !== 4)
      return { error: `expected 4 tab-separated columns, found ${cells.length}`, line: i + 1 };
    const [path, blob, outcome, reason] = cells as [string, string, string, string];
    if (!/^[0-9a-f]{40}$/.test(blob))
      return { error: `blob id '${blob}' is not 40 hex digits`, line: i + 1 };
    if (outcome !== 'PASS' && outcome !== 'FAIL' && outcome !== 'SKIP')
      return { error: `outcome '${outcome}' is not PASS, FAIL or SKIP`, line: i + 1 };
    if (outcome !== 'PASS' && reason.trim() === '')
      return { error: `${path} is ${outcome} without a reason`, line: i + 1 };
    rows.push({ path, blob, outcome, reason });
  }
  return rows;
}

/** The manifest's text for `rows`, sorted by path; tabs and newlines in reasons become spaces. */
export function formatManifest(rows: readonly ManifestRow[]): string {
  const sorted = [...rows].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const lines = [MANIFEST_HEADER];
  for (const r of sorted) {
    const reason = r.outcome === 'PASS' ? '' : r.reason.replace(/[\t\r\n]+/g, ' ').trim();
    lines.push(`${r.path}\t${r.blob}\t${r.outcome}\t${reason}`);
  }
  return `${lines.join('\n')}\n`;
}

/** One way a run differs from the manifest. */
export type Difference =
  | { kind: 'outcome'; path: string; expected: Outcome; actual: Outcome; reason: string }
  | { kind: 'changed'; path: string; expectedBlob: string; actualBlob: string }
  | { kind: 'new'; path: string; actual: Outcome }
  | { kind: 'missing'; path: string };

/**
 * The differences between a run and the manifest: a script whose outcome
 * changed (a FAIL that now passes counts too: the manifest must be brought
 * up to date), whose text changed, that the manifest does not list, or that
 * the run did not find. A FAIL or SKIP whose reason text changed is not a
 * difference: reasons carry details (times, values) that move with the stack.
 */
export function compareWithManifest(
  expected: readonly ManifestRow[],
  actual: readonly ManifestRow[],
): Difference[] {
  const differences: Difference[] = [];
  const byPath = new Map(expected.map((r) => [r.path, r]));
  const seen = new Set<string>();
  for (const run of actual) {
    seen.add(run.path);
    const want = byPath.get(run.path);
    if (want === undefined) {
      differences.push({ kind: 'new', path: run.path, actual: run.outcome });
      continue;
    }
    if (want.blob !== run.blob) {
      differences.push({
        kind: 'changed',
        path: run.path,
        expectedBlob: want.blob,
        actualBlob: run.blob,
      });
    }
    if (want.outcome !== run.outcome) {
      differences.push({
        kind: 'outcome',
        path: run.path,
        expected: want.outcome,
        actual: run.outcome,
        reason: run.reason,
      });
    }
  }
  for (const want of expected)
    if (!seen.has(want.path)) differences.push({ kind: 'missing', path: want.path });
  return differences;
}

/** One line describing a difference. */
export function formatDifference(d: Difference): string {
  switch (d.kind) {
    case 'outcome':
      return `${d.path}: expected ${d.expected}, got ${d.actual}${d.reason !== '' ? ` (${d.reason})` : ''}`;
    case 'changed':
      return `${d.path}: the script changed (blob ${d.expectedBlob.slice(0, 12)} in the manifest, ${d.actualBlob.slice(0, 12)} now)`;
    case 'new':
      return `${d.path}: not in the manifest (got ${d.actual})`;
    case 'missing':
      return `${d.path}: in the manifest but not in the suite`;
  }
  return '?';
}

/** `N passed, N failed, N skipped` over rows. */
export function countOutcomes(rows: readonly ManifestRow[]): string {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const r of rows) {
    if (r.outcome === 'PASS') passed++;
    else if (r.outcome === 'FAIL') failed++;
    else skipped++;
  }
  return `${passed} passed, ${failed} failed, ${skipped} skipped`;
}
