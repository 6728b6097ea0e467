// Input for test/lint/seq-rule.test.ts: two raw comparisons on SeqNum that the
// lint rule must refuse, and comparisons it must let through.
import { seq, seqLt, type SeqNum } from '../../src/base/index.js';

export function rawCompare(a: SeqNum, maybe: SeqNum | undefined): boolean {
  const wrong = a < seq(5);
  const alsoWrong = maybe !== undefined && maybe >= a;
  const fine = seqLt(a, seq(5)) && 3 < 4 && a.toString().length > 1;
  return wrong || alsoWrong || fine;
}
