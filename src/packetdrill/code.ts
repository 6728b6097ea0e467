/**
 * `%{ ... }%` blocks. packetdrill hands them to Python with the TCP_INFO of
 * the socket under test bound to `tcpi_*` names; tcpts evaluates the subset
 * that conformance scripts use: `assert <expression>[, <message>]` lines
 * over numbers, with Python's operators and precedence (chained comparisons,
 * `and`/`or`/`not`, `+ - * / // % **`, bitwise operators, parentheses).
 * Anything else (imports, assignments, function calls) is reported as
 * unsupported, so the script is skipped rather than silently passed.
 */

/** The outcome of running a block. */
export type CodeResult =
  | { ok: true }
  | { ok: false; kind: 'assertion'; message: string }
  | { ok: false; kind: 'error'; message: string }
  | { ok: false; kind: 'unsupported'; message: string };

/** Looks a name up; returns undefined when unknown, or a string saying why it is unavailable. */
export type NameLookup = (name: string) => number | string | undefined;

type Value = number | boolean | string;

class CodeError {
  readonly message: string;
  readonly unsupported: boolean;
  constructor(message: string, unsupported = false) {
    this.message = message;
    this.unsupported = unsupported;
  }
}

interface Tok {
  kind: 'num' | 'name' | 'op' | 'str' | 'end';
  text: string;
}

const OPERATORS = [
  '**',
  '//',
  '==',
  '!=',
  '<=',
  '>=',
  '<<',
  '>>',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '(',
  ')',
  ',',
  '|',
  '&',
  '^',
  '~',
];

function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    const num =
      /^(0[xX][0-9a-fA-F]+|[0-9]*\.[0-9]+(?:[eE][-+]?[0-9]+)?|[0-9]+(?:[eE][-+]?[0-9]+)?)/.exec(
        text.slice(i),
      );
    if (num !== null) {
      out.push({ kind: 'num', text: num[1]! });
      i += num[1]!.length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (name !== null) {
      out.push({ kind: 'name', text: name[0] });
      i += name[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new CodeError('unterminated string');
      out.push({ kind: 'str', text: text.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op === undefined) throw new CodeError(`unexpected character '${c}'`, true);
    out.push({ kind: 'op', text: op });
    i += op.length;
  }
  out.push({ kind: 'end', text: '' });
  return out;
}

class ExpressionParser {
  private readonly toks: Tok[];
  private i = 0;
  private readonly lookup: NameLookup;
  /** Names read while evaluating, for the failure message. */
  readonly seen = new Map<string, Value>();

  constructor(toks: Tok[], lookup: NameLookup) {
    this.toks = toks;
    this.lookup = lookup;
  }

  private peek(): Tok {
    return this.toks[this.i]!;
  }

  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }

  private isName(text: string): boolean {
    const t = this.peek();
    return t.kind === 'name' && t.text === text;
  }

  atEnd(): boolean {
    return this.peek().kind === 'end';
  }

  isComma(): boolean {
    return this.isOp(',');
  }

  skip(): void {
    this.i++;
  }

  /** The tokens not read yet, the end included. */
  rest(): Tok[] {
    return this.toks.slice(this.i);
  }

  // Python precedence, lowest first: or, and, not, comparisons, |, ^, &, shifts, + -, * / // %, unary, **.
  expression(): Value {
    let left = this.andExpr();
    while (this.isName('or')) {
      this.i++;
      const right = this.andExpr();
      left = truthy(left) ? left : right;
    }
    return left;
  }

  private andExpr(): Value {
    let left = this.notExpr();
    while (this.isName('and')) {
      this.i++;
      const right = this.notExpr();
      left = truthy(left) ? right : left;
    }
    return left;
  }

  private notExpr(): Value {
    if (this.isName('not')) {
      this.i++;
      return !truthy(this.notExpr());
    }
    return this.comparison();
  }

  private comparison(): Value {
    const first = this.bitOr();
    let left = first;
    let result: Value = first;
    let chained = false;
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || !['==', '!=', '<', '<=', '>', '>='].includes(t.text)) break;
      this.i++;
      const right = this.bitOr();
      const holds = compare(t.text, left, right);
      result = chained ? truthy(result) && holds : holds;
      chained = true;
      left = right;
    }
    return result;
  }

  private bitOr(): Value {
    let left = this.bitXor();
    while (this.isOp('|')) {
      this.i++;
      left = int(left) | int(this.bitXor());
    }
    return left;
  }

  private bitXor(): Value {
    let left = this.bitAnd();
    while (this.isOp('^')) {
      this.i++;
      left = int(left) ^ int(this.bitAnd());
    }
    return left;
  }

  private bitAnd(): Value {
    let left = this.shift();
    while (this.isOp('&')) {
      this.i++;
      left = int(left) & int(this.shift());
    }
    return left;
  }

  private shift(): Value {
    let left = this.sum();
    for (;;) {
      if (this.isOp('<<')) {
        this.i++;
        left = num(left) * 2 ** num(this.sum());
      } else if (this.isOp('>>')) {
        this.i++;
        left = Math.floor(num(left) / 2 ** num(this.sum()));
      } else {
        return left;
      }
    }
  }

  private sum(): Value {
    let left = this.product();
    for (;;) {
      if (this.isOp('+')) {
        this.i++;
        left = num(left) + num(this.product());
      } else if (this.isOp('-')) {
        this.i++;
        left = num(left) - num(this.product());
      } else {
        return left;
      }
    }
  }

  private product(): Value {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || !['*', '/', '//', '%'].includes(t.text)) return left;
      this.i++;
      const right = num(this.unary());
      const l = num(left);
      if (t.text !== '*' && right === 0) throw new CodeError('division by zero');
      if (t.text === '*') left = l * right;
      else if (t.text === '/') left = l / right;
      else if (t.text === '//') left = Math.floor(l / right);
      else left = l - right * Math.floor(l / right); // Python's % takes the divisor's sign.
    }
  }

  private unary(): Value {
    if (this.isOp('-')) {
      this.i++;
      return -num(this.unary());
    }
    if (this.isOp('+')) {
      this.i++;
      return num(this.unary());
    }
    if (this.isOp('~')) {
      this.i++;
      return ~int(this.unary());
    }
    return this.power();
  }

  private power(): Value {
    const base = this.atom();
    if (this.isOp('**')) {
      this.i++;
      return num(base) ** num(this.unary());
    }
    return base;
  }

  private atom(): Value {
    const t = this.peek();
    this.i++;
    if (t.kind === 'num') return Number(t.text);
    if (t.kind === 'str') return t.text;
    if (t.kind === 'op' && t.text === '(') {
      const v = this.expression();
      if (!this.isOp(')')) throw new CodeError("expected ')'");
      this.i++;
      return v;
    }
    if (t.kind === 'name') {
      if (t.text === 'True') return true;
      if (t.text === 'False') return false;
      if (this.isOp('(')) throw new CodeError(`function calls (${t.text}) are not supported`, true);
      const v = this.lookup(t.text);
      if (v === undefined) throw new CodeError(`name '${t.text}' is not defined`);
      if (typeof v === 'string') throw new CodeError(v, true);
      this.seen.set(t.text, v);
      return v;
    }
    throw new CodeError(
      t.kind === 'end' ? 'unexpected end of expression' : `unexpected '${t.text}'`,
    );
  }
}

function truthy(v: Value): boolean {
  return typeof v === 'string' ? v.length > 0 : v !== 0 && v !== false;
}

function num(v: Value): number {
  if (typeof v === 'string') throw new CodeError('strings are not numbers');
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

function int(v: Value): number {
  const n = num(v);
  if (!Number.isInteger(n)) throw new CodeError('bitwise operators need integers');
  return n;
}

function compare(op: string, a: Value, b: Value): boolean {
  if (typeof a === 'string' || typeof b === 'string') {
    if (op === '==') return a === b;
    if (op === '!=') return a !== b;
    throw new CodeError('strings can only be compared with == and !=');
  }
  const x = num(a);
  const y = num(b);
  switch (op) {
    case '==':
      return x === y;
    case '!=':
      return x !== y;
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    default:
      return x >= y;
  }
}

function show(v: Value): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/**
 * Runs a code block: every `assert` line in order. Lines that are empty or
 * comments are skipped; `pass` is accepted; anything else is unsupported.
 */
export function runCode(code: string, lookup: NameLookup): CodeResult {
  const lines = code.split(/\n|;/);
  for (const rawLine of lines) {
    const hash = rawLine.indexOf('#');
    const line = (hash >= 0 ? rawLine.slice(0, hash) : rawLine).trim();
    if (line === '' || line === 'pass') continue;
    const m = /^assert\b(.*)$/.exec(line);
    if (m === null) {
      return {
        ok: false,
        kind: 'unsupported',
        message: `only assert statements are supported in %{ }% blocks, not '${line}'`,
      };
    }
    let parser: ExpressionParser;
    try {
      parser = new ExpressionParser(tokenize(m[1]!), lookup);
      const value = parser.expression();
      // Python evaluates an assert's message only when the assertion fails;
      // so do we, and a message we cannot evaluate ('cwnd=%d' % x) is shown as written.
      let messageTokens: Tok[] = [];
      if (parser.isComma()) {
        parser.skip();
        messageTokens = parser.rest();
      } else if (!parser.atEnd()) {
        throw new CodeError(`unexpected text after the expression in '${line}'`);
      }
      if (!truthy(value)) {
        let message = '';
        if (messageTokens.length > 1) {
          const messageParser = new ExpressionParser(messageTokens, lookup);
          try {
            const shown = messageParser.expression();
            if (!messageParser.atEnd()) throw new CodeError('unexpected text');
            message = show(shown);
          } catch (error) {
            if (!(error instanceof CodeError)) throw error;
            message = line.slice(line.indexOf(',') + 1).trim();
          }
        }
        const names = [...parser.seen].map(([k, v]) => `${k}=${show(v)}`).join(', ');
        const detail = [message, names].filter((part) => part !== '').join('; ');
        return {
          ok: false,
          kind: 'assertion',
          message: `assertion failed: ${m[1]!.trim()}${detail !== '' ? ` (${detail})` : ''}`,
        };
      }
    } catch (error) {
      if (error instanceof CodeError) {
        return {
          ok: false,
          kind: error.unsupported ? 'unsupported' : 'error',
          message: `${error.message} in '${line}'`,
        };
      }
      throw error;
    }
  }
  return { ok: true };
}
