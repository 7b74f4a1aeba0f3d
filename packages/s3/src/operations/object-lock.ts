import { requireBucket } from '../access';
import { authorizeObjectLockBody, withLegalHoldKey, withRetentionKeys } from '../authorization';
import type { S3Request, S3Response } from '../context';
import { S3Error } from '../errors';
import { header } from '../http-util';
import {
  checkRetentionChange,
  LOCK_MODES,
  lockEnabled,
  MAX_RETENTION_DAYS,
  MAX_RETENTION_YEARS,
  missingLockConfiguration,
  noObjectLockConfiguration,
  parseIsoDate,
  readChecksummedBody,
} from '../object-lock';
import type { BucketObjectLock, BucketRecord, ObjectLockMode, ObjectVersion } from '../store/model';
import { el, s3Document } from '../xml';
import { childrenNamed, malformedXml, parseXml, type XmlNode } from '../xml-parse';
import { findVersion, requestedVersion } from './objects';

// Small XML readers: an element may appear once; a value element holds no elements.
function parseRoot(text: string, name: string): XmlNode {
  const root = parseXml(text);
  if (root.name !== name) throw malformedXml();
  return root;
}
function only(node: XmlNode, name: string): XmlNode | undefined {
  const found = childrenNamed(node, name);
  if (found.length > 1) throw malformedXml();
  return found[0];
}
function value(node: XmlNode, name: string): string | undefined {
  const element = only(node, name);
  if (element && element.children.length > 0) throw malformedXml();
  return element?.text.trim();
}
function mode(text: string | undefined): ObjectLockMode {
  if (!LOCK_MODES.includes(text as ObjectLockMode)) throw malformedXml();
  return text as ObjectLockMode;
}

/**
 * `<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>[<Rule>
 * <DefaultRetention><Mode/>(<Days/>|<Years/>)</DefaultRetention></Rule>]</ObjectLockConfiguration>`.
 * A missing or other ObjectLockEnabled, an empty Rule or DefaultRetention, a missing or unknown
 * mode, no period or both: MalformedXML. A period out of range: InvalidArgument. (S3's answers as
 * LocalStack recorded them, and as issue reports quote them for the periods.)
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLockConfiguration.html
 */
export function parseObjectLockConfiguration(text: string): BucketObjectLock {
  const root = parseRoot(text, 'ObjectLockConfiguration');
  if (value(root, 'ObjectLockEnabled') !== 'Enabled') throw malformedXml();
  const config: BucketObjectLock = { enabled: true };
  const rule = only(root, 'Rule');
  if (rule === undefined) return config;
  const retention = only(rule, 'DefaultRetention');
  if (!retention) throw malformedXml();
  const retentionMode = mode(value(retention, 'Mode'));
  const days = value(retention, 'Days');
  const years = value(retention, 'Years');
  if ((days === undefined) === (years === undefined)) throw malformedXml();
  const [name, text_, max] = days !== undefined ? (['Days', days, MAX_RETENTION_DAYS] as const) : (['Years', years!, MAX_RETENTION_YEARS] as const);
  if (!/^[+-]?\d+$/.test(text_)) throw malformedXml();
  const period = Number(text_);
  if (period <= 0) {
    throw new S3Error('InvalidArgument', 400, 'Default retention period must be a positive integer value.', [['ArgumentName', name], ['ArgumentValue', text_]]);
  }
  if (period > max) throw new S3Error('InvalidArgument', 400, 'Default retention period too large.', [['ArgumentName', name], ['ArgumentValue', text_]]);
  config.defaultRetention = name === 'Days' ? { mode: retentionMode, days: period } : { mode: retentionMode, years: period };
  return config;
}

/**
 * PutObjectLockConfiguration: sets the default retention, or enables Object Lock on an existing
 * bucket whose versioning is Enabled ("You can enable Object Lock for new or existing buckets",
 * since November 2023; the x-amz-bucket-object-lock-token of the AWS Support days is not needed).
 * It can never be disabled: the configuration without a Rule removes only the default.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLockConfiguration.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html#object-lock-configure-existing-bucket
 */
export async function putObjectLockConfiguration(req: S3Request): Promise<S3Response> {
  requireBucket(req);
  const config = parseObjectLockConfiguration(await readChecksummedBody(req));
  // Read again after the body: a change (or DeleteBucket) made while it arrived is not undone.
  const bucket = requireBucket(req);
  if (!lockEnabled(bucket) && bucket.versioning !== 'Enabled') {
    throw new S3Error('InvalidBucketState', 409, "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration");
  }
  bucket.objectLock = config;
  req.state.meta.putBucket(bucket);
  return {};
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLockConfiguration.html */
export function getObjectLockConfiguration(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const lock = bucket.objectLock;
  if (!lock) {
    throw new S3Error('ObjectLockConfigurationNotFoundError', 404, 'Object Lock configuration does not exist for this bucket', [['BucketName', bucket.name]]);
  }
  const rule = lock.defaultRetention;
  return {
    body: s3Document('ObjectLockConfiguration', [
      el('ObjectLockEnabled', 'Enabled'),
      rule ? el('Rule', [el('DefaultRetention', [el('Mode', rule.mode), el('Days', rule.days), el('Years', rule.years)])]) : '',
    ]),
  };
}

/** The version a retention or legal-hold request names, in a bucket that must have Object Lock. */
function lockedVersion(req: S3Request, bucket: BucketRecord, method: string): ObjectVersion {
  if (!lockEnabled(bucket)) throw missingLockConfiguration();
  return findVersion(req, bucket, req.key!, requestedVersion(req), method);
}

/**
 * PutObjectRetention: `<Retention><Mode/><RetainUntilDate/></Retention>`, both or neither (an
 * empty Retention removes a GOVERNANCE retention, with a bypass). A mode without a date, or the
 * reverse: MalformedXML; a date not in the future: InvalidArgument (S3's answers, recorded by
 * LocalStack). Extending is allowed to anyone who may put retention; see checkRetentionChange.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectRetention.html
 */
export async function putObjectRetention(req: S3Request): Promise<S3Response> {
  const bucket = requireBucket(req);
  const root = parseRoot(await readChecksummedBody(req), 'Retention');
  const modeText = value(root, 'Mode');
  const dateText = value(root, 'RetainUntilDate');
  if ((modeText === undefined) !== (dateText === undefined)) throw malformedXml();
  let next: { mode: ObjectLockMode; retainUntil: number } | undefined;
  if (modeText !== undefined) {
    const retentionMode = mode(modeText);
    const until = parseIsoDate(dateText!);
    if (until === undefined) throw malformedXml();
    if (until <= req.now.getTime()) {
      throw new S3Error('InvalidArgument', 400, 'The retain until date must be in the future!', [['ArgumentName', 'RetainUntilDate'], ['ArgumentValue', dateText!]]);
    }
    next = { mode: retentionMode, retainUntil: until };
  }
  // Authorized once the body is read: its mode and date are the Object Lock condition keys, for
  // s3:PutObjectRetention and for a bypass's s3:BypassGovernanceRetention.
  const asked = withRetentionKeys(req, modeText, dateText);
  authorizeObjectLockBody(asked, bucket);
  const v = lockedVersion(req, bucket, 'PUT');
  const bypass = header(req.headers, 'x-amz-bypass-governance-retention')?.trim().toLowerCase() === 'true';
  checkRetentionChange(asked, bucket, v, next, bypass);
  const lock = { ...v.meta.lock };
  if (next) Object.assign(lock, next);
  else {
    delete lock.mode;
    delete lock.retainUntil;
  }
  v.meta.lock = lock;
  req.state.meta.updateVersion(v);
  return {};
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectRetention.html */
export function getObjectRetention(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const v = lockedVersion(req, bucket, 'GET');
  const lock = v.meta.lock;
  if (lock?.mode === undefined || lock.retainUntil === undefined) throw noObjectLockConfiguration();
  return { body: s3Document('Retention', [el('Mode', lock.mode), el('RetainUntilDate', new Date(lock.retainUntil).toISOString())]) };
}

/**
 * PutObjectLegalHold: `<LegalHold><Status>ON|OFF</Status></LegalHold>`. "Legal holds can be
 * freely placed and removed by any user who has the s3:PutObjectLegalHold permission."
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLegalHold.html
 */
export async function putObjectLegalHold(req: S3Request): Promise<S3Response> {
  const bucket = requireBucket(req);
  const root = parseRoot(await readChecksummedBody(req), 'LegalHold');
  const status = value(root, 'Status');
  if (status !== 'ON' && status !== 'OFF') throw malformedXml();
  // Authorized once the body is read: its status is s3:object-lock-legal-hold.
  authorizeObjectLockBody(withLegalHoldKey(req, status), bucket);
  const v = lockedVersion(req, bucket, 'PUT');
  v.meta.lock = { ...v.meta.lock, legalHold: status };
  req.state.meta.updateVersion(v);
  return {};
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLegalHold.html */
export function getObjectLegalHold(req: S3Request): S3Response {
  const bucket = requireBucket(req);
  const v = lockedVersion(req, bucket, 'GET');
  const hold = v.meta.lock?.legalHold;
  if (hold === undefined) throw noObjectLockConfiguration();
  return { body: s3Document('LegalHold', [el('Status', hold)]) };
}
