import { createHash } from 'node:crypto';
import { accessDenied, checkS3Access } from './authorization';
import type { S3Request } from './context';
import { S3Error } from './errors';
import { header, readSmallBody } from './http-util';
import { calendarFieldsValid } from './iso-date';
import { requestChecksum } from './request-checksum';
import type { BucketRecord, ObjectLockMode, ObjectLockState, ObjectMeta, ObjectVersion } from './store/model';

/**
 * S3 Object Lock: what a bucket's lock configuration and a version's retention and legal hold
 * allow, on the S3 server's virtual clock (a retention ends when the clock passes its date).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html
 *
 * The API pages list no errors for these operations; the codes and messages below are S3's as
 * recorded against it by others (LocalStack's snapshot tests of 2026-02, S3Mock's tests verified
 * against S3, and issue reports quoting S3's answers), each named where it is used.
 */

export const LOCK_MODES: readonly ObjectLockMode[] = ['GOVERNANCE', 'COMPLIANCE'];

/** "Amazon S3 counts 1 year as 365 days" (the Object Lock user guide, on retention periods). */
const DAY_MS = 24 * 60 * 60 * 1000;
const YEAR_DAYS = 365;
/** The longest retention a default may name: 100 years (36,500 days). */
export const MAX_RETENTION_DAYS = 36_500;
export const MAX_RETENTION_YEARS = 100;

export const OBJECT_LOCKED_MESSAGE = 'Access Denied because object protected by object lock.';

export function lockEnabled(bucket: BucketRecord): boolean {
  return bucket.objectLock?.enabled === true;
}

/**
 * Retention and legal-hold operations on a bucket without Object Lock: 400 InvalidRequest. S3
 * words it without spaces ("ObjectLockConfiguration") for object writes that carry lock headers.
 */
export function missingLockConfiguration(write = false): S3Error {
  return new S3Error('InvalidRequest', 400, write ? 'Bucket is missing ObjectLockConfiguration' : 'Bucket is missing Object Lock Configuration');
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (NoSuchObjectLockConfiguration, 404) */
export function noObjectLockConfiguration(): S3Error {
  return new S3Error('NoSuchObjectLockConfiguration', 404, 'The specified object does not have a ObjectLock configuration');
}

/** Whether a version's retention still holds at `now`. */
export function retentionActive(lock: ObjectLockState | undefined, now: number): boolean {
  return lock?.mode !== undefined && lock.retainUntil !== undefined && lock.retainUntil > now;
}

/** ISO 8601 timestamps as SDKs send them (botocore: `%Y-%m-%dT%H:%M:%SZ`, maybe with fractions or an offset). */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

export function parseIsoDate(value: string): number | undefined {
  const text = value.trim();
  if (!ISO_8601.test(text) || !calendarFieldsValid(text)) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * The `s3:object-lock-remaining-retention-days` condition key: the whole days from the request's
 * time to the retain-until date it asks for (a header on PutObject, CopyObject and
 * CreateMultipartUpload, a form field on a POST upload, the body of PutObjectRetention). AWS's
 * user guide uses it to cap retention ("Deny s3:PutObjectRetention when NumericGreaterThan
 * s3:object-lock-remaining-retention-days 10") and the Service Authorization Reference lists it
 * (Numeric) for PutObject, PutObjectRetention and BypassGovernanceRetention; neither says how a
 * part of a day counts. Sealbox rounds up, so a cap of 10 days refuses 10 days and a minute (a
 * cap that could be passed by a fraction would be no cap); a date not after the request's time
 * gives 0. No key for a date that is not ISO 8601 (the request is refused anyway).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-retention-limits
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html#amazons3-policy-keys
 */
export function remainingRetentionDays(retainUntil: string, now: Date): string | undefined {
  const until = parseIsoDate(retainUntil);
  if (until === undefined) return undefined;
  return String(Math.max(0, Math.ceil((until - now.getTime()) / DAY_MS)));
}

const invalidArgument = (message: string, name: string, value: string) =>
  new S3Error('InvalidArgument', 400, message, [['ArgumentName', name], ['ArgumentValue', value]]);

/**
 * The Object Lock a write asks for through `x-amz-object-lock-mode`, `-retain-until-date` and
 * `-legal-hold` (PutObject, CopyObject, CreateMultipartUpload), validated as S3 validates them:
 * the header values first, then that the bucket has Object Lock, then (for a PutObject whose
 * version will be locked, a bucket default included) that it carries Content-MD5 or a checksum.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html#API_PutObject_RequestSyntax
 */
export function lockFromRequest(req: S3Request, bucket: BucketRecord): ObjectLockState | undefined {
  const modeText = header(req.headers, 'x-amz-object-lock-mode');
  const dateText = header(req.headers, 'x-amz-object-lock-retain-until-date');
  const holdText = header(req.headers, 'x-amz-object-lock-legal-hold');
  const lock: ObjectLockState = {};
  if (holdText !== undefined) {
    if (holdText !== 'ON' && holdText !== 'OFF') throw invalidArgument("Legal Hold must be either of 'ON' or 'OFF'", 'x-amz-object-lock-legal-hold', holdText);
    lock.legalHold = holdText;
  }
  if (dateText !== undefined) {
    const until = parseIsoDate(dateText);
    if (until === undefined) throw invalidArgument('The retain until date must be provided in ISO 8601 format', 'x-amz-object-lock-retain-until-date', dateText);
    if (until <= req.now.getTime()) throw invalidArgument('The retain until date must be in the future!', 'x-amz-object-lock-retain-until-date', dateText);
    lock.retainUntil = until;
  }
  if (modeText !== undefined) {
    if (!LOCK_MODES.includes(modeText as ObjectLockMode)) throw invalidArgument('Unknown wormMode directive.', 'x-amz-object-lock-mode', modeText);
    lock.mode = modeText as ObjectLockMode;
  }
  if ((modeText === undefined) !== (dateText === undefined)) {
    const missing = modeText === undefined ? 'x-amz-object-lock-mode' : 'x-amz-object-lock-retain-until-date';
    throw new S3Error('InvalidArgument', 400, 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied', [['ArgumentName', missing]]);
  }
  const asked = modeText !== undefined || holdText !== undefined;
  if (asked) {
    if (!lockEnabled(bucket)) throw missingLockConfiguration(true);
    // "Put Object requests with Object Lock parameters require AWS Signature Version 4" (a legacy
    // SigV2 POST form included).
    if (!req.credentials || req.signatureVersion === 'AWS') throw new S3Error('InvalidArgument', 400, 'Put Object requests with Object Lock parameters require AWS Signature Version 4', [['ArgumentName', 'Authorization']]);
  }
  if (req.operation === 'PutObject' && (asked || bucket.objectLock?.defaultRetention)) requireIntegrityHeader(req, 'Put Object');
  return asked ? lock : undefined;
}

/**
 * "The Content-MD5 or x-amz-sdk-checksum-algorithm header is required for any request to upload
 * an object with a retention period configured using Amazon S3 Object Lock" (PutObject), and for
 * each part of an upload with Object Lock parameters (UploadPart). S3 takes Content-MD5 or a
 * checksum header or trailer; the SigV4 payload hash does not count.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html
 */
export function requireIntegrityHeader(req: S3Request, what: 'Put Object' | 'Put Part'): void {
  if (header(req.headers, 'content-md5') !== undefined) return;
  const sent = Object.keys(req.headers).some((h) => h.startsWith('x-amz-checksum-') && h !== 'x-amz-checksum-type' && h !== 'x-amz-checksum-algorithm');
  const trailer = header(req.headers, 'x-amz-trailer')?.trim().toLowerCase().startsWith('x-amz-checksum-');
  if (sent || trailer) return;
  throw new S3Error('InvalidRequest', 400, `Content-MD5 OR x-amz-checksum- HTTP header is required for ${what} requests with Object Lock parameters`);
}

/** Whether an upload (or the bucket's default) puts a lock on the object it will make: its parts then need an integrity header. */
export function uploadIsLocked(bucket: BucketRecord, meta: ObjectMeta): boolean {
  return meta.lock !== undefined || bucket.objectLock?.defaultRetention !== undefined;
}

/**
 * A new version with no retention of its own gets the bucket's default: "Amazon S3 calculates a
 * Retain Until Date for the object version by adding the specified duration to the object
 * version's creation timestamp." Individual settings override the default.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-bucket-config
 */
export function applyDefaultRetention(bucket: BucketRecord, meta: ObjectMeta, now: number): void {
  const rule = bucket.objectLock?.defaultRetention;
  if (!rule || meta.lock?.mode !== undefined) return;
  const days = rule.days ?? (rule.years ?? 0) * YEAR_DAYS;
  meta.lock = { ...meta.lock, mode: rule.mode, retainUntil: now + days * DAY_MS };
}

/**
 * `x-amz-bypass-governance-retention` on a delete: true or false, it is refused on a bucket
 * without Object Lock (S3's answer, recorded by LocalStack).
 */
export function bypassRequested(req: S3Request, bucket: BucketRecord): boolean {
  const value = header(req.headers, 'x-amz-bypass-governance-retention');
  if (value === undefined) return false;
  if (!lockEnabled(bucket)) {
    throw new S3Error('InvalidArgument', 400, 'x-amz-bypass-governance-retention is only applicable to Object Lock enabled buckets.', [
      ['ArgumentName', 'x-amz-bypass-governance-retention'],
      ['ArgumentValue', value],
    ]);
  }
  return value.trim().toLowerCase() === 'true';
}

/**
 * Governance mode is bypassed only when the request asks for it and the caller has
 * s3:BypassGovernanceRetention on the version ("you must have the s3:BypassGovernanceRetention
 * permission and must explicitly include x-amz-bypass-governance-retention:true").
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-bypass
 */
function bypassAllowed(req: S3Request, bucket: BucketRecord, v: ObjectVersion, bypass: boolean): boolean {
  if (!bypass) return false;
  const check = { action: 's3:BypassGovernanceRetention', bucket, key: v.key, versionId: v.versionId };
  const outcome = checkS3Access(req, check);
  if (!outcome.allowed) throw accessDenied(req, check, outcome.reason);
  return true;
}

/**
 * A version may be deleted unless a legal hold is on or its retention holds: COMPLIANCE always,
 * GOVERNANCE unless bypassed. Delete markers are never protected. 403 AccessDenied otherwise.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-delete
 */
export function checkVersionDeletable(req: S3Request, bucket: BucketRecord, v: ObjectVersion, bypass: boolean): void {
  const lock = v.meta.lock;
  if (v.deleteMarker || !lock) return;
  if (lock.legalHold === 'ON') throw new S3Error('AccessDenied', 403, OBJECT_LOCKED_MESSAGE);
  if (!retentionActive(lock, req.now.getTime())) return;
  if (lock.mode === 'GOVERNANCE' && bypassAllowed(req, bucket, v, bypass)) return;
  throw new S3Error('AccessDenied', 403, OBJECT_LOCKED_MESSAGE);
}

/**
 * Whether PutObjectRetention may replace a version's retention with `next` (undefined: remove
 * it). Extending in the same mode is always allowed; COMPLIANCE can never be shortened, removed
 * or changed to GOVERNANCE; GOVERNANCE can be shortened, removed or changed only with a bypass.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-retention-modes
 */
export function checkRetentionChange(req: S3Request, bucket: BucketRecord, v: ObjectVersion, next: { mode: ObjectLockMode; retainUntil: number } | undefined, bypass: boolean): void {
  const current = v.meta.lock;
  if (!retentionActive(current, req.now.getTime())) return;
  const extends_ = next !== undefined && next.mode === current!.mode && next.retainUntil >= current!.retainUntil!;
  if (extends_) return;
  if (current!.mode === 'GOVERNANCE' && bypassAllowed(req, bucket, v, bypass)) return;
  throw new S3Error('AccessDenied', 403, OBJECT_LOCKED_MESSAGE);
}

/**
 * The lock headers GET and HEAD return: the mode and date "only if the requester has the
 * s3:GetObjectRetention permission", the legal hold only with s3:GetObjectLegalHold, and not "if
 * the specified version of this object has never had a legal hold applied".
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html#API_HeadObject_ResponseSyntax
 */
export function lockHeaders(req: S3Request, bucket: BucketRecord, v: ObjectVersion): Record<string, string> {
  const lock = v.meta.lock;
  const headers: Record<string, string> = {};
  if (!lock) return headers;
  const may = (action: string) => checkS3Access(req, { action, bucket, key: v.key, versionId: req.query.get('versionId') }).allowed;
  if (lock.mode !== undefined && lock.retainUntil !== undefined && may('s3:GetObjectRetention')) {
    headers['x-amz-object-lock-mode'] = lock.mode;
    headers['x-amz-object-lock-retain-until-date'] = new Date(lock.retainUntil).toISOString();
  }
  if (lock.legalHold !== undefined && may('s3:GetObjectLegalHold')) headers['x-amz-object-lock-legal-hold'] = lock.legalHold;
  return headers;
}

/**
 * The body of PutObjectLockConfiguration, PutObjectRetention and PutObjectLegalHold, which
 * require Content-MD5 or a checksum (SDKs send one: these operations are httpChecksumRequired),
 * verified against what was sent.
 */
export async function readChecksummedBody(req: S3Request): Promise<string> {
  const md5Text = header(req.headers, 'content-md5');
  const checksum = requestChecksum(req.headers);
  if (md5Text === undefined && !checksum) throw new S3Error('InvalidRequest', 400, 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*');
  const text = await readSmallBody(req.body, 64 * 1024);
  const bytes = Buffer.from(text, 'utf8');
  if (md5Text !== undefined) {
    const md5 = Buffer.from(md5Text, 'base64');
    if (md5.length !== 16 || md5.toString('base64') !== md5Text.trim()) {
      throw new S3Error('InvalidDigest', 400, 'The Content-MD5 you specified was invalid.', [['Content-MD5', md5Text]]);
    }
    if (!md5.equals(createHash('md5').update(bytes).digest())) throw new S3Error('BadDigest', 400, 'The Content-MD5 you specified did not match what we received.');
  }
  if (checksum) {
    checksum.hasher.update(bytes);
    checksum.verify(req.trailers());
  }
  return text;
}
