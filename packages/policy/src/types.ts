/**
 * The IAM policy language as a data model. `parsePolicy` returns documents in this normalized
 * shape: every element that AWS lets you write as a single value or an array is an array here,
 * condition values are strings (JSON numbers and booleans become their text), and a
 * `Principal: "*"` stays the string `'*'`.
 */

/** A whole policy document (key policy, bucket policy or identity policy). */
export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: Statement[];
}

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: PrincipalBlock;
  NotPrincipal?: PrincipalBlock;
  Action?: string[];
  NotAction?: string[];
  Resource?: string[];
  NotResource?: string[];
  /** operator (e.g. `StringEquals`, `ForAnyValue:StringLike`) → condition key → values. */
  Condition?: Record<string, Record<string, string[]>>;
}

/** `'*'`, or principal type (`AWS`, `Service`, `Federated`, `CanonicalUser`) → values. */
export type PrincipalBlock = '*' | Record<string, string[]>;

/** Who is asking. `'anonymous'` is an unsigned request (S3 public access). */
export type RequestPrincipal =
  | {
      /** IAM ARN of the caller: `arn:aws:iam::111122223333:root`, `...:user/x`, `...:role/x`,
       * or a role session `arn:aws:sts::111122223333:assumed-role/role-name/session`. */
      arn: string;
      accountId: string;
      /** Set when the caller is an AWS service principal, e.g. `s3.amazonaws.com`. */
      service?: string;
      /** S3 canonical user id, matched by `{"CanonicalUser": ...}`. */
      canonicalUserId?: string;
      /** Identity provider of a federated session, matched by `{"Federated": ...}`. */
      federated?: string;
    }
  | 'anonymous';

/** The request being authorized. */
export interface RequestContext {
  principal: RequestPrincipal;
  /** e.g. `kms:Decrypt`, `s3:PutObject` (matched case-insensitively). */
  action: string;
  /** ARN of the resource (matched case-sensitively). */
  resource: string;
  /**
   * Condition keys by name, in any case: `aws:SourceIp`, `s3:x-amz-server-side-encryption`,
   * `kms:EncryptionContext:aws:s3:arn`, `kms:EncryptionContextKeys` (multi-valued: an array).
   * `undefined` means the key is absent from the request context. An empty array is an empty
   * set: present for nothing, treated as absent by every operator.
   */
  keys: Record<string, string | string[] | undefined>;
}

/** `NotApplicable` = no statement matched (an implicit deny). */
export type Decision = 'Allow' | 'Deny' | 'NotApplicable';

/** A statement that matched a request, as reported by `evaluatePolicyDetailed`. */
export interface MatchedStatement {
  /** Position in `PolicyDocument.Statement`. */
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
}

export interface DetailedDecision {
  decision: Decision;
  /** Every statement that matched, in document order (both effects). */
  matched: MatchedStatement[];
}
