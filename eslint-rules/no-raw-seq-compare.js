// A lint rule that makes src/base/seq.ts's promise mechanical: sequence
// numbers (the branded SeqNum) are compared modulo 2^32 through seqLt and its
// siblings, never with a raw relational operator. TypeScript alone cannot
// refuse `a < b` on a branded number, so this rule asks the type checker.
// RFC 9293 §3.4: "comparisons of sequence numbers ... must be modulo 2^32".

const relational = new Set(['<', '<=', '>', '>=']);

/** True when the type is SeqNum (an intersection carrying the `__seq` brand), or a union holding one. */
function isSeqNum(type) {
  if (type.isUnion()) return type.types.some(isSeqNum);
  return type.getProperty('__seq') !== undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
export const noRawSeqCompare = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Compare SeqNum values only through seqLt/seqLe/seqGt/seqGe (modulo 2^32).',
    },
    messages: {
      raw: "Raw '{{op}}' on a SeqNum wraps wrongly at 2^32: use seqLt/seqLe/seqGt/seqGe from base/.",
    },
    schema: [],
  },
  create(context) {
    const services = context.sourceCode.parserServices;
    if (!services?.program) return {};
    return {
      BinaryExpression(node) {
        if (!relational.has(node.operator)) return;
        if (
          isSeqNum(services.getTypeAtLocation(node.left)) ||
          isSeqNum(services.getTypeAtLocation(node.right))
        )
          context.report({ node, messageId: 'raw', data: { op: node.operator } });
      },
    };
  },
};
