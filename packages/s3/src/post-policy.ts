import { createHmac } from 'node:crypto';
import { SigningKeyCache, parseAmzDate, signatureMatches, type CredentialProvider, type Credentials } from '@sealbox/sigv4';
import { AccessDenied, InvalidAccessKeyId, InvalidArgument, InvalidToken, S3Error, SignatureDoesNotMatch } from './errors';
import { cannotBeHeader } from './http-util';

/**
 * Browser-based uploads (POST Object): the form's signature, its POST policy, the size range and
 * the success response. Pure functions; the operation parses the multipart body and calls them.
 *
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-UsingHTTPPOST.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/HTTPPOSTForms.html (SigV2)
 *
 * Error codes and wording follow what S3 has been recorded answering (LocalStack's validated
 * snapshots, captures in issue trackers); where nothing is recorded the wording is marked a guess.
 */

export interface PostForm {
  /** Lower-cased names -> values, as received before the file part. */
  fields: Map<string, string>;
  /** The `filename` parameter of the file part, if it had one. */
  fileName?: string;
  /** The Content-Type of the file part, if it had one. */
  contentType?: string;
}

/** The form fields preceding the file may not exceed 20 KB (S3 reports MaxPostPreDataLengthBytes 20480). */
export const MAX_POST_PRE_DATA_LENGTH = 20480;

const SIGV4_FIELDS = ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature'] as const;
const SIGV2_FIELDS = ['awsaccesskeyid', 'signature'] as const;
/** How S3 names a missing field in its error. */
const FIELD_NAMES: Record<string, string> = {
  'x-amz-algorithm': 'X-Amz-Algorithm',
  'x-amz-credential': 'X-Amz-Credential',
  'x-amz-date': 'X-Amz-Date',
  'x-amz-signature': 'X-Amz-Signature',
  awsaccesskeyid: 'AWSAccessKeyId',
  signature: 'Signature',
  policy: 'Policy',
  key: 'key',
};
const ALGORITHM = 'AWS4-HMAC-SHA256';
const FILENAME_VARIABLE = '${filename}';

const defaultSigningKeys = new SigningKeyCache();

const missingField = (name: string) =>
  new InvalidArgument(`Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`, [
    ['ArgumentName', name],
    ['ArgumentValue', ''],
  ]);

/** S3 writes the bytes of StringToSign as lower-case hex, one byte per token. */
const hexBytes = (text: string) => Buffer.from(text, 'utf8').toString('hex').replace(/(..)(?!$)/g, '$1 ');

const isSigV4Form = (form: PostForm) => SIGV4_FIELDS.some((name) => form.fields.has(name));
/** A legacy SigV2 form (awsaccesskeyid, signature): SSE-KMS refuses it, as it refuses SigV2 headers. */
export const isSigV2Form = (form: PostForm) => !isSigV4Form(form) && SIGV2_FIELDS.some((name) => form.fields.has(name));

/**
 * Verifies the form's signature against credentials and returns the signer, or undefined for an
 * anonymous form (none of the signature fields; a policy alone does not authenticate).
 *
 * SigV4: x-amz-algorithm, x-amz-credential, x-amz-date, x-amz-signature and policy, the signature
 * being hex(HMAC-SHA256(signingKey(date, region, 's3'), policy as received)). The credential scope
 * must name `region` (the bucket's) and `s3`.
 * SigV2: awsaccesskeyid, signature and policy, the signature being
 * base64(HMAC-SHA1(secret, policy as received)).
 *
 * `now` is accepted for symmetry with request verification: S3 judges a POST by its policy's
 * expiration (checkPostPolicy), and no limit on the age of x-amz-date is recorded.
 */
export function verifyPostSignature(
  form: PostForm,
  opts: { credentials: CredentialProvider; region: string; now: Date; signingKeys?: SigningKeyCache },
): Credentials | undefined {
  const f = form.fields;
  if (isSigV4Form(form)) {
    for (const name of [...SIGV4_FIELDS, 'policy']) if (!f.has(name)) throw missingField(FIELD_NAMES[name]!);
    const algorithm = f.get('x-amz-algorithm')!;
    const credential = f.get('x-amz-credential')!;
    const amzDate = f.get('x-amz-date')!;
    const signature = f.get('x-amz-signature')!;
    const policy = f.get('policy')!;
    if (algorithm !== ALGORITHM) {
      // Guess: S3's wording for another algorithm in a form is unrecorded.
      throw new InvalidArgument('Only AWS4-HMAC-SHA256 is supported', [['ArgumentName', 'X-Amz-Algorithm'], ['ArgumentValue', algorithm]]);
    }
    const scope = parsePostCredential(credential, opts.region);
    if (!parseAmzDate(amzDate)) {
      throw new InvalidArgument('X-Amz-Date must be formated via ISO8601 Long format', [['ArgumentName', 'X-Amz-Date'], ['ArgumentValue', amzDate]]);
    }
    const credentials = lookUp(opts.credentials, scope.accessKeyId);
    checkSessionToken(form, credentials);
    const signingKey = (opts.signingKeys ?? defaultSigningKeys).get(credentials.secretAccessKey, scope.date, scope.region, 's3');
    const expected = createHmac('sha256', signingKey).update(policy, 'utf8').digest('hex');
    if (!signatureMatches(expected, signature)) throw signatureMismatch(scope.accessKeyId, policy, signature);
    return credentials;
  }
  if (isSigV2Form(form)) {
    for (const name of [...SIGV2_FIELDS, 'policy']) if (!f.has(name)) throw missingField(FIELD_NAMES[name]!);
    const accessKeyId = f.get('awsaccesskeyid')!;
    const signature = f.get('signature')!;
    const policy = f.get('policy')!;
    const credentials = lookUp(opts.credentials, accessKeyId);
    checkSessionToken(form, credentials);
    const expected = createHmac('sha1', credentials.secretAccessKey).update(policy, 'utf8').digest('base64');
    if (!signatureMatches(expected, signature)) throw signatureMismatch(accessKeyId, policy, signature);
    return credentials;
  }
  return undefined;
}

function parsePostCredential(credential: string, region: string) {
  const fail = (message: string, extra: [string, string][] = []) =>
    new InvalidArgument(message, [['ArgumentName', 'X-Amz-Credential'], ['ArgumentValue', credential], ...extra]);
  const parts = credential.split('/');
  if (parts.length !== 5) throw fail('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  const [accessKeyId, date, scopeRegion, service, terminator] = parts as [string, string, string, string, string];
  if (!accessKeyId) throw fail('a non-empty Access Key (AKID) must be provided in the credential.');
  if (!/^\d{8}$/.test(date)) throw fail(`incorrect date format "${date}". This date in the credential must be in the format "yyyyMMdd".`);
  if (scopeRegion !== region) throw fail(`the region '${scopeRegion}' is wrong; expecting '${region}'`, [['Region', region]]);
  if (service !== 's3') throw fail(`incorrect service "${service}". This endpoint belongs to "s3".`);
  if (terminator !== 'aws4_request') throw fail(`incorrect terminal "${terminator}". This endpoint uses "aws4_request".`);
  return { accessKeyId, date, region: scopeRegion };
}

function lookUp(provider: CredentialProvider, accessKeyId: string): Credentials {
  const credentials = provider.get(accessKeyId);
  if (!credentials) throw new InvalidAccessKeyId(undefined, [['AWSAccessKeyId', accessKeyId]]);
  return credentials;
}

/** Temporary credentials need their token in x-amz-security-token; permanent ones take none. */
function checkSessionToken(form: PostForm, credentials: Credentials): void {
  const token = form.fields.get('x-amz-security-token');
  if (credentials.sessionToken !== undefined ? token !== credentials.sessionToken : token !== undefined) throw new InvalidToken();
}

function signatureMismatch(accessKeyId: string, policy: string, provided: string): S3Error {
  // A POST has no canonical request: the string to sign is the policy as sent.
  return new SignatureDoesNotMatch(undefined, [
    ['AWSAccessKeyId', accessKeyId],
    ['StringToSign', policy],
    ['SignatureProvided', provided],
    ['StringToSignBytes', hexBytes(policy)],
  ]);
}

// ---------------------------------------------------------------------------------------------
// The policy document

type Condition =
  | { type: 'match'; op: 'eq' | 'starts-with'; name: string; value: string; text: string }
  | { type: 'range'; min: number | string; max: number | string; text: string };

const invalidPolicy = (detail: string) => new S3Error('InvalidPolicyDocument', 400, `Invalid Policy: ${detail}`);
const INVALID_JSON = 'Invalid JSON.';
const policyDenied = (detail: string) => new AccessDenied(`Invalid according to Policy: ${detail}`);

/** How S3 prints a condition in "Policy Condition failed": a JSON array with ", " between items. */
const conditionText = (items: unknown[]) => `[${items.map((item) => JSON.stringify(item)).join(', ')}]`;

/**
 * Parses the base64 policy and checks it against the form before the file is read: expiration
 * (judged by `now`), every condition, and that every form field is covered by a condition (except
 * policy, x-amz-signature, file, x-ignore-*, and for SigV2 forms awsaccesskeyid and signature).
 * Field names match case-insensitively, values case-sensitively; `${filename}` in a field is
 * expanded before matching. A form without a policy (anonymous) is not checked.
 * Returns the content-length-range, if any, for checkPostLength once the file size is known.
 */
export function checkPostPolicy(form: PostForm, bucket: string, now: Date): { minLength?: number; maxLength?: number } | undefined {
  const encoded = form.fields.get('policy');
  if (encoded === undefined) return undefined;
  const { expiration, conditions } = parsePolicy(encoded);
  if (now.getTime() > expiration.getTime()) throw policyDenied('Policy expired.');

  const covered = new Set<string>();
  let minLength: number | undefined;
  let maxLength: number | undefined;
  for (const condition of conditions) {
    if (condition.type === 'range') {
      const min = rangeBound(condition.min);
      const max = rangeBound(condition.max);
      if (min === undefined || max === undefined) throw policyDenied(`Policy Condition failed: ${condition.text}`);
      minLength = minLength === undefined ? min : Math.max(minLength, min);
      maxLength = maxLength === undefined ? max : Math.min(maxLength, max);
      continue;
    }
    if (!condition.name.startsWith('$')) throw policyDenied(`Policy Condition failed: ${condition.text}`);
    const name = condition.name.slice(1).toLowerCase();
    covered.add(name);
    const actual = name === 'bucket' ? bucket : postFieldValue(form, name);
    if (actual === undefined || !matches(condition.op, name, actual, condition.value)) {
      throw policyDenied(`Policy Condition failed: ${condition.text}`);
    }
  }

  const exempt = (name: string) =>
    name === 'policy' ||
    name === 'x-amz-signature' ||
    name === 'file' ||
    name.startsWith('x-ignore-') ||
    (!isSigV4Form(form) && (name === 'awsaccesskeyid' || name === 'signature'));
  const extra = [...form.fields.keys()].filter((name) => !exempt(name) && !covered.has(name));
  if (extra.length) throw policyDenied(`Extra input fields: ${extra.join(', ')}`);

  if (minLength === undefined && maxLength === undefined) return undefined;
  return { minLength, maxLength };
}

function matches(op: 'eq' | 'starts-with', name: string, actual: string, value: string): boolean {
  if (op === 'eq') return actual === value;
  // Content-Type values with commas are lists: every item must start with the prefix.
  if (name === 'content-type') return actual.split(',').every((item) => item.trim().startsWith(value));
  return actual.startsWith(value);
}

/** A bound given as a non-negative integer or a string of digits (S3 accepts ["5", "10"]). */
function rangeBound(value: number | string): number | undefined {
  if (typeof value === 'number') return value;
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

function parsePolicy(encoded: string): { expiration: Date; conditions: Condition[] } {
  // The signature covers the text as sent; line breaks some encoders insert are not part of the data.
  const text = Buffer.from(encoded.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (text.trim() === '') throw invalidPolicy("Expecting '{' but found End-of-Input"); // guess (versitygw's wording)
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalidPolicy(INVALID_JSON);
  }
  // S3 reads numbers as integers: a bound such as 512.0 is "Invalid JSON".
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || hasNonIntegerNumber(text)) throw invalidPolicy(INVALID_JSON);
  const record = doc as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    if (name !== 'expiration' && name !== 'conditions') throw invalidPolicy(`Unexpected: '${name.toLowerCase()}'`);
  }
  if (!('expiration' in record)) throw invalidPolicy('Policy missing expiration.'); // guess
  const expiration = parseExpiration(record.expiration);
  if (!expiration) throw invalidPolicy(`Invalid 'expiration' value: '${String(record.expiration)}'`);
  if (!('conditions' in record)) throw invalidPolicy('Policy missing conditions.'); // guess
  if (!Array.isArray(record.conditions)) throw invalidPolicy("Invalid 'conditions' value: must be a List."); // guess
  return { expiration, conditions: record.conditions.map(parseCondition) };
}

/** ISO 8601 in UTC: `2015-12-30T12:00:00.000Z` or without the fraction; offsets are refused. */
function parseExpiration(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  const valid =
    date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && date.getUTCHours() === h && date.getUTCMinutes() === mi && date.getUTCSeconds() === s;
  return valid ? date : undefined;
}

function parseCondition(condition: unknown): Condition {
  if (Array.isArray(condition)) {
    const [operation, ...args] = condition as unknown[];
    if (typeof operation !== 'string' || operation === '') throw invalidPolicy('Invalid Condition: missing operation identifier.');
    const op = operation.toLowerCase();
    if (op !== 'eq' && op !== 'starts-with' && op !== 'content-length-range') {
      throw invalidPolicy(`Invalid Condition: unknown operation '${operation}'.`); // guess (versitygw's wording)
    }
    if (args.length !== 2) throw invalidPolicy(`Invalid ${operation}: wrong number of arguments.`); // guess (versitygw's wording)
    const text = conditionText(condition as unknown[]);
    if (op === 'content-length-range') {
      const bounds = args.map((v) => (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v) && v >= 0) ? v : undefined));
      if (bounds.includes(undefined)) throw invalidPolicy(INVALID_JSON);
      return { type: 'range', min: bounds[0]!, max: bounds[1]!, text };
    }
    const [name, value] = args;
    if (typeof name !== 'string' || typeof value !== 'string') throw invalidPolicy(INVALID_JSON);
    return { type: 'match', op, name, value, text };
  }
  if (condition !== null && typeof condition === 'object') {
    const entries = Object.entries(condition as Record<string, unknown>);
    if (entries.length !== 1) throw invalidPolicy('Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
    const [name, value] = entries[0]!;
    if (value === null) throw invalidPolicy(INVALID_JSON);
    if (typeof value !== 'string') throw invalidPolicy('Invalid Simple-Condition: value must be a string.');
    // S3 prints a simple condition as the eq it stands for.
    return { type: 'match', op: 'eq', name: `$${name}`, value, text: conditionText(['eq', `$${name}`, value]) };
  }
  throw invalidPolicy('Invalid condition test: must be a List or Object.'); // guess (versitygw's wording)
}

/** Whether valid JSON text holds a number with a fraction or an exponent (outside strings). */
function hasNonIntegerNumber(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const number = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))![0];
      if (/[.eE]/.test(number)) return true;
      i += number.length - 1;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Fields, key, size, response

/** The file name without any directory a browser sent with it (after the last '/' or '\'). */
function baseName(fileName: string): string {
  return fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
}

/**
 * A field's value with `${filename}` replaced by the uploaded file's name (S3 expands it in every
 * field before matching the policy). A file part without a filename parameter leaves the variable
 * as it is, as S3 does; an empty filename replaces it with ''.
 */
export function postFieldValue(form: PostForm, name: string): string | undefined {
  const value = form.fields.get(name.toLowerCase());
  if (value === undefined || form.fileName === undefined || !value.includes(FILENAME_VARIABLE)) return value;
  return value.split(FILENAME_VARIABLE).join(baseName(form.fileName));
}

/** The object key: the `key` field with `${filename}` expanded. */
export function postObjectKey(form: PostForm): string {
  const key = postFieldValue(form, 'key');
  // Guess: an empty key (sent empty, or `${filename}` with an empty name) counts as missing.
  if (!key) throw missingField(FIELD_NAMES.key!);
  return key;
}

/** InvalidArgument unless the form carried exactly one file part. */
export function checkPostFileCount(count: number): void {
  if (count !== 1) {
    throw new InvalidArgument('POST requires exactly one file upload per request.', [['ArgumentName', 'file'], ['ArgumentValue', String(count)]]);
  }
}

/** The fields before the file part exceeded MAX_POST_PRE_DATA_LENGTH bytes. */
export function postPreDataTooLarge(): S3Error {
  return new S3Error('MaxPostPreDataLengthExceeded', 400, 'Your POST request fields preceeding the upload file was too large.', [
    ['MaxPostPreDataLengthBytes', String(MAX_POST_PRE_DATA_LENGTH)],
  ]);
}

/** After the upload: the size against content-length-range (inclusive bounds). */
export function checkPostLength(range: { minLength?: number; maxLength?: number } | undefined, size: number): void {
  if (!range) return;
  if (range.maxLength !== undefined && size > range.maxLength) {
    throw new S3Error('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size', [
      ['ProposedSize', String(size)],
      ['MaxSizeAllowed', String(range.maxLength)],
    ]);
  }
  if (range.minLength !== undefined && size < range.minLength) {
    throw new S3Error('EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed size', [
      ['ProposedSize', String(size)],
      ['MinSizeAllowed', String(range.minLength)],
    ]);
  }
}

/** Element text; quotes stay as they are (S3 writes `<ETag>"…"</ETag>` in a PostResponse). */
const xmlText = (text: string) => text.replace(/[&<>\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' })[c]!);

/** An absolute http(s) URL, or undefined when S3 would not be able to interpret it. */
function redirectTarget(form: PostForm): string | undefined {
  const target = form.fields.get('success_action_redirect') || form.fields.get('redirect');
  if (!target) return undefined;
  try {
    const url = new URL(target);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    // As given, unless a header cannot carry it (a line break, a character beyond Latin-1): then
    // as the URL parser writes it, percent-encoded.
    return cannotBeHeader(target) ? url.href : target;
  } catch {
    return undefined;
  }
}

/**
 * The success response. success_action_redirect (or the deprecated `redirect`), when an absolute
 * URL: 303 to it with bucket, key and etag appended to its query, form-encoded. Otherwise
 * success_action_status: 200 or 204 with an empty body, 201 with a PostResponse document; any
 * other value, or none, is 204. `location` is the object's URL, `etag` quoted.
 */
export function postSuccess(
  form: PostForm,
  result: { bucket: string; key: string; etag: string; location: string },
): { status: number; headers: Record<string, string>; body?: string } {
  const redirect = redirectTarget(form);
  if (redirect !== undefined) {
    const hash = redirect.indexOf('#');
    const base = hash < 0 ? redirect : redirect.slice(0, hash);
    const fragment = hash < 0 ? '' : redirect.slice(hash);
    const separator = !base.includes('?') ? '?' : /[?&]$/.test(base) ? '' : '&';
    const query = new URLSearchParams([
      ['bucket', result.bucket],
      ['key', result.key],
      ['etag', result.etag],
    ]).toString();
    return { status: 303, headers: { Location: `${base}${separator}${query}${fragment}` } };
  }
  const headers: Record<string, string> = { ETag: result.etag, Location: result.location };
  const status = form.fields.get('success_action_status');
  if (status === '200') return { status: 200, headers };
  if (status === '201') {
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>' +
      `<Location>${xmlText(result.location)}</Location>` +
      `<Bucket>${xmlText(result.bucket)}</Bucket>` +
      `<Key>${xmlText(result.key)}</Key>` +
      `<ETag>${xmlText(result.etag)}</ETag>` +
      '</PostResponse>';
    return { status: 201, headers: { ...headers, 'Content-Type': 'application/xml' }, body };
  }
  return { status: 204, headers };
}
