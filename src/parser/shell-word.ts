import type { EnvLookup, LexOptions } from './shell-lexer.js';
import { replacePattern, trimPrefix, trimSuffix } from './shell-pattern.js';
import { Words } from './word-list.js';

/**
 * The scanner behind the shell lexer: one instance per word. Mirrors BuildKit's shellWord
 * (processStopOn, processSingleQuote, processDoubleQuote, processDollar, processName).
 */
const EOF = '';
const MAX_DEPTH = 200;

const reLetter = /^\p{L}$/u;
const reDigit = /^\p{Nd}$/u;

/** A lexing failure; the public functions turn it into a DockerfileSyntaxError with a range. */
export class LexError extends Error {}

export class ShellWord {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  /** Only processWordWithMatches tracks variables (Sets per word are measurable in the parser). */
  matched: Set<string> | undefined;
  unmatched: Set<string> | undefined;

  constructor(
    source: string,
    private readonly lookup: EnvLookup,
    private readonly opts: LexOptions,
    private readonly esc: string,
  ) {
    this.chars = Array.from(source);
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  private peek(): string {
    return this.chars[this.pos] ?? EOF;
  }
  private next(): string {
    const ch = this.chars[this.pos] ?? EOF;
    if (ch !== EOF) this.pos++;
    return ch;
  }

  private getEnv(name: string): string | undefined {
    const v = this.lookup(name);
    if (v === undefined) this.unmatched?.add(name);
    else this.matched?.add(name);
    return v;
  }

  /** Reads up to one of `stops` (consumed, returned as `stop`), or to the end when `stops` is empty. */
  processStopOn(stops: string[], rawEscapes: boolean): { result: string; words: string[]; stop: string } {
    let result = '';
    const words = new Words();
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      while (this.peek() !== EOF) {
        let ch = this.peek();
        if (stops.includes(ch)) {
          this.next();
          return { result, words: words.get(), stop: ch };
        }
        if (ch === '$') {
          const tmp = this.processDollar();
          result += tmp;
          words.addString(tmp);
        } else if ((ch === "'" || ch === '"') && !this.opts.skipProcessQuotes) {
          const tmp = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
          result += tmp;
          words.addRawString(tmp);
        } else {
          ch = this.next();
          if (ch === this.esc) {
            if (this.rawEscapes) {
              words.addRawChar(ch);
              result += ch;
            }
            // The escape char escapes the next one; at the very end it is dropped.
            ch = this.next();
            if (ch === EOF) break;
            words.addRawChar(ch);
          } else words.addChar(ch);
          result += ch;
        }
      }
      if (stops.length > 0) {
        throw new LexError(
          `unexpected end of statement while looking for matching ${stops[stops.length - 1]}`,
        );
      }
      return { result, words: words.get(), stop: EOF };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    // Everything up to the next ' is literal; ' cannot be escaped inside.
    let result = '';
    let ch = this.next();
    if (this.opts.rawQuotes) result += ch;
    for (;;) {
      ch = this.next();
      if (ch === EOF)
        throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    // Literal except `$`; the escape char escapes only `"`, `$` and itself (others stay).
    let result = '';
    let ch = this.next();
    if (this.opts.rawQuotes) result += ch;
    for (;;) {
      const p = this.peek();
      if (p === EOF)
        throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        ch = this.next();
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      if (p === '$') {
        result += this.processDollar();
        continue;
      }
      ch = this.next();
      if (ch === this.esc) {
        if (this.rawEscapes) result += ch;
        const q = this.peek();
        if (q === EOF) continue;
        if (q === '"' || q === '$' || q === this.esc) ch = this.next();
      }
      result += ch;
    }
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name.length === 0 && reDigit.test(ch)) {
        while (this.peek() !== EOF && reDigit.test(this.peek())) name += this.next();
        return name;
      }
      if (name.length === 0 && '@*#?-$!0'.includes(ch)) return this.next();
      if (!reLetter.test(ch) && !reDigit.test(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private stopOnBrace(stops: string[], rawEscapes: boolean, missing: string) {
    try {
      return this.processStopOn(stops, rawEscapes);
    } catch (e) {
      if (e instanceof LexError && this.peek() === EOF) throw new LexError(missing);
      throw e;
    }
  }

  private depth = 0;

  processDollar(): string {
    // `${a:-${b:-${c…}}}` recurses; a hostile nesting must fail cleanly, not overflow the stack.
    if (++this.depth > MAX_DEPTH) throw new LexError(`substitutions nested deeper than ${MAX_DEPTH}`);
    try {
      return this.processDollarInner();
    } finally {
      this.depth--;
    }
  }

  private processDollarInner(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const v = this.getEnv(name);
      if (v === undefined && this.opts.skipUnsetEnv) return `$${name}`;
      return v ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    let chs = ch;
    if (ch === EOF) throw new LexError("syntax error: missing '}'");
    if (ch === '}') {
      const v = this.getEnv(name);
      if (v === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
      return v ?? '';
    }
    if (ch === '/') return this.processReplace(name);
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      chs += ch;
    }
    if (!['+', '-', '?', '#', '%'].includes(ch)) {
      throw new LexError(`unsupported modifier (${chs}) in substitution`);
    }
    const patternMode = ch === '#' || ch === '%';
    if (nullIsUnset && patternMode) throw new LexError(`unsupported modifier (${chs}) in substitution`);
    let { result: word } = this.stopOnBrace(['}'], patternMode, "syntax error: missing '}'");
    const value = this.getEnv(name);
    if (this.opts.skipUnsetEnv && value === undefined) return `\${${name}${chs}${word}}`;
    const empty = value === undefined || (nullIsUnset && value === '');
    switch (ch) {
      case '-':
        return empty ? word : (value ?? '');
      case '+':
        return empty ? '' : word;
      case '?':
        if (value === undefined) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '')
          throw new LexError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      default: {
        // `#`/`%` remove the shortest match, `##`/`%%` the longest.
        let greedy = false;
        if (word.startsWith(ch)) {
          greedy = true;
          word = word.slice(1);
        }
        const v = value ?? '';
        return ch === '%' ? trimSuffix(word, v, greedy) : trimPrefix(word, v, greedy);
      }
    }
  }

  private processReplace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const pat = this.stopOnBrace(['/', '}'], true, "syntax error: missing '}'");
    let replacement = '';
    if (pat.stop === '/') {
      replacement = this.stopOnBrace(['}'], true, "syntax error: missing '}'").result;
    }
    const value = this.getEnv(name);
    if (this.opts.skipUnsetEnv && value === undefined) {
      return `\${${name}/${all ? '/' : ''}${pat.result}${pat.stop === '/' ? `/${replacement}` : ''}}`;
    }
    return replacePattern(pat.result, value ?? '', replacement, all);
  }
}
