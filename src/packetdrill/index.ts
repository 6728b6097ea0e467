/**
 * packetdrill/: an interpreter for packetdrill scripts (the language Linux
 * and FreeBSD TCP developers write conformance tests in) that runs them
 * against a fresh tcpts stack on a virtual clock. A tool above the core: it
 * uses the stack's public API and wire codecs, and no host APIs (the CLI
 * entry reads the files).
 */
export { runScript } from './runner.js';
export type { ScriptResult } from './result.js';
export { DEFAULT_ADDRESSES, SCRIPT_OPTIONS, type RunOptions } from './settings.js';
export {
  parseScript,
  isParseError,
  knownFailureOf,
  type Script,
  type ScriptEvent,
  type ParseError,
} from './script.js';
export { PROFILES, type Profile } from './profiles.js';
export { formatResult, summarize, exitStatus, type NamedResult } from './report.js';
