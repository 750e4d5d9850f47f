import { expandWords } from './shell-lexer.js';
import type { Heredoc } from './types.js';

const reHeredoc = /^(\d*)<<(-?)([^<]*)$/;
const none = () => undefined;

/**
 * One word of an instruction line → a heredoc start, as BuildKit's heredocFromMatch: `[fd]<<[-]NAME`,
 * where NAME is one shell word; any quoting in it (`'EOF'`, `"EOF"`, `E"O"F`) turns expansion off.
 * Throws the lexer's DockerfileSyntaxError for an unterminated quote in the name.
 */
export function parseHeredocWord(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = reHeredoc.exec(word);
  if (!m) return undefined;
  const rest = m[3]!;
  if (rest.length === 0) return undefined;
  const words = expandWords(rest, none, { skipUnsetEnv: true });
  if (words.length !== 1) return undefined;
  const raw = expandWords(rest, none, { skipUnsetEnv: true, rawQuotes: true });
  const name = words[0]!;
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  const h: Omit<Heredoc, 'content'> = {
    name,
    expand: quotes(name) === quotes(raw[0] ?? ''),
    chomp: m[2] === '-',
  };
  if (m[1] !== '') h.fileDescriptor = Number.parseInt(m[1]!, 10);
  return h;
}

/** The heredocs a logical instruction line opens, in order. */
export function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = expandWords(line, none, { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  } catch {
    // BuildKit ignores lexing errors here: such a line simply has no heredocs.
    return [];
  }
  const docs: Omit<Heredoc, 'content'>[] = [];
  for (const w of words) {
    const h = parseHeredocWord(w);
    if (h) docs.push(h);
  }
  return docs;
}

/** `<<-`: strip leading tabs of every line. */
export function chompHeredocContent(s: string): string {
  return s.replace(/^\t+/gm, '');
}
