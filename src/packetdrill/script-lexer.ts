/**
 * The front of the packetdrill language: the preprocessor (`--option=value`
 * and `-D NAME=value` header lines, `#ifdef`/`#ifndef`/`#else`/`#endif`,
 * `// KNOWN-FAIL:` notes) and the lexer that turns the remaining text into
 * tokens for script.ts's parser. `Failure` is the one error both raise.
 */

// ---------------------------------------------------------------------------
// Preprocessor

export class Failure {
  readonly message: string;
  readonly line: number;
  readonly unsupported: boolean;
  constructor(message: string, line: number, unsupported = false) {
    this.message = message;
    this.line = line;
    this.unsupported = unsupported;
  }
}

export interface Preprocessed {
  text: string;
  options: Map<string, string>;
  defines: Map<string, string>;
  knownFailure: string | null;
}

export function preprocess(
  source: string,
  outsideDefines: ReadonlyMap<string, string>,
): Preprocessed {
  const lines = source.split(/\r?\n/);
  const options = new Map<string, string>();
  const defines = new Map<string, string>(outsideDefines);
  let knownFailure: string | null = null;
  // Each #if level: [this branch active, any branch of it taken, parent active].
  const stack: Array<{ active: boolean; parent: boolean }> = [];
  let active = true;
  let inCode = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.trim();
    const known = /^\/\/\s*KNOWN-FAIL:\s*(.*)$/.exec(line);
    if (known !== null && knownFailure === null) knownFailure = known[1]!.trim();
    if (!inCode && line.startsWith('#')) {
      const directive = /^#\s*(ifdef|ifndef|else|endif)\b\s*([A-Za-z_][A-Za-z0-9_]*)?/.exec(line);
      if (directive !== null) {
        const kind = directive[1]!;
        if (kind === 'ifdef' || kind === 'ifndef') {
          const name = directive[2];
          if (name === undefined) throw new Failure(`#${kind} needs a name`, i + 1);
          const defined = defines.has(name);
          stack.push({ active, parent: active });
          active = active && (kind === 'ifdef' ? defined : !defined);
        } else if (kind === 'else') {
          const top = stack[stack.length - 1];
          if (top === undefined) throw new Failure('#else without #ifdef', i + 1);
          active = top.parent && !active;
        } else {
          const top = stack.pop();
          if (top === undefined) throw new Failure('#endif without #ifdef', i + 1);
          active = top.active;
        }
      }
      // Other lines starting with # are comments.
      lines[i] = '';
      continue;
    }
    if (!active) {
      lines[i] = '';
      continue;
    }
    if (!inCode) {
      // An option line may end in a comment: `--tcp_ts_ecr_scaled // used in TEST 5`.
      const withoutComment = line.replace(/\s+\/\/.*$/, '').replace(/\s*\/\*.*\*\/$/, '');
      const option = /^--([A-Za-z0-9_]+)(?:=(.*))?$/.exec(withoutComment);
      if (option !== null) {
        const name = option[1]!;
        const value = (option[2] ?? '').trim().replace(/^"(.*)"$/, '$1');
        if (name === 'define') addDefine(defines, value, i + 1);
        else options.set(name, value);
        lines[i] = '';
        continue;
      }
      const define = /^-D\s*(.+)$/.exec(line);
      if (define !== null) {
        addDefine(defines, define[1]!.trim(), i + 1);
        lines[i] = '';
        continue;
      }
    }
    // Track %{ ... }% so that Python comments inside stay untouched.
    const opens = raw.lastIndexOf('%{');
    const closes = raw.lastIndexOf('}%');
    if (opens >= 0 && opens > closes) inCode = true;
    else if (closes >= 0 && closes > opens) inCode = false;
  }
  if (stack.length > 0) throw new Failure('#ifdef without #endif', lines.length);
  return { text: lines.join('\n'), options, defines, knownFailure };
}

function addDefine(defines: Map<string, string>, text: string, line: number): void {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(text);
  if (m === null) throw new Failure(`bad definition '${text}': expected NAME=value`, line);
  defines.set(m[1]!, (m[2] ?? '1').replace(/^"(.*)"$/, '$1'));
}

// ---------------------------------------------------------------------------
// Lexer

export type TokenKind = 'num' | 'hex' | 'word' | 'string' | 'shell' | 'code' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  line: number;
}

const PUNCT = "<>+*~()[]{},=:|-.!/%;&^@?'$";

export function lex(text: string, defines: ReadonlyMap<string, string>): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  const push = (kind: TokenKind, t: string, at: number): void => {
    tokens.push({ kind, text: t, line: at });
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new Failure('unterminated /* comment', line);
      for (let j = i; j < end; j++) if (text[j] === '\n') line++;
      i = end + 2;
      continue;
    }
    if (c === '%' && text[i + 1] === '{') {
      const end = text.indexOf('}%', i + 2);
      if (end < 0) throw new Failure('unterminated %{ code block', line);
      const body = text.slice(i + 2, end);
      push('code', body, line);
      for (const ch of body) if (ch === '\n') line++;
      i = end + 2;
      continue;
    }
    if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) throw new Failure('unterminated ` command', line);
      const body = text.slice(i + 1, end);
      push('shell', body, line);
      for (const ch of body) if (ch === '\n') line++;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let value = '';
      while (j < n && text[j] !== '"') {
        if (text[j] === '\\' && j + 1 < n) {
          const e = text[j + 1]!;
          value += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          j += 2;
        } else {
          if (text[j] === '\n') line++;
          value += text[j]!;
          j++;
        }
      }
      if (j >= n) throw new Failure('unterminated string', line);
      push('string', value, line);
      i = j + 1;
      continue;
    }
    if (c === '.' && text[i + 1] === '.' && text[i + 2] === '.') {
      push('punct', '...', line);
      i += 3;
      continue;
    }
    if (c === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
      const m = /^0[xX][0-9a-fA-F]+/.exec(text.slice(i, i + 20))!;
      push('hex', m[0], line);
      i += m[0].length;
      continue;
    }
    if ((c >= '0' && c <= '9') || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      // FLOAT is [0-9]*\.[0-9]+ (so "0.100...0.2" is FLOAT ELLIPSIS FLOAT), INTEGER [0-9]+.
      const m = /^[0-9]*\.[0-9]+|^[0-9]+/.exec(text.slice(i, i + 40))!;
      push('num', m[0], line);
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 200))!;
      const word = m[0];
      i += word.length;
      const value = defines.get(word);
      if (value !== undefined && value !== word) {
        // -D substitution: the definition's tokens stand in for the name.
        for (const t of lex(value, new Map())) if (t.kind !== 'eof') push(t.kind, t.text, line);
      } else {
        push('word', word, line);
      }
      continue;
    }
    if (PUNCT.includes(c)) {
      push('punct', c, line);
      i++;
      continue;
    }
    throw new Failure(`unexpected character '${c}'`, line);
  }
  push('eof', '', line);
  return tokens;
}
