/**
 * Runs every test/packetdrill/*.pkt against tcpts in virtual time. Each
 * script must pass, unless it carries a `// KNOWN-FAIL: reason` line: then
 * it is reported as a todo with the reason (a tcpts bug the script reveals),
 * visible in the output but not failing the run. They run strict about
 * unexpected packets: one the stack sent that no `>` line took fails the
 * script (packetdrill itself never looks at leftovers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatResult, knownFailureOf, runScript } from '../../src/packetdrill/index.js';

const dir = dirname(fileURLToPath(import.meta.url));
const scripts = readdirSync(dir)
  .filter((name) => name.endsWith('.pkt'))
  .sort();

test('the suite has at least 80 scripts of our own', () => {
  assert.ok(scripts.length >= 80, `only ${scripts.length} scripts`);
});

for (const name of scripts) {
  const text = readFileSync(join(dir, name), 'utf8');
  const known = knownFailureOf(text);
  const options = known !== null ? { todo: `KNOWN-FAIL: ${known}` } : {};
  test(`packetdrill ${name}`, options, () => {
    const result = runScript(text, {
      unexpectedPackets: 'strict',
      // A shell line that runs a script file reads it next to the script.
      readFile: (file) => {
        try {
          return readFileSync(join(dir, file), 'utf8');
        } catch {
          return null;
        }
      },
    });
    const report = formatResult({ path: name, result }).join('\n');
    assert.equal(result.status, 'pass', report);
  });
}
