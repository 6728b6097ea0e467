/**
 * The outcome of one script (pass, fail or skip, with where and why), and
 * the exception the interpreter's parts throw to end a run with one.
 */

/** The outcome of one script. */
export interface ScriptResult {
  status: 'pass' | 'fail' | 'skip';
  /** The script line the failure or skip refers to, or null. */
  line: number | null;
  /** Why it failed or was skipped ('' on a pass). */
  message: string;
  /** Expected and actual packets or values, one per line. */
  details: string[];
  /** Virtual time of the failure in microseconds, or null. */
  time: number | null;
  /** A `// KNOWN-FAIL: reason` line of the script, or null. */
  knownFailure: string | null;
}

/** Thrown to end a run with its result; caught once, by the run loop. */
export class Stop {
  readonly result: ScriptResult;
  constructor(result: ScriptResult) {
    this.result = result;
  }
}
