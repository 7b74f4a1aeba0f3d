/**
 * Policy variables (IAM policy elements reference: "Variables and tags").
 *
 * - `${key}` is replaced by the value of the condition key `key` from the request context; key
 *   names are case-insensitive.
 * - `${key, 'default'}` uses `default` when the key is absent. Inside the quotes `''` stands for
 *   one `'`. Spaces around the key name and the quoted default are ignored.
 * - `${*}`, `${?}` and `${$}` are a literal `*`, `?` and `$`.
 * - Substitution happens once: text produced by a variable or a default is never re-scanned, and
 *   is literal (a `*` in a user name is not a wildcard).
 * - Variables exist only in `"Version": "2012-10-17"` policies; in older or version-less
 *   documents `${...}` is ordinary text (callers decide, see `parseTemplate`'s use).
 * - A multi-valued key cannot be a variable: an array with more than one value does not resolve.
 *
 * Text that is not a well-formed variable (`${`, `${a`, `${a, b}`) is kept as ordinary text.
 */
import type { PatternPiece } from './wildcard';

export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'literal'; text: string }
  | { kind: 'var'; name: string; fallback?: string };

export interface Template {
  parts: TemplatePart[];
  hasVariables: boolean;
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** Tries to read a variable starting at `start` (which points at `$`). */
function readVariable(s: string, start: number): { part: TemplatePart; end: number } | null {
  let j = start + 2;
  while (isSpace(s[j])) j++;
  const first = s[j];
  if (first === '*' || first === '?' || first === '$') {
    let k = j + 1;
    while (isSpace(s[k])) k++;
    if (s[k] === '}') return { part: { kind: 'literal', text: first }, end: k + 1 };
    if (first !== '$') return null;
  }
  let k = j;
  while (k < s.length && s[k] !== '}' && s[k] !== ',' && s[k] !== '{' && s[k] !== '$' && s[k] !== "'") k++;
  const name = s.slice(j, k).trim();
  if (name === '' || k >= s.length) return null;
  if (s[k] === '}') return { part: { kind: 'var', name: name.toLowerCase() }, end: k + 1 };
  if (s[k] !== ',') return null;
  k++;
  while (isSpace(s[k])) k++;
  if (s[k] !== "'") return null;
  k++;
  let fallback = '';
  for (;;) {
    if (k >= s.length) return null;
    if (s[k] === "'") {
      if (s[k + 1] === "'") {
        fallback += "'";
        k += 2;
        continue;
      }
      k++;
      break;
    }
    fallback += s[k];
    k++;
  }
  while (isSpace(s[k])) k++;
  if (s[k] !== '}') return null;
  return { part: { kind: 'var', name: name.toLowerCase(), fallback }, end: k + 1 };
}

/** Splits policy text into ordinary text, escapes and variables. */
export function parseTemplate(s: string): Template {
  const parts: TemplatePart[] = [];
  let hasVariables = false;
  let text = '';
  let i = 0;
  while (i < s.length) {
    const dollar = s.indexOf('${', i);
    if (dollar < 0) {
      text += s.slice(i);
      break;
    }
    text += s.slice(i, dollar);
    const variable = readVariable(s, dollar);
    if (variable === null) {
      text += '${';
      i = dollar + 2;
      continue;
    }
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
    parts.push(variable.part);
    if (variable.part.kind === 'var') hasVariables = true;
    i = variable.end;
  }
  if (text !== '') parts.push({ kind: 'text', text });
  return { parts, hasVariables };
}

/** A template that is just `s` as ordinary text (for documents without variable support). */
export function plainTemplate(s: string): Template {
  return { parts: s === '' ? [] : [{ kind: 'text', text: s }], hasVariables: false };
}

/** Looks up a condition key (already lower-cased) for substitution. */
export type VariableLookup = (lowerName: string) => string | undefined;

/**
 * Substitutes variables. Returns null when a variable has neither a value nor a default: the
 * comparison using it cannot succeed ("any attempt to match it fails").
 */
export function resolveTemplate(template: Template, lookup: VariableLookup | null): PatternPiece[] | null {
  const pieces: PatternPiece[] = [];
  for (const part of template.parts) {
    if (part.kind === 'text') pieces.push({ text: part.text, wild: true });
    else if (part.kind === 'literal') pieces.push({ text: part.text, wild: false });
    else {
      const value = lookup === null ? undefined : lookup(part.name);
      const text = value ?? part.fallback;
      if (text === undefined) return null;
      pieces.push({ text, wild: false });
    }
  }
  return pieces;
}

/** Joins pieces back into a plain string (wildcards become ordinary characters). */
export function piecesToString(pieces: readonly PatternPiece[]): string {
  let out = '';
  for (const p of pieces) out += p.text;
  return out;
}
