import type { Rule } from 'eslint';
/** Refuses `<`, `<=`, `>` and `>=` on SeqNum values (see the .js file beside this). */
export declare const noRawSeqCompare: Rule.RuleModule;
