// A test reporter that adds one summary to the end of a run: how many tests
// were skipped, grouped by the reason they gave (a tool that is not
// installed, no root for the interop tests ...), so a missing tool cannot
// hide among hundreds of passing lines. scripts/run-tests.mjs adds it after
// the spec reporter.
export default async function* skipSummary(source) {
  const byReason = new Map();
  let total = 0;
  for await (const event of source) {
    if (event.type !== 'test:pass' || event.data.skip === undefined) continue;
    const reason = typeof event.data.skip === 'string' ? event.data.skip : 'no reason given';
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    total++;
  }
  if (total === 0) return;
  const lines = [`\n${total} test(s) skipped:`];
  for (const [reason, count] of [...byReason].sort((a, b) => b[1] - a[1])) {
    lines.push(`  ${String(count).padStart(4)}  ${reason}`);
  }
  yield `${lines.join('\n')}\n`;
}
