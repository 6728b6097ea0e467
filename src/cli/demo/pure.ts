/**
 * The part of `tcpts demo` that runs anywhere JavaScript does (no node:
 * import is reachable from here): the scenarios, their runner and the
 * result, for the web page. ./index.ts adds the terminal output and the
 * command.
 */
export * from './options.js';
export { runDemo } from './run.js';
