// ACLs (packages/s3/src/acl.ts) beyond acl.test.ts and authorization.test.ts: cases written for
// the mutation run (`npm run mutate -- s3`).
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl
import { CANNED_ACLS, aclFromHeaders, cannedGrants, parseAccessControlPolicy } from '../src/acl';
import { S3Error } from '../src/errors';
import { canonicalUserId } from '../src/owner';

const OWNER = '111122223333';
const OTHER = '444455556666';

describe('canned ACLs', () => {
  it('are exactly the eight S3 documents', () => {
    expect([...CANNED_ACLS]).toEqual([
      'private', 'public-read', 'public-read-write', 'authenticated-read', 'aws-exec-read', 'bucket-owner-read', 'bucket-owner-full-control', 'log-delivery-write',
    ]);
  });

  it.each(CANNED_ACLS)('x-amz-acl: %s is accepted and gives its grants', (acl) => {
    expect(aclFromHeaders({ 'x-amz-acl': acl }, OTHER, OWNER)).toEqual(cannedGrants(acl, OTHER, OWNER));
  });
});

describe('grants: exact forms', () => {
  const ownerId = canonicalUserId(OWNER);
  const otherId = canonicalUserId(OTHER);
  const error = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return { code: (e as S3Error).code, message: (e as S3Error).message, fields: (e as S3Error).fields };
    }
    return undefined;
  };
  const doc = (grantee: string) =>
    `<AccessControlPolicy xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Owner><ID>${ownerId}</ID></Owner><AccessControlList><Grant>${grantee}<Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>`;

  it('a grant header with text after its closing quote', () => {
    expect(error(() => aclFromHeaders({ 'x-amz-grant-read': `id="${otherId}"x` }, OWNER, OWNER))).toEqual({
      code: 'InvalidArgument', message: 'Invalid header value', fields: [['ArgumentName', 'x-amz-grant-read'], ['ArgumentValue', `id="${otherId}"x`]],
    });
  });

  it.each([`x${otherId}`, `${otherId}0`, otherId.slice(1)])('a document\'s CanonicalUser ID %s that is not 64 hex digits', (id) => {
    expect(error(() => parseAccessControlPolicy(doc(`<Grantee xsi:type="CanonicalUser"><ID>${id}</ID></Grantee>`), OWNER))).toEqual({
      code: 'InvalidArgument', message: 'Invalid id', fields: [['ArgumentName', 'CanonicalUser/ID'], ['ArgumentValue', id]],
    });
  });

  // E-mail grantees reached end of support on 1 October 2025: 405 MethodNotAllowed (API reference notice).
  it('a document\'s grant by e-mail address', () => {
    expect(error(() => parseAccessControlPolicy(doc('<Grantee xsi:type="AmazonCustomerByEmail"><EmailAddress>a@example.com</EmailAddress></Grantee>'), OWNER))).toEqual({
      code: 'MethodNotAllowed', message: 'The specified method is not allowed against this resource.', fields: [],
    });
  });
});
