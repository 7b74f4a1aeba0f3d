/** The identity behind an access key. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
  /** e.g. `arn:aws:iam::000000000000:root`, `arn:aws:iam::111122223333:user/alice`. */
  principalArn: string;
  /** Present for temporary credentials; a request must then carry the same token. */
  sessionToken?: string;
  /**
   * Set for the credential of an AWS service Sealbox runs (S3): requests signed with it may act
   * for a caller named in the `x-sealbox-on-behalf-of` header. Never given to users.
   */
  service?: string;
  /**
   * Identity-based policies (IAM policy JSON) attached to the principal: a user's policies, or
   * for a role session its role's. Roots have none: the root user may do anything its account may.
   */
  policies?: string[];
  /** For a role session: its role's ARN, path included (the session ARN has no path). */
  roleArn?: string;
}

export interface CredentialProvider {
  get(accessKeyId: string): Credentials | undefined;
  /** Whether an IAM user or role with this ARN is configured (key policies may only name those). */
  principalExists?(arn: string): boolean;
}

export const DEFAULT_ACCOUNT_ID = '000000000000';

export const DEFAULT_CREDENTIALS: Credentials = {
  accessKeyId: 'test',
  secretAccessKey: 'test',
  accountId: DEFAULT_ACCOUNT_ID,
  principalArn: `arn:aws:iam::${DEFAULT_ACCOUNT_ID}:root`,
};

/** A fixed set of credentials, looked up by access key id. */
export class StaticCredentialProvider implements CredentialProvider {
  private readonly byKey = new Map<string, Credentials>();

  constructor(credentials: Iterable<Credentials> = [DEFAULT_CREDENTIALS]) {
    for (const c of credentials) this.add(c);
  }

  add(credentials: Credentials): void {
    this.byKey.set(credentials.accessKeyId, credentials);
  }

  get(accessKeyId: string): Credentials | undefined {
    return this.byKey.get(accessKeyId);
  }

  list(): Credentials[] {
    return [...this.byKey.values()];
  }

  principalExists(arn: string): boolean {
    for (const c of this.byKey.values()) {
      if (c.principalArn === arn || sessionRoleArn(c) === arn) return true;
    }
    return false;
  }
}

/**
 * Parses `ACCESS_KEY:SECRET:ACCOUNT_ID` (the `--user` option): the root credentials of an account.
 * Secrets may contain ':' (AWS secrets are base64-like and may not, but ours are user-chosen), so
 * the account id is taken from the end.
 */
export function parseUserSpec(spec: string): Credentials {
  const first = spec.indexOf(':');
  const last = spec.lastIndexOf(':');
  if (first <= 0 || last === first) {
    throw new Error(`--user must be ACCESS_KEY:SECRET:ACCOUNT_ID, got '${spec}'`);
  }
  const accessKeyId = spec.slice(0, first);
  const secretAccessKey = spec.slice(first + 1, last);
  const accountId = spec.slice(last + 1);
  if (!/^[A-Za-z0-9_+=,.@-]{1,128}$/.test(accessKeyId)) throw new Error(`invalid access key id '${accessKeyId}'`);
  if (!secretAccessKey) throw new Error('the secret access key must not be empty');
  if (!/^\d{12}$/.test(accountId)) throw new Error(`account id must be 12 digits, got '${accountId}'`);
  return { accessKeyId, secretAccessKey, accountId, principalArn: `arn:aws:iam::${accountId}:root` };
}

/** The role of a role session: arn:aws:sts::111122223333:assumed-role/app/s1 → arn:aws:iam::111122223333:role/app. */
export function roleArnOf(principalArn: string): string | undefined {
  const m = /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(principalArn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : undefined;
}

/** The role behind a role session's credentials, path included when known. */
export function sessionRoleArn(credentials: Credentials): string | undefined {
  return credentials.roleArn ?? roleArnOf(credentials.principalArn);
}

/**
 * The credentials a principal is known by, for an IAM-policy-simulator style question (no request
 * is signed): an access key id, a user's or role session's ARN, a role's ARN (its first session),
 * or an account's root ARN (known or not: the root's rights come from its account, not a policy).
 */
export function credentialsFor(provider: CredentialProvider, principal: string): Credentials | undefined {
  const byKey = provider.get(principal);
  if (byKey && !byKey.service) return byKey;
  const all = (provider as { list?: () => Credentials[] }).list?.() ?? [];
  const found = all.find((c) => !c.service && c.principalArn === principal) ?? all.find((c) => !c.service && sessionRoleArn(c) === principal);
  if (found) return found;
  const root = /^arn:aws[\w-]*:iam::(\d{12}):root$/.exec(principal);
  return root ? { accessKeyId: '', secretAccessKey: '', accountId: root[1]!, principalArn: principal } : undefined;
}
