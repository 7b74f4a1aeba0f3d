import type { LazyDecision } from '@sealbox/runtime';
import type { Credentials } from '@sealbox/sigv4';
import type { ConditionKeys } from './access/condition-keys';
import type { KmsCore } from './core';
import type { KeyRecord } from './model';

/** What the CloudTrail record of a call needs beyond the request itself; operations fill it in. */
export interface Audit {
  /** The keys the call concerned, in order. */
  keys: KeyRecord[];
  /** Replaces the default (the request's members, minus plaintext and ciphertext). */
  requestParameters?: Record<string, unknown>;
  responseElements?: Record<string, unknown>;
  additionalEventData?: Record<string, unknown>;
}

/** What an operation knows about its request: who called, where, when, and the KMS state. */
export interface OperationContext {
  core: KmsCore;
  credentials: Credentials;
  accountId: string;
  region: string;
  requestId: string;
  now: Date;
  sourceIp: string;
  userAgent: string;
  audit: Audit;
  /** The AWS service acting for the caller (`s3.amazonaws.com`), when one is. */
  invokedBy?: string;
  /** Whether key policies, IAM policies and grants are evaluated (`--no-enforce-kms-policies` turns it off). */
  enforcePolicies: boolean;
  /** The request's global and parameter condition keys; key-specific ones are added per key. */
  conditionKeys: ConditionKeys;
  /** Whether an IAM user or role ARN names a configured principal (key policy validation). */
  principalExists: (arn: string) => boolean;
  /** The request's authorization decisions, kept in the request log (set by the server). */
  decisions?: LazyDecision[];
}
