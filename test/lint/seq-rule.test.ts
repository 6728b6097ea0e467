// The SeqNum rule (eslint-rules/no-raw-seq-compare.js) with the type checker
// behind it: it flags exactly the raw relational operators on sequence numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { noRawSeqCompare } from '../../eslint-rules/no-raw-seq-compare.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('a raw < or >= on a SeqNum is refused; seqLt and plain numbers are not', async () => {
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['test/lint/*.ts'],
        languageOptions: {
          parser: tseslint.parser,
          parserOptions: { projectService: true, tsconfigRootDir: root },
        },
        plugins: { tcpts: { rules: { 'no-raw-seq-compare': noRawSeqCompare } } },
        rules: { 'tcpts/no-raw-seq-compare': 'error' },
      },
    ],
  });
  const [result] = await eslint.lintFiles(['test/lint/seq-fixture.ts']);
  const found = result!.messages.map((m) => [m.line, m.ruleId]);
  assert.deepEqual(found, [
    [6, 'tcpts/no-raw-seq-compare'],
    [7, 'tcpts/no-raw-seq-compare'],
  ]);
});
