/**
 * TCP timestamps (RFC 7323): the values are a 32-bit clock that wraps, so
 * every comparison of two TS.Val (or of TS.Ecr with a TS.Val of ours) is
 * modular, as sequence numbers are (RFC 7323 §5.2: "the comparison is
 * performed as 32-bit signed arithmetic"). PAWS (§5.3 R1), TS.Recent
 * updates (§4.3), RTT samples (§4) and Eifel's check (RFC 3522) all go
 * through `tsDiff`.
 */

/**
 * `a − b` for two timestamp values, as a signed 32-bit number: negative when
 * `a` is older than `b`, positive when newer, 0 when equal (RFC 7323 §5.2).
 */
export function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}
