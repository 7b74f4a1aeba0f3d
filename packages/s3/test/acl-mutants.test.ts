// ACLs (packages/s3/src/acl.ts) beyond acl.test.ts and authorization.test.ts: cases written for
// the mutation run (`npm run mutate -- s3`).
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl
import { CANNED_ACLS, aclFromHeaders, cannedGrants } from '../src/acl';

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
