// ACLs from headers and documents (packages/s3/src/acl.ts): canned ACLs, x-amz-grant-* headers,
// AccessControlPolicy documents, with S3's errors; and the document GetBucketAcl returns.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html#API_PutObjectAcl_RequestSyntax
import { ALL_USERS, AUTHENTICATED_USERS, CANNED_ACLS, LOG_DELIVERY, accessControlPolicyXml, aclFromHeaders, cannedGrants, hasAclHeaders, isPublicGrant, parseAccessControlPolicy, type Grant } from '../src/acl';
import { S3Error } from '../src/errors';
import { canonicalUserId } from '../src/owner';

const OWNER = '111122223333';
const OTHER = '444455556666';
const ownerId = canonicalUserId(OWNER);
const otherId = canonicalUserId(OTHER);

function s3Error(fn: () => unknown): { code: string; status: number; message: string; fields: unknown } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(S3Error);
    const err = e as S3Error;
    return { code: err.code, status: err.status, message: err.message, fields: err.fields };
  }
  throw new Error('no error thrown');
}

describe('ACL headers', () => {
  it('hasAclHeaders sees x-amz-acl and each x-amz-grant-* header', () => {
    expect(hasAclHeaders({})).toBe(false);
    expect(hasAclHeaders({ 'x-amz-acl': 'private' })).toBe(true);
    for (const h of ['x-amz-grant-read', 'x-amz-grant-write', 'x-amz-grant-read-acp', 'x-amz-grant-write-acp', 'x-amz-grant-full-control']) expect(hasAclHeaders({ [h]: `id=${ownerId}` })).toBe(true);
    expect(hasAclHeaders({ 'x-amz-grant-other': 'x', 'x-amz-acl-x': 'y' })).toBe(false);
  });

  it('no ACL headers: no ACL', () => {
    expect(aclFromHeaders({}, OWNER, OWNER)).toBeUndefined();
  });

  it('a canned ACL', () => {
    expect(aclFromHeaders({ 'x-amz-acl': 'public-read' }, OTHER, OWNER)).toEqual(cannedGrants('public-read', OTHER, OWNER));
    expect(aclFromHeaders({ 'x-amz-acl': 'bucket-owner-full-control' }, OTHER, OWNER)).toEqual(cannedGrants('bucket-owner-full-control', OTHER, OWNER));
    expect(CANNED_ACLS).toHaveLength(8);
    expect(s3Error(() => aclFromHeaders({ 'x-amz-acl': 'Public-Read' }, OWNER, OWNER))).toEqual({
      code: 'InvalidArgument', status: 400, message: '', fields: [['ArgumentName', 'x-amz-acl'], ['ArgumentValue', 'Public-Read']],
    });
  });

  it('a canned ACL and grant headers together are refused', () => {
    expect(s3Error(() => aclFromHeaders({ 'x-amz-acl': 'private', 'x-amz-grant-read': `id=${otherId}` }, OWNER, OWNER))).toEqual({
      code: 'InvalidRequest', status: 400, message: 'Specifying both Canned ACLs and Header Grants is not allowed', fields: [],
    });
  });

  it('grant headers: ids and group URIs, quoted or not, comma-separated, each with its permission', () => {
    const grants = aclFromHeaders(
      {
        'x-amz-grant-read': `id="${otherId}", uri="${ALL_USERS}"`,
        'x-amz-grant-write': `URI=${LOG_DELIVERY}`,
        'x-amz-grant-read-acp': ` ID = ${ownerId}`,
        'x-amz-grant-write-acp': `uri="${AUTHENTICATED_USERS}"`,
        'x-amz-grant-full-control': `id=${ownerId}`,
      },
      OWNER,
      OWNER,
    );
    expect(grants).toEqual([
      { grantee: { type: 'CanonicalUser', id: otherId }, permission: 'READ' },
      { grantee: { type: 'Group', uri: ALL_USERS }, permission: 'READ' },
      { grantee: { type: 'Group', uri: LOG_DELIVERY }, permission: 'WRITE' },
      { grantee: { type: 'CanonicalUser', id: ownerId }, permission: 'READ_ACP' },
      { grantee: { type: 'Group', uri: AUTHENTICATED_USERS }, permission: 'WRITE_ACP' },
      { grantee: { type: 'CanonicalUser', id: ownerId }, permission: 'FULL_CONTROL' },
    ]);
  });

  it('malformed grant headers', () => {
    expect(s3Error(() => aclFromHeaders({ 'x-amz-grant-read': 'everyone' }, OWNER, OWNER))).toEqual({
      code: 'InvalidArgument', status: 400, message: 'Invalid header value', fields: [['ArgumentName', 'x-amz-grant-read'], ['ArgumentValue', 'everyone']],
    });
    expect(s3Error(() => aclFromHeaders({ 'x-amz-grant-read': `x id=${otherId}` }, OWNER, OWNER)).message).toBe('Invalid header value');
    expect(s3Error(() => aclFromHeaders({ 'x-amz-grant-read': `id="${otherId}" x` }, OWNER, OWNER)).message).toBe('Invalid header value');
    expect(s3Error(() => aclFromHeaders({ 'x-amz-grant-write': 'id=abc' }, OWNER, OWNER))).toEqual({
      code: 'InvalidArgument', status: 400, message: 'Invalid id', fields: [['ArgumentName', 'x-amz-grant-write'], ['ArgumentValue', 'id=abc']],
    });
    expect(s3Error(() => aclFromHeaders({ 'x-amz-grant-write': `id=${otherId.toUpperCase()}` }, OWNER, OWNER)).message).toBe('Invalid id');
    expect(s3Error(() => aclFromHeaders({ 'x-amz-grant-write': `id=${otherId}0` }, OWNER, OWNER)).message).toBe('Invalid id');
    expect(s3Error(() => aclFromHeaders({ 'x-amz-grant-write': 'uri=http://acs.amazonaws.com/groups/global/Everyone' }, OWNER, OWNER))).toEqual({
      code: 'InvalidArgument', status: 400, message: 'Invalid group uri', fields: [['ArgumentName', 'x-amz-grant-write'], ['ArgumentValue', 'uri=http://acs.amazonaws.com/groups/global/Everyone']],
    });
    // S3 refuses e-mail grantees with 405 since 1 October 2025 (API_PutObjectAcl.html, "End of support notice").
    expect(s3Error(() => aclFromHeaders({ 'x-amz-grant-read': 'emailAddress="a@example.com"' }, OWNER, OWNER))).toEqual({
      code: 'MethodNotAllowed', status: 405, message: 'The specified method is not allowed against this resource.', fields: [],
    });
  });
});

describe('AccessControlPolicy documents', () => {
  const grants: Grant[] = [
    { grantee: { type: 'CanonicalUser', id: ownerId }, permission: 'FULL_CONTROL' },
    { grantee: { type: 'CanonicalUser', id: otherId }, permission: 'READ' },
    { grantee: { type: 'Group', uri: ALL_USERS }, permission: 'READ_ACP' },
    { grantee: { type: 'Group', uri: LOG_DELIVERY }, permission: 'WRITE' },
  ];

  it('GetBucketAcl\'s document round-trips through PutBucketAcl\'s parser', () => {
    const xml = accessControlPolicyXml(OWNER, grants);
    // No DisplayName anywhere: S3 stopped returning it on November 21, 2025.
    expect(xml).toContain(`<Owner><ID>${ownerId}</ID></Owner>`);
    expect(xml).toContain(`<ID>${ownerId}</ID></Grantee><Permission>FULL_CONTROL</Permission>`);
    expect(xml).not.toContain('DisplayName');
    expect(xml).toContain(`<ID>${otherId}</ID></Grantee><Permission>READ</Permission>`);
    expect(xml).toContain(`xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee><Permission>READ_ACP</Permission>`);
    expect(parseAccessControlPolicy(xml, OWNER)).toEqual(grants);
  });

  const docWith = (grantXml: string, owner = `<Owner><ID>${ownerId}</ID></Owner>`) =>
    `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${owner}<AccessControlList>${grantXml}</AccessControlList></AccessControlPolicy>`;
  const user = (id: string, permission = 'READ', type = 'xsi:type="CanonicalUser"') => `<Grant><Grantee ${type}><ID>${id}</ID></Grantee><Permission>${permission}</Permission></Grant>`;

  it('accepts a document without an Owner, another prefix for the type attribute, and no grants', () => {
    expect(parseAccessControlPolicy(docWith(user(otherId), ''), OWNER)).toEqual([{ grantee: { type: 'CanonicalUser', id: otherId }, permission: 'READ' }]);
    expect(parseAccessControlPolicy(docWith(user(otherId)).replace(/xmlns:xsi/, 'xmlns:t').replace('xsi:type', 't:type'), OWNER)).toHaveLength(1);
    expect(parseAccessControlPolicy(docWith(''), OWNER)).toEqual([]);
  });

  it('refuses another owner with AccessDenied', () => {
    expect(s3Error(() => parseAccessControlPolicy(docWith(user(otherId), `<Owner><ID>${otherId}</ID></Owner>`), OWNER))).toMatchObject({ code: 'AccessDenied', status: 403, message: 'Access Denied' });
  });

  it.each([
    ['another root element', '<Policy><AccessControlList/></Policy>'],
    ['no AccessControlList', `<AccessControlPolicy><Owner><ID>${ownerId}</ID></Owner></AccessControlPolicy>`],
    ['a grant without a grantee', docWith('<Grant><Permission>READ</Permission></Grant>')],
    ['a grant without a permission', docWith(`<Grant><Grantee xsi:type="CanonicalUser"><ID>${otherId}</ID></Grantee></Grant>`)],
    ['an unknown permission', docWith(user(otherId, 'READ_WRITE'))],
    ['a grantee without a type', docWith(user(otherId, 'READ', ''))],
    ['an unknown grantee type', docWith(user(otherId, 'READ', 'xsi:type="Role"'))],
    ['XML that is not well-formed', '<AccessControlPolicy><AccessControlList>'],
  ])('MalformedACLError for %s', (_, xml) => {
    expect(s3Error(() => parseAccessControlPolicy(xml, OWNER))).toMatchObject({ code: 'MalformedACLError', status: 400 });
  });

  it('InvalidArgument for a bad id or group, 405 MethodNotAllowed for an address', () => {
    expect(s3Error(() => parseAccessControlPolicy(docWith(user('abc')), OWNER))).toEqual({
      code: 'InvalidArgument', status: 400, message: 'Invalid id', fields: [['ArgumentName', 'CanonicalUser/ID'], ['ArgumentValue', 'abc']],
    });
    expect(s3Error(() => parseAccessControlPolicy(docWith('<Grant><Grantee xsi:type="CanonicalUser"></Grantee><Permission>READ</Permission></Grant>'), OWNER)).fields).toEqual([['ArgumentName', 'CanonicalUser/ID'], ['ArgumentValue', '']]);
    expect(s3Error(() => parseAccessControlPolicy(docWith('<Grant><Grantee xsi:type="Group"><URI>http://x/</URI></Grantee><Permission>READ</Permission></Grant>'), OWNER))).toEqual({
      code: 'InvalidArgument', status: 400, message: 'Invalid group uri', fields: [['ArgumentName', 'Group/URI'], ['ArgumentValue', 'http://x/']],
    });
    expect(s3Error(() => parseAccessControlPolicy(docWith('<Grant><Grantee xsi:type="Group"></Grantee><Permission>READ</Permission></Grant>'), OWNER)).fields).toEqual([['ArgumentName', 'Group/URI'], ['ArgumentValue', '']]);
    expect(s3Error(() => parseAccessControlPolicy(docWith('<Grant><Grantee xsi:type="AmazonCustomerByEmail"><EmailAddress>a@example.com</EmailAddress></Grantee><Permission>READ</Permission></Grant>'), OWNER)).code).toBe('MethodNotAllowed');
  });

  it('isPublicGrant: AllUsers and AuthenticatedUsers only', () => {
    expect(isPublicGrant({ grantee: { type: 'Group', uri: ALL_USERS }, permission: 'READ' })).toBe(true);
    expect(isPublicGrant({ grantee: { type: 'Group', uri: AUTHENTICATED_USERS }, permission: 'READ' })).toBe(true);
    expect(isPublicGrant({ grantee: { type: 'Group', uri: LOG_DELIVERY }, permission: 'WRITE' })).toBe(false);
    expect(isPublicGrant({ grantee: { type: 'CanonicalUser', id: otherId }, permission: 'READ' })).toBe(false);
  });
});
