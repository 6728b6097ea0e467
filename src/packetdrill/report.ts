/**
 * How results are shown: one line per script (PASS, FAIL with the line,
 * expected and actual and the time, or SKIPPED with the reason), a summary
 * line, and the exit status (0 all passed, 1 any failed, 2 none failed but
 * some were skipped).
 */
import type { ScriptResult } from './result.js';

/** A result with the script's path. */
export interface NamedResult {
  path: string;
  result: ScriptResult;
}

/** The lines for one script: the verdict, then indented details. */
export function formatResult({ path, result }: NamedResult): string[] {
  const where = result.line !== null ? `${path}:${result.line}` : path;
  const known = result.knownFailure;
  switch (result.status) {
    case 'pass':
      return [
        known !== null
          ? `PASS ${path} (it has a KNOWN-FAIL line, "${known}": remove it)`
          : `PASS ${path}`,
      ];
    case 'skip':
      return [`SKIPPED ${where}: ${result.message}`];
    case 'fail': {
      const at = result.time !== null ? ` (at ${(result.time / 1e6).toFixed(6)} s)` : '';
      const lines = [`FAIL ${where}: ${result.message}${at}`];
      for (const d of result.details) lines.push(`  ${d}`);
      if (known !== null) lines.push(`  known failure: ${known}`);
      return lines;
    }
  }
  return [`? ${path}`];
}

/** `N passed, N failed, N skipped`. */
export function summarize(results: readonly NamedResult[]): string {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const { result } of results) {
    if (result.status === 'pass') passed++;
    else if (result.status === 'fail') failed++;
    else skipped++;
  }
  return `${passed} passed, ${failed} failed, ${skipped} skipped`;
}

/** 0 when every script passed, 1 when any failed, 2 when none failed but some were skipped. */
export function exitStatus(results: readonly NamedResult[]): number {
  if (results.some((r) => r.result.status === 'fail')) return 1;
  if (results.some((r) => r.result.status === 'skip')) return 2;
  return 0;
}

/** A virtual time in microseconds as seconds with six decimals, as packetdrill prints times. */
export function seconds6(micros: number): string {
  return (micros / 1e6).toFixed(6);
}
