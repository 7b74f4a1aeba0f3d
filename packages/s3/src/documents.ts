/**
 * Typed parsers for the XML documents S3 accepts in request bodies.
 *
 * Each takes the body text and returns a typed value, or throws the error S3
 * answers with: MalformedXML (400) when the body is not well-formed, has the
 * wrong root element, or lacks a required element or has an element whose value
 * is not in the schema; the operation's own error (InvalidTag, InvalidRequest)
 * where S3 validates values further.
 *
 * Request syntax: https://docs.aws.amazon.com/AmazonS3/latest/API/ (CreateBucket,
 * DeleteObjects, CompleteMultipartUpload, PutBucketTagging / PutObjectTagging,
 * PutBucketVersioning, PutBucketCors, PutPublicAccessBlock,
 * PutBucketOwnershipControls).
 *
 * Conventions shared by all parsers (some of them guesses where the API reference
 * is silent; each is marked "Guess" where it applies):
 *  - Element names are matched by local name, so the S3 namespace
 *    (http://s3.amazonaws.com/doc/2006-03-01/) may be present or not.
 *  - Unknown elements are ignored, so that newer SDKs sending newer optional
 *    elements keep working. Guess: S3 is not documented to reject them.
 *  - A single-valued element that appears twice, or a value element that has child
 *    elements, is MalformedXML (it does not validate against the schema).
 *  - String values are taken exactly as written (no trimming: object keys and tag
 *    values may have significant white space). Integers and booleans are XML Schema
 *    types whose white space is collapsed, so they are trimmed.
 */
import { InvalidRequest, S3Error } from './errors';
import { childrenNamed, malformedXml, parseXml, type XmlNode } from './xml-parse';

// ---------------------------------------------------------------------------
// Shared helpers

function parseRoot(text: string, rootName: string): XmlNode {
  const root = parseXml(text);
  if (root.name !== rootName) throw malformedXml();
  return root;
}

/** The only child element with this name, or undefined; MalformedXML if there are several. */
function optionalElement(node: XmlNode, name: string): XmlNode | undefined {
  const found = childrenNamed(node, name);
  if (found.length > 1) throw malformedXml();
  return found[0];
}

function requiredElement(node: XmlNode, name: string): XmlNode {
  const found = optionalElement(node, name);
  if (!found) throw malformedXml();
  return found;
}

/** The text of a simple-valued element; MalformedXML if it contains elements. */
function valueOf(element: XmlNode): string {
  if (element.children.length > 0) throw malformedXml();
  return element.text;
}

function optionalValue(node: XmlNode, name: string): string | undefined {
  const element = optionalElement(node, name);
  return element === undefined ? undefined : valueOf(element);
}

function requiredValue(node: XmlNode, name: string): string {
  return valueOf(requiredElement(node, name));
}

/** All values of a repeated simple-valued element. */
function repeatedValues(node: XmlNode, name: string): string[] {
  return childrenNamed(node, name).map(valueOf);
}

/** xs:boolean: true/false/1/0 after white-space collapse. Guess: S3 also accepts TRUE/FALSE (its docs write TRUE). */
function parseBoolean(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw malformedXml();
}

function optionalBoolean(node: XmlNode, name: string): boolean | undefined {
  const value = optionalValue(node, name);
  return value === undefined ? undefined : parseBoolean(value);
}

/** xs:int: a 32-bit signed decimal integer after white-space collapse; anything else is MalformedXML. */
function parseInt32(value: string): number {
  const v = value.trim();
  if (!/^[+-]?[0-9]{1,11}$/.test(v)) throw malformedXml();
  const n = Number(v);
  if (n < -2147483648 || n > 2147483647) throw malformedXml();
  return n === 0 ? 0 : n; // no -0
}

function enumValue<T extends string>(value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw malformedXml();
  return value as T;
}

// ---------------------------------------------------------------------------
// CreateBucket

export interface CreateBucketConfiguration {
  /** As written; an empty `<LocationConstraint/>` gives ''. Region validation is the caller's. */
  locationConstraint?: string;
}

/** CreateBucket body: `<CreateBucketConfiguration><LocationConstraint>`. An empty (or blank) body is allowed. */
export function parseCreateBucketConfiguration(text: string): CreateBucketConfiguration {
  if (text.trim() === '') return {};
  const root = parseRoot(text, 'CreateBucketConfiguration');
  const locationConstraint = optionalValue(root, 'LocationConstraint');
  return locationConstraint === undefined ? {} : { locationConstraint };
}

// ---------------------------------------------------------------------------
// DeleteObjects

/** S3 deletes at most this many objects per DeleteObjects request. */
export const MAX_DELETE_OBJECTS = 1000;

export interface DeleteObjectIdentifier {
  key: string;
  versionId?: string;
  /** Conditional delete: only if the object's ETag matches. */
  eTag?: string;
}

export interface DeleteRequest {
  quiet: boolean;
  objects: DeleteObjectIdentifier[];
}

/**
 * DeleteObjects body: `<Delete><Quiet/>?<Object><Key/><VersionId/>?<ETag/>?</Object>+</Delete>`.
 * No Object, or more than 1000, is MalformedXML (as S3 answers). An Object without Key
 * is MalformedXML; an empty Key is returned as '' for the caller to report per key.
 */
export function parseDelete(text: string): DeleteRequest {
  const root = parseRoot(text, 'Delete');
  const quiet = optionalBoolean(root, 'Quiet') ?? false;
  const elements = childrenNamed(root, 'Object');
  if (elements.length === 0 || elements.length > MAX_DELETE_OBJECTS) throw malformedXml();
  const objects = elements.map((element): DeleteObjectIdentifier => {
    const object: DeleteObjectIdentifier = { key: requiredValue(element, 'Key') };
    const versionId = optionalValue(element, 'VersionId');
    if (versionId !== undefined) object.versionId = versionId;
    const eTag = optionalValue(element, 'ETag');
    if (eTag !== undefined) object.eTag = eTag;
    return object;
  });
  return { quiet, objects };
}

// ---------------------------------------------------------------------------
// CompleteMultipartUpload

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

export interface CompletedPart {
  partNumber: number;
  /** As written, quotes included if the client sent them. */
  eTag: string;
  /** Per-part checksums, from the ChecksumCRC32 ... ChecksumSHA256 elements (base64, unverified). */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

export interface CompleteMultipartUploadRequest {
  parts: CompletedPart[];
}

/**
 * CompleteMultipartUpload body: `<CompleteMultipartUpload><Part><PartNumber/><ETag/><ChecksumCRC32/>?...</Part>+`.
 * No Part is MalformedXML. PartNumber must be an integer (else MalformedXML); its range
 * (1-10000) and the ascending order (InvalidPartOrder) are checked by the caller against
 * the upload. Guess: a Part without PartNumber or ETag is MalformedXML.
 */
export function parseCompleteMultipartUpload(text: string): CompleteMultipartUploadRequest {
  const root = parseRoot(text, 'CompleteMultipartUpload');
  const elements = childrenNamed(root, 'Part');
  if (elements.length === 0) throw malformedXml();
  const parts = elements.map((element): CompletedPart => {
    const partNumber = parseInt32(requiredValue(element, 'PartNumber'));
    const eTag = requiredValue(element, 'ETag');
    const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
    for (const algorithm of CHECKSUM_ALGORITHMS) {
      const value = optionalValue(element, `Checksum${algorithm}`);
      if (value !== undefined) checksums[algorithm] = value;
    }
    return { partNumber, eTag, checksums };
  });
  return { parts };
}

// ---------------------------------------------------------------------------
// PutBucketTagging / PutObjectTagging

export interface Tag {
  key: string;
  value: string;
}

export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;

/**
 * The characters AWS allows in tag keys and values: letters, numbers and spaces
 * representable in UTF-8, and + - = . _ : / @ (the documented tag pattern).
 */
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function invalidTag(message: string, fields: [string, string][]): S3Error {
  return new S3Error('InvalidTag', 400, message, fields);
}

/**
 * PutBucketTagging / PutObjectTagging body: `<Tagging><TagSet><Tag><Key/><Value/></Tag>*</TagSet></Tagging>`.
 * A missing TagSet, or a Tag without Key or Value, is MalformedXML; an empty TagSet is
 * allowed. Per tag, in order: a key of 1-128 characters (code points) from the tag
 * character set, else InvalidTag "The TagKey you have provided is invalid"; a value
 * of 0-256 such characters, else InvalidTag "The TagValue you have provided is invalid";
 * a key seen before, InvalidTag "Cannot provide multiple Tags with the same key".
 * The tag count limit (10 per object, 50 per bucket) is the caller's.
 * The TagKey / TagValue extra elements follow what S3 is reported to send
 * (versity/versitygw#2039); guess for the invalid-key case.
 */
export function parseTagging(text: string): Tag[] {
  const root = parseRoot(text, 'Tagging');
  const tagSet = requiredElement(root, 'TagSet');
  const tags = childrenNamed(tagSet, 'Tag').map((element): Tag => ({
    key: requiredValue(element, 'Key'),
    value: requiredValue(element, 'Value'),
  }));
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    const keyLength = [...key].length;
    if (keyLength < 1 || keyLength > MAX_TAG_KEY_LENGTH || !TAG_CHARACTERS.test(key)) {
      throw invalidTag('The TagKey you have provided is invalid', [['TagKey', key]]);
    }
    if ([...value].length > MAX_TAG_VALUE_LENGTH || !TAG_CHARACTERS.test(value)) {
      throw invalidTag('The TagValue you have provided is invalid', [
        ['TagKey', key],
        ['TagValue', value],
      ]);
    }
    if (seen.has(key)) throw invalidTag('Cannot provide multiple Tags with the same key', [['TagKey', key]]);
    seen.add(key);
  }
  return tags;
}

// ---------------------------------------------------------------------------
// PutBucketVersioning

export type VersioningStatus = 'Enabled' | 'Suspended';
export type MfaDeleteStatus = 'Enabled' | 'Disabled';

export interface VersioningConfiguration {
  status?: VersioningStatus;
  mfaDelete?: MfaDeleteStatus;
}

/**
 * PutBucketVersioning body: `<VersioningConfiguration><Status/>?<MfaDelete/>?`.
 * A Status other than Enabled/Suspended or an MfaDelete other than Enabled/Disabled
 * is MalformedXML (case-sensitive). The request syntax spells the element MfaDelete;
 * Guess: MFADelete (the data type's member name) is accepted as well.
 */
export function parseVersioningConfiguration(text: string): VersioningConfiguration {
  const root = parseRoot(text, 'VersioningConfiguration');
  const result: VersioningConfiguration = {};
  const status = optionalValue(root, 'Status');
  if (status !== undefined) result.status = enumValue(status, ['Enabled', 'Suspended'] as const);
  const mfaDeleteElements = [...childrenNamed(root, 'MfaDelete'), ...childrenNamed(root, 'MFADelete')];
  if (mfaDeleteElements.length > 1) throw malformedXml();
  const mfaDelete = mfaDeleteElements[0];
  if (mfaDelete) result.mfaDelete = enumValue(valueOf(mfaDelete), ['Enabled', 'Disabled'] as const);
  return result;
}

// ---------------------------------------------------------------------------
// PutBucketCors

export interface CorsRule {
  id?: string;
  allowedMethods: string[];
  allowedOrigins: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

export const MAX_CORS_RULES = 100;
export const CORS_METHODS: readonly string[] = ['GET', 'PUT', 'HEAD', 'POST', 'DELETE'];

const wildcards = (value: string): number => value.split('*').length - 1;

/**
 * PutBucketCors body: `<CORSConfiguration><CORSRule>...</CORSRule>{1,100}</CORSConfiguration>`.
 * No rule, more than 100 rules, a rule without AllowedMethod or AllowedOrigin, or a
 * MaxAgeSeconds that is not an integer: MalformedXML. An AllowedMethod other than
 * GET/PUT/HEAD/POST/DELETE (case-sensitive): InvalidRequest "Found unsupported HTTP
 * method in CORS config. Unsupported method is X".
 * Wildcard checks: AllowedOrigin / AllowedHeader with more than one '*', ExposeHeader
 * with any '*': InvalidRequest. These messages are not in the API reference; they are
 * taken from S3-compatible servers that reproduce S3 (MinIO, NooBaa) and so are a guess.
 * Guess: the 255-character limit on ID is not enforced (no documented error).
 */
export function parseCorsConfiguration(text: string): CorsRule[] {
  const root = parseRoot(text, 'CORSConfiguration');
  const elements = childrenNamed(root, 'CORSRule');
  if (elements.length === 0 || elements.length > MAX_CORS_RULES) throw malformedXml();
  return elements.map((element): CorsRule => {
    const allowedMethods = repeatedValues(element, 'AllowedMethod');
    const allowedOrigins = repeatedValues(element, 'AllowedOrigin');
    const allowedHeaders = repeatedValues(element, 'AllowedHeader');
    const exposeHeaders = repeatedValues(element, 'ExposeHeader');
    const id = optionalValue(element, 'ID');
    const maxAge = optionalValue(element, 'MaxAgeSeconds');
    if (allowedMethods.length === 0 || allowedOrigins.length === 0) throw malformedXml();
    for (const method of allowedMethods) {
      if (!CORS_METHODS.includes(method)) {
        throw new InvalidRequest(`Found unsupported HTTP method in CORS config. Unsupported method is ${method}`);
      }
    }
    for (const origin of allowedOrigins) {
      if (wildcards(origin) > 1) throw new InvalidRequest(`AllowedOrigin "${origin}" can not have more than one wildcard.`);
    }
    for (const header of allowedHeaders) {
      if (wildcards(header) > 1) throw new InvalidRequest(`AllowedHeader "${header}" can not have more than one wildcard.`);
    }
    for (const header of exposeHeaders) {
      if (wildcards(header) > 0) {
        throw new InvalidRequest(`ExposeHeader "${header}" contains wildcard. We currently do not support wildcard for ExposeHeader.`);
      }
    }
    const rule: CorsRule = { allowedMethods, allowedOrigins, allowedHeaders, exposeHeaders };
    if (id !== undefined) rule.id = id;
    if (maxAge !== undefined) rule.maxAgeSeconds = parseInt32(maxAge);
    return rule;
  });
}

// ---------------------------------------------------------------------------
// PutPublicAccessBlock

export interface PublicAccessBlockConfiguration {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

/**
 * PutPublicAccessBlock body: `<PublicAccessBlockConfiguration>` with four optional
 * booleans; a missing one is false. Guess: a value that is not a boolean is MalformedXML.
 */
export function parsePublicAccessBlock(text: string): PublicAccessBlockConfiguration {
  const root = parseRoot(text, 'PublicAccessBlockConfiguration');
  return {
    blockPublicAcls: optionalBoolean(root, 'BlockPublicAcls') ?? false,
    ignorePublicAcls: optionalBoolean(root, 'IgnorePublicAcls') ?? false,
    blockPublicPolicy: optionalBoolean(root, 'BlockPublicPolicy') ?? false,
    restrictPublicBuckets: optionalBoolean(root, 'RestrictPublicBuckets') ?? false,
  };
}

// ---------------------------------------------------------------------------
// PutBucketOwnershipControls

export type ObjectOwnership = 'BucketOwnerPreferred' | 'ObjectWriter' | 'BucketOwnerEnforced';
export const OBJECT_OWNERSHIP_VALUES: readonly ObjectOwnership[] = ['BucketOwnerPreferred', 'ObjectWriter', 'BucketOwnerEnforced'];

export interface OwnershipControls {
  objectOwnership: ObjectOwnership;
}

/**
 * PutBucketOwnershipControls body: `<OwnershipControls><Rule><ObjectOwnership/></Rule></OwnershipControls>`.
 * Exactly one Rule with one ObjectOwnership from the three values (case-sensitive),
 * else MalformedXML. Guess: S3 answers MalformedXML for two rules as well.
 */
export function parseOwnershipControls(text: string): OwnershipControls {
  const root = parseRoot(text, 'OwnershipControls');
  const rule = requiredElement(root, 'Rule');
  return { objectOwnership: enumValue(requiredValue(rule, 'ObjectOwnership'), OBJECT_OWNERSHIP_VALUES) };
}

// ---------------------------------------------------------------------------------------------
// PutBucketEncryption: ServerSideEncryptionConfiguration
// ---------------------------------------------------------------------------------------------

export interface BucketEncryptionRule {
  sseAlgorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse';
  /** As given (key id, key ARN, alias name or alias ARN); echoed back by GetBucketEncryption. */
  kmsMasterKeyId?: string;
  bucketKeyEnabled: boolean;
}

/**
 * One Rule with ApplyServerSideEncryptionByDefault; a KMSMasterKeyID only with aws:kms or
 * aws:kms:dsse.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketEncryption.html
 */
export function parseBucketEncryption(text: string): BucketEncryptionRule {
  const root = parseRoot(text, 'ServerSideEncryptionConfiguration');
  const rules = childrenNamed(root, 'Rule');
  if (rules.length !== 1) throw malformedXml();
  const rule = rules[0]!;
  const byDefault = requiredElement(rule, 'ApplyServerSideEncryptionByDefault');
  const sseAlgorithm = enumValue(requiredValue(byDefault, 'SSEAlgorithm'), ['AES256', 'aws:kms', 'aws:kms:dsse'] as const);
  const kmsMasterKeyId = optionalValue(byDefault, 'KMSMasterKeyID');
  if (kmsMasterKeyId !== undefined && sseAlgorithm === 'AES256') {
    throw new S3Error('InvalidArgument', 400, 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse', [
      ['ArgumentName', 'ApplyServerSideEncryptionByDefault'],
    ]);
  }
  return { sseAlgorithm, kmsMasterKeyId, bucketKeyEnabled: optionalBoolean(rule, 'BucketKeyEnabled') ?? false };
}
