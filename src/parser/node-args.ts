import type { SourceRange } from '../errors.js';
import {
  type LineArgs,
  parseHealthConfig,
  parseMaybeJSON,
  parseMaybeJSONToList,
  parseNameOrNameVal,
  parseNameVal,
  parseString,
  parseStringsWhitespaceDelimited,
} from './line-parsers.js';

/** BuildKit's dispatch table: which line parser splits the args of each keyword. */
export function argsForKeyword(kw: string, rest: string, esc: string, range: SourceRange): LineArgs {
  switch (kw) {
    case 'ADD':
    case 'COPY':
    case 'VOLUME':
      return parseMaybeJSONToList(rest, range);
    case 'ARG':
      return parseNameOrNameVal(rest, esc);
    case 'CMD':
    case 'ENTRYPOINT':
    case 'RUN':
    case 'SHELL':
      return parseMaybeJSON(rest, range);
    case 'ENV':
    case 'LABEL':
      return parseNameVal(rest, kw, esc, range);
    case 'EXPOSE':
    case 'FROM':
      return parseStringsWhitespaceDelimited(rest);
    case 'HEALTHCHECK':
      return parseHealthConfig(rest, range);
    case 'MAINTAINER':
    case 'STOPSIGNAL':
    case 'USER':
    case 'WORKDIR':
      return parseString(rest);
    default:
      // ONBUILD keeps its trigger as a child node; unknown keywords fail later with a suggestion.
      return { args: rest === '' ? [] : [rest], json: false };
  }
}
