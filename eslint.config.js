// One linter for the whole tree. Besides the usual TypeScript rules it makes
// the architecture of docs/architecture.md mechanical:
//   base <- wire <- tcp, udp <- stack <- runtime <- net <- cli (the table
//   `allowed` below is the whole rule, and the document's table mirrors it).
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
  web: ['base', 'wire', 'tcp', 'udp', 'stack', 'link', 'sim', 'runtime'],
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
// runtime/ and web/ use host APIs, but only those every JavaScript host has
// (timers, Web Crypto, web streams): they run in a browser, so no node: either.
const nodeFreeFolders = [...coreFolders, 'runtime', 'web'];

/** Folders with a second entry file, and which folders may use it. */
const secondEntries = {
  link: { sub: 'node', for: ['runtime', 'net', 'gateway', 'cli'] },
  sim: { sub: 'scenario', for: ['cli'] },
};

function boundaryRules(folder) {
  const patterns = [];
  for (const other of folders) {
    if (other === folder) continue;
    if (allowed[folder].includes(other)) {
      // A second entry: link/node/ (the host-device links) for the layers
      // above the line, and sim/scenario/ (the repository's seeded test
      // harness) for the command that runs it.
      const second = secondEntries[other]?.for.includes(folder) ? secondEntries[other].sub : null;
      const entries =
        second !== null
          ? [
              `!../${other}/index.js`,
              // gitignore semantics: re-include the folder, then all but its entry again.
              `!../${other}/${second}`,
              `../${other}/${second}/*`,
              `!../${other}/${second}/index.js`,
            ]
          : [`!../${other}/index.js`];
      const hasSecond = second !== null;
      patterns.push({
        group: [`../${other}/*`, ...entries],
        message: `Import ${other}/ through its entry file: '../${other}/index.js'.`,
      });
      // The same from a file in a subfolder (../../other/..., any depth).
      patterns.push({
        regex: `^\\.\\./(\\.\\./)+${other}/(?!index\\.js$${hasSecond ? `|${second}/index\\.js$` : ''})`,
        message: `Import ${other}/ through its entry file (${other}/index.js).`,
      });
    } else {
      patterns.push({
        regex: `^(\\.\\./)+${other}/`,
        message: `${folder}/ may not import ${other}/ (dependency direction in docs/architecture.md).`,
      });
    }
  }
  if (coreFolders.includes(folder)) {
    patterns.push({
      group: ['node:*', 'fs', 'net', 'os', 'path', 'crypto', 'events', 'stream', 'buffer'],
      message: 'No host APIs below the sans-IO line: pass time, randomness and I/O in.',
    });
  } else if (nodeFreeFolders.includes(folder)) {
    patterns.push({
      group: ['node:*', 'fs', 'net', 'os', 'path', 'crypto', 'events', 'stream', 'buffer'],
      message: `${folder}/ runs in browsers too: use what every JavaScript host has, not node: modules.`,
    });
  }
  return { 'no-restricted-imports': ['error', { patterns }] };
}

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'coverage/**',
      'node_modules/**',
      'packages/tuntap/build/**',
      'tmp/**',
      'web/dist/**',
    ],
  },
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
    files: [
      'scripts/**/*.{js,mjs}',
      'packages/*/*.{js,mjs}',
      'eslint.config.js',
      'eslint-rules/**/*.js',
    ],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
