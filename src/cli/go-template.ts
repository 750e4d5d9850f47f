import { TsbuildError } from '../errors.js';

/**
 * The part of Go's text/template that docker's `--format` is used with: `{{.Field.Sub}}` and
 * `{{json .Field}}` (`.` alone is the whole value), printed as Go's fmt prints them (a list as
 * `[a b]`, a map as `map[k:v]` with sorted keys, nothing as `<nil>`). `\t` and `\n` as written
 * become tab and newline, as docker's formatter replaces them. Anything else is refused.
 */
export const ACTION = /\{\{\s*(json\s+)?\.((?:[A-Za-z_]\w*)?(?:\.[A-Za-z_]\w*)*)\s*\}\}/g;

export function checkTemplate(body: string, format: string): void {
  if (body.replace(ACTION, '').includes('{{')) {
    throw new TsbuildError('USAGE', `unsupported --format template: ${format}`, {
      hint: 'use {{.Field}}, {{.Field.Sub}} or {{json .Field}}',
    });
  }
}

/** `format` with docker's `\t`/`\n` escapes turned into the characters. */
export function unescapeFormat(format: string): string {
  return format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

/**
 * `marshalsRow`: `data` is one of docker/cli's formatter contexts (a row of `images`, `history`),
 * whose MarshalJSON goes through json.Marshal, so `{{json .}}` of it comes out HTML-escaped
 * (`\u003cmissing\u003e`) although the template's `json` itself does not escape.
 */
export function renderTemplate(body: string, data: unknown, { marshalsRow = false } = {}): string {
  return body.replace(ACTION, (_, json: string | undefined, path: string) => {
    let v: unknown = data;
    for (const key of path === '' ? [] : path.split('.')) {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !(key in v))
        throw new TsbuildError('USAGE', `template: can't evaluate field ${key}`);
      v = (v as Record<string, unknown>)[key];
    }
    if (!json) return goPrint(v);
    return path === '' && marshalsRow ? goJson(v) : JSON.stringify(v ?? null);
  });
}

/** encoding/json's Marshal: JSON.stringify with `<`, `>`, `&`, U+2028 and U+2029 escaped. */
export function goJson(v: unknown): string {
  return JSON.stringify(v).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** fmt's %v of a JSON value. */
function goPrint(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goPrint).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o)
      .sort()
      .map((k) => `${k}:${goPrint(o[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}
