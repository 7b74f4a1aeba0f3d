// isPublicPolicy() (packages/s3/src/public-policy.ts) beyond authorization.test.ts's rows: each
// key AWS lists as narrowing, each operator that fixes a value, several keys under one operator,
// several principal types, NotPrincipal with and without a narrowing condition, and documents that
// did not come through the parser. Written for the mutation run (`npm run mutate -- s3`).
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
import { parsePolicy, type PolicyDocument } from '@sealbox/policy';
import { isPublicPolicy } from '../src/public-policy';

const OTHER = '444455556666';
const doc = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const allowAll = (extra: object = {}) => ({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*', ...extra });
const pub = (statement: object) => isPublicPolicy(parsePolicy(doc(statement), 'resource'));

describe('isPublicPolicy: the keys whose fixed values make a statement non-public', () => {
  // "Amazon S3 considers a bucket policy public unless ... fixed values of" these keys.
  it.each([
    ['aws:SourceIp', '10.1.0.0/16', 'IpAddress'],
    ['aws:SourceArn', 'arn:aws:sns:us-east-1:111122223333:t', 'ArnEquals'],
    ['aws:SourceVpc', 'vpc-1a2b3c4d', 'StringEquals'],
    ['aws:SourceVpce', 'vpce-1a2b3c4d', 'StringEquals'],
    ['aws:SourceOwner', OTHER, 'StringEquals'],
    ['aws:SourceAccount', OTHER, 'StringEquals'],
    ['aws:userid', 'AIDAEXAMPLE', 'StringEquals'],
    ['aws:PrincipalArn', `arn:aws:iam::${OTHER}:role/app`, 'ArnEquals'],
    ['aws:PrincipalAccount', OTHER, 'StringEquals'],
    ['aws:PrincipalOrgID', 'o-a1b2c3d4e5', 'StringEquals'],
    ['s3:DataAccessPointArn', `arn:aws:s3:us-east-1:${OTHER}:accesspoint/ap`, 'StringEquals'],
    ['s3:DataAccessPointAccount', OTHER, 'StringEquals'],
  ])('%s pinned to %s is not public, and the same value of another key is', (key, value, operator) => {
    expect(pub(allowAll({ Condition: { [operator]: { [key]: value } } }))).toBe(false);
    expect(pub(allowAll({ Condition: { [operator]: { 'aws:RequestTag/env': value } } }))).toBe(true);
  });

  it.each(['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'ArnEquals', 'ArnLike'])('%s with a fixed value pins the key', (operator) => {
    expect(pub(allowAll({ Condition: { [operator]: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:t' } } }))).toBe(false);
    expect(pub(allowAll({ Condition: { [`ForAnyValue:${operator}`]: { 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:t' } } }))).toBe(false);
  });

  it('ForAllValues: does not pin (it holds when the key is absent)', () => {
    expect(pub(allowAll({ Condition: { 'ForAllValues:StringEquals': { 'aws:SourceAccount': OTHER } } }))).toBe(true);
  });

  it('ArnLike with a fixed ARN pins; with a wildcard it does not', () => {
    expect(pub(allowAll({ Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${OTHER}:role/app` } } }))).toBe(false);
    expect(pub(allowAll({ Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${OTHER}:role/*` } } }))).toBe(true);
  });

  it('one pinned key among others under the same operator is enough (conditions are ANDed)', () => {
    expect(pub(allowAll({ Condition: { StringEquals: { 's3:prefix': 'home/', 'aws:SourceAccount': OTHER } } }))).toBe(false);
    expect(pub(allowAll({ Condition: { StringEquals: { 'aws:SourceAccount': OTHER, 's3:prefix': 'home/' } } }))).toBe(false);
  });

  it('an empty list of values pins nothing', () => {
    expect(pub(allowAll({ Condition: { StringEquals: { 'aws:SourceAccount': [] } } }))).toBe(true);
  });

  it('every value must be fixed', () => {
    expect(pub(allowAll({ Condition: { StringLike: { 'aws:SourceAccount': [OTHER, '4444*'] } } }))).toBe(true);
    expect(pub(allowAll({ Condition: { StringLike: { 'aws:SourceAccount': [OTHER, '111122223333'] } } }))).toBe(false);
  });
});

describe('isPublicPolicy: principals', () => {
  it('a wildcard in any principal type', () => {
    expect(pub(allowAll({ Principal: { AWS: '*', Service: 'cloudtrail.amazonaws.com' } }))).toBe(true);
    expect(pub(allowAll({ Principal: { Service: 'cloudtrail.amazonaws.com', AWS: '*' } }))).toBe(true);
    expect(pub(allowAll({ Principal: { AWS: OTHER, Service: 'cloudtrail.amazonaws.com' } }))).toBe(false);
  });

  it('NotPrincipal grants to everyone else: public, unless a condition pins it like a wildcard principal', () => {
    const notPrincipal = (extra: object = {}) => ({ Effect: 'Allow', NotPrincipal: { AWS: OTHER }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*', ...extra });
    expect(pub(notPrincipal())).toBe(true);
    expect(pub(notPrincipal({ Condition: { StringEquals: { 's3:prefix': 'home/' } } }))).toBe(true);
    expect(pub(notPrincipal({ Condition: { StringEquals: { 'aws:SourceAccount': OTHER } } }))).toBe(false);
    expect(pub(notPrincipal({ Condition: { IpAddress: { 'aws:SourceIp': '10.1.0.0/16' } } }))).toBe(false);
    expect(pub({ ...notPrincipal(), Effect: 'Deny' })).toBe(false);
  });
});

describe('isPublicPolicy: a document that did not come through the parser', () => {
  const raw = (statement: object): PolicyDocument => ({ Version: '2012-10-17', Statement: [statement] }) as unknown as PolicyDocument;
  const base = { Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::data/*'] };

  it('an IP that is not one pins nothing (and does not throw)', () => {
    expect(isPublicPolicy(raw({ ...base, Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': ['not-an-ip'] } } }))).toBe(true);
  });
});
