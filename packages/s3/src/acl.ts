/**
 * Access control lists, where the bucket's ownership setting still honours them (ObjectWriter or
 * BucketOwnerPreferred; BucketOwnerEnforced, the default, disables them): canned ACLs, the
 * x-amz-grant-* headers and AccessControlPolicy documents, stored on buckets and object versions,
 * and evaluated as one more resource-side grant beside the bucket policy.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html
 */
import type { IncomingHttpHeaders } from 'node:http';
import { MethodNotAllowed, S3Error } from './errors';
import { header } from './http-util';
import { canonicalUserId, ownerElements } from './owner';
import type { BucketRecord } from './store/model';
import { el, escapeXml, s3Document } from './xml';
import { MALFORMED_XML_MESSAGE, childText, childrenNamed, child, parseXml } from './xml-parse';

export type Permission = 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP' | 'FULL_CONTROL';
const PERMISSIONS: readonly Permission[] = ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'];

export type Grantee = { type: 'CanonicalUser'; id: string } | { type: 'Group'; uri: string };
export interface Grant {
  grantee: Grantee;
  permission: Permission;
}

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
const GROUPS = [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY];

export const CANNED_ACLS = ['private', 'public-read', 'public-read-write', 'authenticated-read', 'aws-exec-read', 'bucket-owner-read', 'bucket-owner-full-control', 'log-delivery-write'];

const user = (accountId: string, permission: Permission): Grant => ({ grantee: { type: 'CanonicalUser', id: canonicalUserId(accountId) }, permission });
const group = (uri: string, permission: Permission): Grant => ({ grantee: { type: 'Group', uri }, permission });

/**
 * The grants of a canned ACL for a resource owned by `owner` in a bucket owned by `bucketOwner`.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl
 */
export function cannedGrants(acl: string, owner: string, bucketOwner: string): Grant[] {
  const grants = [user(owner, 'FULL_CONTROL')];
  switch (acl) {
    case 'public-read':
      grants.push(group(ALL_USERS, 'READ'));
      break;
    case 'public-read-write':
      grants.push(group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE'));
      break;
    case 'authenticated-read':
      grants.push(group(AUTHENTICATED_USERS, 'READ'));
      break;
    case 'bucket-owner-read':
      if (bucketOwner !== owner) grants.push(user(bucketOwner, 'READ'));
      break;
    case 'bucket-owner-full-control':
      if (bucketOwner !== owner) grants.push(user(bucketOwner, 'FULL_CONTROL'));
      break;
    case 'log-delivery-write':
      grants.push(group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP'));
      break;
  }
  return grants;
}

const GRANT_HEADERS: [string, Permission][] = [
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
];

/** Whether a request carries an ACL: x-amz-acl or an x-amz-grant-* header. */
export function hasAclHeaders(headers: IncomingHttpHeaders): boolean {
  return header(headers, 'x-amz-acl') !== undefined || GRANT_HEADERS.some(([name]) => header(headers, name) !== undefined);
}

const invalidArgument = (message: string, name: string, value: string) =>
  new S3Error('InvalidArgument', 400, message, [['ArgumentName', name], ['ArgumentValue', value]]);

/**
 * The ACL a request sets through its headers, or undefined: a canned x-amz-acl or
 * x-amz-grant-* headers (`id="..."`, `uri="..."`, comma-separated), never both.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html#API_PutObjectAcl_RequestSyntax
 */
export function aclFromHeaders(headers: IncomingHttpHeaders, owner: string, bucketOwner: string): Grant[] | undefined {
  const canned = header(headers, 'x-amz-acl');
  const granted = GRANT_HEADERS.filter(([name]) => header(headers, name) !== undefined);
  if (canned !== undefined && granted.length > 0) {
    throw new S3Error('InvalidRequest', 400, 'Specifying both Canned ACLs and Header Grants is not allowed');
  }
  if (canned !== undefined) {
    if (!CANNED_ACLS.includes(canned)) throw invalidArgument('', 'x-amz-acl', canned);
    return cannedGrants(canned, owner, bucketOwner);
  }
  if (granted.length === 0) return undefined;
  const grants: Grant[] = [];
  for (const [name, permission] of granted) {
    const value = header(headers, name)!;
    for (const part of value.split(',')) {
      const m = /^\s*(id|uri|emailAddress)\s*=\s*"?([^"]*)"?\s*$/i.exec(part);
      if (!m) throw invalidArgument('Invalid header value', name, value);
      grants.push({ grantee: grantee(m[1]!.toLowerCase(), m[2]!, name, value), permission });
    }
  }
  return grants;
}

function grantee(kind: string, value: string, name: string, raw: string): Grantee {
  if (kind === 'id') {
    if (!/^[0-9a-f]{64}$/.test(value)) throw invalidArgument('Invalid id', name, raw);
    return { type: 'CanonicalUser', id: value };
  }
  if (kind === 'uri') {
    if (!GROUPS.includes(value)) throw invalidArgument('Invalid group uri', name, raw);
    return { type: 'Group', uri: value };
  }
  throw emailGranteeRefused();
}

/**
 * S3 stopped taking grants to an e-mail address on 1 October 2025, with 405 (Method Not Allowed),
 * in the Regions that ever took them.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAcl.html ("End of support notice")
 */
const emailGranteeRefused = () => new MethodNotAllowed();

/** An AccessControlPolicy that S3's schema refuses. https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList */
const malformedAcl = () => new S3Error('MalformedACLError', 400, MALFORMED_XML_MESSAGE);

/**
 * Whether an ACL gives nothing beyond the bucket owner's full control: what a bucket whose ACLs
 * are disabled (BucketOwnerEnforced) still accepts, as "an equivalent form" of the
 * bucket-owner-full-control canned ACL.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html
 */
export function onlyBucketOwnerFullControl(grants: readonly Grant[], bucketOwner: string): boolean {
  const id = canonicalUserId(bucketOwner);
  return grants.length > 0 && grants.every((g) => g.grantee.type === 'CanonicalUser' && g.grantee.id === id && g.permission === 'FULL_CONTROL');
}

/**
 * An AccessControlPolicy document (PutBucketAcl, PutObjectAcl): its Owner must be the resource's
 * owner, and each Grant names a CanonicalUser or a Group with a permission.
 */
export function parseAccessControlPolicy(text: string, owner: string): Grant[] {
  let root;
  try {
    root = parseXml(text);
  } catch (err) {
    if (err instanceof S3Error && err.code === 'MalformedXML') throw malformedAcl();
    throw err;
  }
  if (root.name !== 'AccessControlPolicy') throw malformedAcl();
  const ownerId = child(root, 'Owner') && childText(child(root, 'Owner')!, 'ID');
  if (ownerId !== undefined && ownerId !== canonicalUserId(owner)) throw new S3Error('AccessDenied', 403, 'Access Denied');
  const list = child(root, 'AccessControlList');
  if (!list) throw malformedAcl();
  return childrenNamed(list, 'Grant').map((g) => {
    const who = child(g, 'Grantee');
    const permission = childText(g, 'Permission') as Permission | undefined;
    if (!who || !permission || !PERMISSIONS.includes(permission)) throw malformedAcl();
    const type = Object.entries(who.attributes).find(([k]) => k === 'xsi:type' || k.endsWith(':type'))?.[1];
    if (type === 'CanonicalUser') {
      const id = childText(who, 'ID');
      if (!id || !/^[0-9a-f]{64}$/.test(id)) throw invalidArgument('Invalid id', 'CanonicalUser/ID', id ?? '');
      return { grantee: { type: 'CanonicalUser', id }, permission };
    }
    if (type === 'Group') {
      const uri = childText(who, 'URI');
      if (!uri || !GROUPS.includes(uri)) throw invalidArgument('Invalid group uri', 'Group/URI', uri ?? '');
      return { grantee: { type: 'Group', uri }, permission };
    }
    if (type === 'AmazonCustomerByEmail') throw emailGranteeRefused();
    throw malformedAcl();
  });
}

/** GetBucketAcl / GetObjectAcl's document. */
export function accessControlPolicyXml(owner: string, grants: readonly Grant[]): string {
  const ownerXml = ownerElements(owner);
  return s3Document('AccessControlPolicy', [
    el('Owner', ownerXml),
    el(
      'AccessControlList',
      grants.map((g) => {
        const inner =
          g.grantee.type === 'CanonicalUser'
            ? `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${g.grantee.id}</ID></Grantee>`
            : `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>${escapeXml(g.grantee.uri)}</URI></Grantee>`;
        return `<Grant>${inner}<Permission>${g.permission}</Permission></Grant>`;
      }),
    ),
  ]);
}

/** A grant to everyone, or to every AWS account (AuthenticatedUsers), is public. */
export const isPublicGrant = (g: Grant) => g.grantee.type === 'Group' && (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS);

/** Whether ACLs are honoured in this bucket (every ownership setting but BucketOwnerEnforced). */
export const aclsEnabled = (bucket: BucketRecord) => bucket.objectOwnership !== 'BucketOwnerEnforced';

/**
 * The permission an action needs from the bucket's ACL (for bucket actions and object writes) or
 * the object's (object reads and the object's ACL), or undefined when ACLs cannot grant it.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#permissions
 */
export function aclPermission(action: string): { on: 'bucket' | 'object'; permission: Permission } | undefined {
  switch (action.toLowerCase()) {
    case 's3:listbucket':
    case 's3:listbucketversions':
    case 's3:listbucketmultipartuploads':
      return { on: 'bucket', permission: 'READ' };
    case 's3:putobject':
    case 's3:deleteobject':
    case 's3:deleteobjectversion':
      return { on: 'bucket', permission: 'WRITE' };
    case 's3:getbucketacl':
      return { on: 'bucket', permission: 'READ_ACP' };
    case 's3:putbucketacl':
      return { on: 'bucket', permission: 'WRITE_ACP' };
    case 's3:getobject':
    case 's3:getobjectversion':
      return { on: 'object', permission: 'READ' };
    case 's3:getobjectacl':
    case 's3:getobjectversionacl':
      return { on: 'object', permission: 'READ_ACP' };
    case 's3:putobjectacl':
    case 's3:putobjectversionacl':
      return { on: 'object', permission: 'WRITE_ACP' };
    default:
      return undefined;
  }
}

/**
 * Which grant of an ACL gives the caller a permission: 'group' (AllUsers, AuthenticatedUsers:
 * the caller itself), 'account' (the caller's account's canonical id: its IAM policies decide
 * for its users), or undefined. IgnorePublicAcls drops the public grants.
 */
export function aclGrants(grants: readonly Grant[], caller: { accountId: string } | undefined, permission: Permission, ignorePublic: boolean): 'group' | 'account' | undefined {
  let found: 'group' | 'account' | undefined;
  const callerId = caller ? canonicalUserId(caller.accountId) : undefined;
  for (const g of grants) {
    if (g.permission !== permission && g.permission !== 'FULL_CONTROL') continue;
    if (ignorePublic && isPublicGrant(g)) continue;
    if (g.grantee.type === 'Group') {
      if (g.grantee.uri === ALL_USERS || (g.grantee.uri === AUTHENTICATED_USERS && caller)) return 'group';
    } else if (callerId !== undefined && g.grantee.id === callerId) found = 'account';
  }
  return found;
}
