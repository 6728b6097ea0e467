// One linter for the whole tree. Besides the usual TypeScript rules it makes
// the architecture of ../shared/DESIGN.md mechanical:
//   base <- wire <- tcp, udp <- stack <- runtime <- net <- cli
//   link imports only base and wire; sim imports stack, link, wire, base.
// A folder may import another folder only through its entry file (index.ts),
// and nothing below the sans-IO line may import node: modules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { noRawSeqCompare } from './eslint-rules/no-raw-seq-compare.js';

/** Which src/ folders each folder may import from. */
const allowed = {
  base: [],
  wire: ['base'],
  tcp: ['base', 'wire'],
  udp: ['base', 'wire'],
  stack: ['base', 'wire', 'tcp', 'udp'],
  link: ['base', 'wire'],
  sim: ['base', 'wire', 'link', 'stack', 'tcp', 'udp'],
  runtime: ['base', 'wire', 'tcp', 'udp', 'stack', 'link', 'sim'],
  net: ['base', 'wire', 'tcp', 'udp', 'stack', 'link', 'sim', 'runtime'],
  packetdrill: ['base', 'wire', 'tcp', 'udp', 'stack', 'link', 'sim'],
  gateway: ['base', 'wire', 'stack', 'link', 'runtime', 'net'],
  cli: [
    'base',
    'wire',
    'tcp',
    'udp',
    'stack',
    'link',
    'sim',
    'runtime',
    'net',
    'packetdrill',
    'gateway',
  ],
};
const folders = Object.keys(allowed);
// packetdrill/ sits above the core but is pure too: scripts run in virtual time.
const coreFolders = ['base', 'wire', 'tcp', 'udp', 'stack', 'link', 'sim', 'packetdrill'];

function boundaryRules(folder) {
  const patterns = [];
  for (const other of folders) {
    if (other === folder) continue;
    if (allowed[folder].includes(other)) {
      // link/node/ is a second entry of link/: the host-device links, for the layers above the line.
      const entries =
        other === 'link' && ['runtime', 'net', 'gateway', 'cli'].includes(folder)
          ? [
              `!../${other}/index.js`,
              // gitignore semantics: re-include the folder, then all but its entry again.
              `!../${other}/node`,
              `../${other}/node/*`,
              `!../${other}/node/index.js`,
            ]
          : [`!../${other}/index.js`];
      const withNode = other === 'link' && ['runtime', 'net', 'gateway', 'cli'].includes(folder);
      patterns.push({
        group: [`../${other}/*`, ...entries],
        message: `Import ${other}/ through its entry file: '../${other}/index.js'.`,
      });
      // The same from a file in a subfolder (../../other/..., any depth).
      patterns.push({
        regex: `^\\.\\./(\\.\\./)+${other}/(?!index\\.js$${withNode ? '|node/index\\.js$' : ''})`,
        message: `Import ${other}/ through its entry file (${other}/index.js).`,
      });
    } else {
      patterns.push({
        regex: `^(\\.\\./)+${other}/`,
        message: `${folder}/ may not import ${other}/ (dependency direction in DESIGN.md).`,
      });
    }
  }
  if (coreFolders.includes(folder)) {
    patterns.push({
      group: ['node:*', 'fs', 'net', 'os', 'path', 'crypto', 'events', 'stream', 'buffer'],
      message: 'No host APIs below the sans-IO line: pass time, randomness and I/O in.',
    });
  }
  return { 'no-restricted-imports': ['error', { patterns }] };
}

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', 'native/build/**', 'tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...folders.map((folder) => ({
    files: [`src/${folder}/**/*.ts`],
    ignores: folder === 'link' ? ['src/link/node/**'] : [],
    rules: boundaryRules(folder),
  })),
  {
    // Sequence numbers compare modulo 2^32 (RFC 9293 §3.4): a rule with type
    // information refuses a raw `<` on a SeqNum, which the type system allows.
    files: ['src/**/*.ts'],
    ignores: ['src/base/seq.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { tcpts: { rules: { 'no-raw-seq-compare': noRawSeqCompare } } },
    rules: { 'tcpts/no-raw-seq-compare': 'error' },
  },
  {
    files: ['scripts/**/*.{js,mjs}', 'eslint.config.js', 'eslint-rules/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
