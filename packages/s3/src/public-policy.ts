import { parseCidr, type PolicyDocument, type Statement } from '@sealbox/policy';
import type { MetadataStore } from './store/metadata-store';
import type { BucketRecord, PublicAccessBlock } from './store/model';

/**
 * Whether a bucket policy is "public" in the sense of S3 Block Public Access: some Allow statement
 * grants to a wildcard principal (or through NotPrincipal, everyone but a few) without a condition
 * that pins it to fixed values of one of the keys AWS lists. AWS calls a policy public "unless" it
 * limits access to fixed source IPs or fixed values of those keys, whatever names the principal.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
 */
export function isPublicPolicy(doc: PolicyDocument): boolean {
  return doc.Statement.some(isPublicStatement);
}

/** Keys whose fixed values make a wildcard-principal statement non-public. */
const NARROWING_KEYS = new Set(
  [
    'aws:SourceIp',
    'aws:SourceArn',
    'aws:SourceVpc',
    'aws:SourceVpce',
    'aws:SourceOwner',
    'aws:SourceAccount',
    'aws:userid',
    'aws:PrincipalArn',
    'aws:PrincipalAccount',
    'aws:PrincipalOrgID',
    's3:DataAccessPointArn',
    's3:DataAccessPointAccount',
  ].map((k) => k.toLowerCase()),
);

/** Operators that require the key to have one of the listed values (not negated, not IfExists). */
const FIXING_OPERATORS = new Set(['stringequals', 'stringequalsignorecase', 'stringlike', 'arnequals', 'arnlike', 'ipaddress']);

function isPublicStatement(s: Statement): boolean {
  if (s.Effect !== 'Allow') return false;
  if (!wildcardPrincipal(s)) return false;
  return !Object.entries(s.Condition ?? {}).some(([operator, keys]) => {
    // Stryker disable next-line Regex: equivalent because the policy parser refuses an operator with anything before ForAnyValue:
    const op = operator.toLowerCase().replace(/^forAnyValue:/i, '');
    if (!FIXING_OPERATORS.has(op)) return false;
    return Object.entries(keys).some(([key, values]) => NARROWING_KEYS.has(key.toLowerCase()) && values.length > 0 && values.every((v) => isFixed(op, v)));
  });
}

/** A wildcard in Principal, or NotPrincipal (no Principal): everyone but the names it lists. */
function wildcardPrincipal(s: Statement): boolean {
  const p = s.Principal;
  if (p === undefined || p === '*') return true;
  return Object.values(p).some((values) => values.some((v) => v.includes('*')));
}

/** A value pins the key when it has no wildcard or policy variable, and an IP range is narrow enough. */
function isFixed(operator: string, value: string): boolean {
  if (operator === 'ipaddress') {
    const cidr = parseCidr(value);
    // AWS counts ranges wider than /8 (IPv4) or /32 (IPv6) as public.
    return cidr !== null && cidr.prefix >= (cidr.family === 4 ? 8 : 32);
  }
  return !/[*?]|\$\{/.test(value);
}

/**
 * The Block Public Access settings in force for a bucket: each of the four is on when the bucket
 * or its owner's account (S3 Control's PutPublicAccessBlock) turns it on.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
 */
export function effectiveBlock(meta: MetadataStore, bucket: BucketRecord): PublicAccessBlock {
  const own = bucket.publicAccessBlock;
  const account = meta.getAccount(bucket.accountId).publicAccessBlock;
  return {
    blockPublicAcls: own?.blockPublicAcls === true || account?.blockPublicAcls === true,
    ignorePublicAcls: own?.ignorePublicAcls === true || account?.ignorePublicAcls === true,
    blockPublicPolicy: own?.blockPublicPolicy === true || account?.blockPublicPolicy === true,
    restrictPublicBuckets: own?.restrictPublicBuckets === true || account?.restrictPublicBuckets === true,
  };
}
