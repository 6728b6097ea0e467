/**
 * Bugs already reported and not fixed yet that a check runs into: the soak
 * lists their failures apart, and `strict` counts them.
 */

/** A bug already reported and not fixed yet, that a check runs into. */
export interface KnownIssue {
  /** What is wrong, where. */
  issue: string;
  /**
   * The bug can make other checks fail in the same run (a connection that
   * loses segments times out): a run that hits it is reported as known as a
   * whole, its other failures with it.
   */
  taints: boolean;
}

/**
 * Checks whose failures point at bugs already reported and not fixed yet:
 * the soak lists them apart, and `strict` makes them count. Remove an entry
 * when its bug is fixed.
 */
export const KNOWN_ISSUES: Readonly<Record<string, KnownIssue>> = {};
