/**
 * Wildcard matching for the policy language: `*` (any run of characters, possibly empty) and `?`
 * (exactly one character).
 *
 * Patterns are compiled once into arrays of character codes in which the two wildcards are
 * negative numbers. Text that came from a policy variable (`${aws:username}`) or from the escapes
 * `${*}` / `${?}` is compiled as literal characters, so a `*` in a user name never acts as a
 * wildcard. Matching needs no regular expression except for `Resource` patterns, whose
 * colon-aware rules are compiled to one cached RegExp each.
 */

/** Any run of characters. */
const STAR = -1;
/** Exactly one character. */
const QMARK = -2;
const COLON = 58;

/** A run of pattern text; in a `wild` piece `*` and `?` are wildcards, otherwise literal. */
export interface PatternPiece {
  text: string;
  wild: boolean;
}

export interface Glob {
  readonly codes: Int32Array;
  /** The pattern as plain text when it has no wildcards (fast path: string equality). */
  readonly literal: string | null;
  /** True when the pattern is made only of `*`: it matches everything. */
  readonly matchesAll: boolean;
  readonly caseInsensitive: boolean;
}

function piecesToCodes(pieces: readonly PatternPiece[], caseInsensitive: boolean): number[] {
  const codes: number[] = [];
  for (const piece of pieces) {
    const text = caseInsensitive ? piece.text.toLowerCase() : piece.text;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (piece.wild && c === 42 /* * */) {
        // Collapse runs of stars: they mean the same and cost backtracking.
        if (codes[codes.length - 1] !== STAR) codes.push(STAR);
      } else if (piece.wild && c === 63 /* ? */) {
        codes.push(QMARK);
      } else {
        codes.push(c);
      }
    }
  }
  return codes;
}

function globFromCodes(codes: number[], caseInsensitive: boolean): Glob {
  let literal: string | null = '';
  let matchesAll = codes.length > 0;
  for (const c of codes) {
    if (c < 0) literal = null;
    else if (literal !== null) literal += String.fromCharCode(c);
    if (c !== STAR) matchesAll = false;
  }
  return { codes: Int32Array.from(codes), literal, matchesAll, caseInsensitive };
}

/** Compiles pattern pieces into a glob. */
export function compileGlob(pieces: readonly PatternPiece[], caseInsensitive = false): Glob {
  return globFromCodes(piecesToCodes(pieces, caseInsensitive), caseInsensitive);
}

/** Compiles a plain pattern string in which every `*` and `?` is a wildcard. */
export function compilePattern(pattern: string, caseInsensitive = false): Glob {
  return compileGlob([{ text: pattern, wild: true }], caseInsensitive);
}

/**
 * Matches `value` against a compiled glob. `value` must already be lower-cased when the glob is
 * case-insensitive (callers lower-case once per request, not once per pattern).
 * Linear two-pointer algorithm with single-star backtracking: O(n·m) worst case, no regex.
 */
export function matchGlob(glob: Glob, value: string): boolean {
  if (glob.matchesAll) return true;
  if (glob.literal !== null) return glob.literal === value;
  const p = glob.codes;
  const m = p.length;
  const n = value.length;
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < n) {
    if (pi < m) {
      const c = p[pi]!;
      if (c === STAR) {
        starP = pi++;
        starS = si;
        continue;
      }
      if (c === QMARK || c === value.charCodeAt(si)) {
        pi++;
        si++;
        continue;
      }
    }
    if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
      continue;
    }
    return false;
  }
  while (pi < m && p[pi] === STAR) pi++;
  return pi === m;
}

const globCache = new Map<string, Glob>();
const GLOB_CACHE_LIMIT = 2000;

/**
 * Wildcard match of a whole string: `*` matches any run of characters (including none, and
 * including `:` and `/`), `?` exactly one. Case-sensitive unless `caseInsensitive`.
 * Compiled patterns are cached.
 */
export function matchesWildcard(
  pattern: string,
  value: string,
  options: { caseInsensitive?: boolean } = {},
): boolean {
  const ci = options.caseInsensitive === true;
  const cacheKey = (ci ? 'i:' : 's:') + pattern;
  let glob = globCache.get(cacheKey);
  if (glob === undefined) {
    if (globCache.size >= GLOB_CACHE_LIMIT) globCache.clear();
    glob = compilePattern(pattern, ci);
    globCache.set(cacheKey, glob);
  }
  return matchGlob(glob, ci ? value.toLowerCase() : value);
}

/**
 * Splits an ARN into its six colon-delimited components (`arn`, partition, service, region,
 * account, resource); the resource keeps any further colons. Returns null when there are fewer
 * than six components.
 */
export function splitArn(arn: string): string[] | null {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < 5; i++) {
    const colon = arn.indexOf(':', start);
    if (colon < 0) return null;
    parts.push(arn.slice(start, colon));
    start = colon + 1;
  }
  parts.push(arn.slice(start));
  return parts;
}

/** An ARN pattern for `ArnLike`/`ArnEquals`: six globs, each matched against one component. */
export interface ArnPattern {
  /** null when the pattern does not have six components (it then matches nothing)... */
  readonly segments: Glob[] | null;
  /** ...unless it is just `*`, which matches any value. */
  readonly matchesAll: boolean;
}

export function compileArnPattern(pieces: readonly PatternPiece[]): ArnPattern {
  const codes = piecesToCodes(pieces, false);
  if (codes.length > 0 && codes.every((c) => c === STAR)) return { segments: null, matchesAll: true };
  const segments: Glob[] = [];
  let current: number[] = [];
  for (const c of codes) {
    if (c === COLON && segments.length < 5) {
      segments.push(globFromCodes(current, false));
      current = [];
    } else {
      current.push(c);
    }
  }
  if (segments.length < 5) return { segments: null, matchesAll: false };
  segments.push(globFromCodes(current, false));
  return { segments, matchesAll: false };
}

/**
 * `ArnLike` semantics (IAM condition operators reference): each of the six colon-delimited
 * components is matched separately, so a wildcard never spans a component boundary.
 */
export function matchArnPattern(pattern: ArnPattern, value: string): boolean {
  if (pattern.matchesAll) return true;
  if (pattern.segments === null) return false;
  const parts = splitArn(value);
  if (parts === null) return false;
  for (let i = 0; i < 6; i++) {
    if (!matchGlob(pattern.segments[i]!, parts[i]!)) return false;
  }
  return true;
}

/** Convenience: `ArnLike` match of a plain pattern string. */
export function matchesArn(pattern: string, value: string): boolean {
  return matchArnPattern(compileArnPattern([{ text: pattern, wild: true }]), value);
}

/**
 * A `Resource` / `NotResource` pattern. Per the IAM Resource element reference, wildcards work
 * within each colon-separated ARN segment, but a `*` that is the last character of a segment
 * "can expand to match beyond the colon boundaries". Within the sixth (resource) segment colons
 * are ordinary characters. Matching is case-sensitive.
 */
export interface ResourcePattern {
  readonly glob: Glob;
  /** Null when a plain glob gives the same answer (no mid-segment wildcard before the resource part). */
  readonly regex: RegExp | null;
}

const regexCache = new Map<string, RegExp>();

const REGEX_SPECIAL = new Set(Array.from('\\^$.*+?()[]{}|/-', (ch) => ch.charCodeAt(0)));

function escapeRegexChar(c: number): string {
  const ch = String.fromCharCode(c);
  return REGEX_SPECIAL.has(c) ? '\\' + ch : ch;
}

export function compileResourcePattern(pieces: readonly PatternPiece[]): ResourcePattern {
  const codes = piecesToCodes(pieces, false);
  const glob = globFromCodes(codes, false);
  if (glob.literal !== null || glob.matchesAll) return { glob, regex: null };
  // Does any wildcard sit inside one of the first five segments other than at its end?
  let segment = 0;
  let bounded = false;
  let source = '^';
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    const next = codes[i + 1];
    if (c === STAR) {
      if (segment < 5 && next !== undefined && next !== COLON) {
        source += '[^:]*';
        bounded = true;
      } else {
        source += '.*';
      }
    } else if (c === QMARK) {
      if (segment < 5) {
        source += '[^:]';
        bounded = true;
      } else {
        source += '.';
      }
    } else {
      if (c === COLON && segment < 5) segment++;
      source += escapeRegexChar(c);
    }
  }
  if (!bounded) return { glob, regex: null };
  source += '$';
  let regex = regexCache.get(source);
  if (regex === undefined) {
    if (regexCache.size >= GLOB_CACHE_LIMIT) regexCache.clear();
    regex = new RegExp(source, 's');
    regexCache.set(source, regex);
  }
  return { glob, regex };
}

/** Cache key for pieces: the text with the wild/literal split encoded unambiguously. */
export function piecesKey(pieces: readonly PatternPiece[]): string {
  let key = '';
  for (const p of pieces) key += (p.wild ? 'w' : 'l') + p.text.length + ':' + p.text;
  return key;
}

const resourcePiecesCache = new Map<string, ResourcePattern>();

/** `compileResourcePattern` with a bounded cache, for patterns built per request from variables. */
export function compileResourcePatternCached(pieces: readonly PatternPiece[]): ResourcePattern {
  const key = piecesKey(pieces);
  let compiled = resourcePiecesCache.get(key);
  if (compiled === undefined) {
    if (resourcePiecesCache.size >= GLOB_CACHE_LIMIT) resourcePiecesCache.clear();
    compiled = compileResourcePattern(pieces);
    resourcePiecesCache.set(key, compiled);
  }
  return compiled;
}

export function matchResourcePattern(pattern: ResourcePattern, value: string): boolean {
  return pattern.regex === null ? matchGlob(pattern.glob, value) : pattern.regex.test(value);
}

/** Convenience: `Resource` element match of a plain pattern string (compiled patterns cached). */
const resourceCache = new Map<string, ResourcePattern>();
export function matchesResource(pattern: string, value: string): boolean {
  let compiled = resourceCache.get(pattern);
  if (compiled === undefined) {
    if (resourceCache.size >= GLOB_CACHE_LIMIT) resourceCache.clear();
    compiled = compileResourcePattern([{ text: pattern, wild: true }]);
    resourceCache.set(pattern, compiled);
  }
  return matchResourcePattern(compiled, value);
}
