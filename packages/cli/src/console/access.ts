import type { KeyView, KmsCore } from '@sealbox/kms';
import { canonicalUserId, type S3State } from '@sealbox/s3';
import type { Credentials } from '@sealbox/sigv4';

/**
 * The access-control side of the console: what decides who may use a key or a bucket. Read from
 * the in-process stores, as GetKeyPolicy, ListGrants, ListResourceTags, GetBucketPolicy,
 * GetPublicAccessBlock, GetBucketOwnershipControls, GetBucketAcl and GetBucketCors show them, and
 * the seeded identities with their identity policies. Never a secret access key, a session token
 * or key material: every view below is built field by field, never by spreading a record.
 */

/** A KMS key's place in a multi-Region set (DescribeKey's MultiRegionConfiguration). */
export interface MultiRegionView {
  role: 'PRIMARY' | 'REPLICA';
  primaryRegion: string;
  replicaRegions: string[];
}

export type ConsoleKeyView = KeyView & { multiRegionConfiguration?: MultiRegionView };

type Store = KmsCore['store'];
type KeyRecord = NonNullable<ReturnType<Store['getKey']>>;

function multiRegionOf(store: Store, key: KeyRecord): MultiRegionView | undefined {
  if (!key.multiRegion || key.primaryRegion === undefined) return undefined;
  const set = store.keysWithId(key.keyId).filter((k) => k.accountId === key.accountId);
  return {
    role: key.primaryRegion === key.region ? 'PRIMARY' : 'REPLICA',
    primaryRegion: key.primaryRegion,
    replicaRegions: set.map((k) => k.region).filter((r) => r !== key.primaryRegion).sort(),
  };
}

/** The key list with each multi-Region key's role: a primary and its replicas share one key id. */
export function withMultiRegion(core: KmsCore, keys: KeyView[]): ConsoleKeyView[] {
  return keys.map((view) => {
    if (!view.multiRegion) return view;
    const record = core.store.getKey(view.keyId, view.region);
    const config = record && record.accountId === view.accountId ? multiRegionOf(core.store, record) : undefined;
    return config ? { ...view, multiRegionConfiguration: config } : view;
  });
}

export interface KeyAccessView {
  arn: string;
  keyId: string;
  accountId: string;
  region: string;
  /** The key policy as GetKeyPolicy returns it (the text as put). */
  policy: string;
  grants: {
    grantId: string;
    name?: string;
    granteePrincipal: string;
    retiringPrincipal?: string;
    issuingAccount: string;
    operations: string[];
    constraints?: { EncryptionContextEquals?: Record<string, string>; EncryptionContextSubset?: Record<string, string> };
    creationDate: number;
  }[];
  tags: { TagKey: string; TagValue: string }[];
  aliases: string[];
  multiRegionConfiguration?: MultiRegionView;
}

/** A key's policy, grants, tags and aliases, by its ARN; undefined when there is no such key. */
export function inspectKeyAccess(core: KmsCore, arn: string): KeyAccessView | undefined {
  const m = /^arn:aws[\w-]*:kms:([a-z0-9-]+):(\d{12}):key\/([A-Za-z0-9-]+)$/.exec(arn);
  if (!m) return undefined;
  const [, region, accountId, keyId] = m as unknown as [string, string, string, string];
  const key = core.store.getKey(keyId, region);
  if (!key || key.accountId !== accountId) return undefined;
  const multiRegion = multiRegionOf(core.store, key);
  return {
    arn: key.arn,
    keyId: key.keyId,
    accountId: key.accountId,
    region: key.region,
    policy: key.policy,
    grants: core.store
      .grantsOfKey(key.keyId, key.region)
      .filter((g) => g.region === undefined || g.region === key.region)
      .map((g) => ({
        grantId: g.grantId,
        ...(g.name ? { name: g.name } : {}),
        granteePrincipal: g.granteePrincipal,
        ...(g.retiringPrincipal ? { retiringPrincipal: g.retiringPrincipal } : {}),
        issuingAccount: g.issuingAccount,
        operations: [...g.operations],
        ...(g.constraints ? { constraints: g.constraints } : {}),
        creationDate: g.creationDate,
      })),
    tags: key.tags.map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue })),
    aliases: core.store.aliasesOfKey(key.keyId, key.region).filter((a) => a.accountId === key.accountId).map((a) => a.aliasName).sort(),
    ...(multiRegion ? { multiRegionConfiguration: multiRegion } : {}),
  };
}

type PublicAccessBlock = { blockPublicAcls: boolean; ignorePublicAcls: boolean; blockPublicPolicy: boolean; restrictPublicBuckets: boolean };

export interface BucketAccessView {
  name: string;
  accountId: string;
  region: string;
  policy?: string;
  /** The bucket's own Block Public Access; absent: none configured (NoSuchPublicAccessBlockConfiguration). */
  publicAccessBlock?: PublicAccessBlock;
  /** The owning account's Block Public Access (S3 Control), which applies beside the bucket's. */
  accountPublicAccessBlock?: PublicAccessBlock;
  /** The ownership setting; absent: none configured (OwnershipControlsNotFoundError). */
  objectOwnership?: string;
  /** Whether the ownership setting honours ACLs (all but BucketOwnerEnforced). */
  aclsEnabled: boolean;
  /** The bucket ACL; with none stored, the owner's FULL_CONTROL alone (as GetBucketAcl answers). */
  acl: { grantee: string; granteeType: string; permission: string }[];
  cors?: unknown[];
  encryption: { algorithm: string; kmsMasterKeyId?: string; bucketKeyEnabled: boolean };
  tags: { key: string; value: string }[];
}

const pab = (p: PublicAccessBlock): PublicAccessBlock => ({
  blockPublicAcls: p.blockPublicAcls,
  ignorePublicAcls: p.ignorePublicAcls,
  blockPublicPolicy: p.blockPublicPolicy,
  restrictPublicBuckets: p.restrictPublicBuckets,
});

/** The canonical user id S3 gives an account, named back for people: "account 000000000000". */
function granteeName(grantee: { type: string; id?: string; uri?: string }, owners: Map<string, string>): string {
  if (grantee.uri) return grantee.uri.replace(/^http:\/\/acs\.amazonaws\.com\/groups\/(global|s3)\//, '');
  const account = grantee.id !== undefined ? owners.get(grantee.id) : undefined;
  return account ? `account ${account}` : `canonical user ${grantee.id ?? ''}`;
}

/** `accountIds`: the accounts whose canonical ids are named back (the configured ones). */
export function inspectBucketAccess(state: S3State, name: string, accountIds: readonly string[]): BucketAccessView | undefined {
  const b = state.meta.getBucket(name);
  if (!b) return undefined;
  const account = state.meta.getAccount(b.accountId).publicAccessBlock;
  const owners = new Map([b.accountId, ...accountIds].map((a) => [canonicalUserId(a), a]));
  const grants = b.acl ?? [{ grantee: { type: 'CanonicalUser' as const, id: canonicalUserId(b.accountId) }, permission: 'FULL_CONTROL' as const }];
  return {
    name: b.name,
    accountId: b.accountId,
    region: b.region,
    ...(b.policy !== undefined ? { policy: b.policy } : {}),
    ...(b.publicAccessBlock ? { publicAccessBlock: pab(b.publicAccessBlock) } : {}),
    ...(account ? { accountPublicAccessBlock: pab(account) } : {}),
    ...(b.objectOwnership ? { objectOwnership: b.objectOwnership } : {}),
    aclsEnabled: b.objectOwnership !== 'BucketOwnerEnforced',
    acl: grants.map((g) => ({ grantee: granteeName(g.grantee as { type: string; id?: string; uri?: string }, owners), granteeType: g.grantee.type, permission: g.permission })),
    ...(b.cors ? { cors: b.cors } : {}),
    encryption: b.encryption
      ? { algorithm: b.encryption.sseAlgorithm, ...(b.encryption.kmsMasterKeyId !== undefined ? { kmsMasterKeyId: b.encryption.kmsMasterKeyId } : {}), bucketKeyEnabled: b.encryption.bucketKeyEnabled }
      : { algorithm: 'AES256', bucketKeyEnabled: false },
    tags: (b.tags ?? []).map((t) => ({ key: t.key, value: t.value })),
  };
}

export interface IdentityView {
  kind: 'root' | 'user' | 'role';
  /** The principal's ARN: a user's, the root's, or for a role its role ARN. */
  arn: string;
  /** A role session's own ARN (arn:aws:sts::...:assumed-role/NAME/SESSION). */
  sessionArn?: string;
  /** The access key id (an identifier, as in every request's Credential; never the secret). */
  accessKeyId: string;
  /** Requests must carry a session token (its value is a secret and is not shown). */
  sessionToken: boolean;
  /** The identity policies attached, as written. */
  policies: string[];
}

export interface AccountView {
  accountId: string;
  identities: IdentityView[];
}

/** The configured accounts and their identities, from the credentials Sealbox verifies against. */
export function inspectIdentities(all: readonly Credentials[]): AccountView[] {
  const accounts = new Map<string, IdentityView[]>();
  for (const c of all) {
    // S3's own service credential exists only inside the process.
    if (c.service) continue;
    const role = c.roleArn ?? (/:assumed-role\//.test(c.principalArn) ? c.principalArn.replace(/^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.*$/, 'arn:$1:iam::$2:role/$3') : undefined);
    const kind: IdentityView['kind'] = role ? 'role' : /:root$/.test(c.principalArn) ? 'root' : 'user';
    const view: IdentityView = {
      kind,
      arn: role ?? c.principalArn,
      ...(role ? { sessionArn: c.principalArn } : {}),
      accessKeyId: c.accessKeyId,
      sessionToken: c.sessionToken !== undefined,
      policies: [...(c.policies ?? [])],
    };
    accounts.set(c.accountId, [...(accounts.get(c.accountId) ?? []), view]);
  }
  const order = { root: 0, user: 1, role: 2 };
  return [...accounts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([accountId, identities]) => ({ accountId, identities: identities.sort((a, b) => order[a.kind] - order[b.kind] || a.arn.localeCompare(b.arn)) }));
}
