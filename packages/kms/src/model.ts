import type { KeySpec, KeyUsage } from './key-specs';

/** The states of a KMS key this version models. */
export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport' | 'PendingReplicaDeletion' | 'Unavailable' | 'Creating' | 'Updating';

export interface Tag {
  TagKey: string;
  TagValue: string;
}

/** A KMS key as stored: everything DescribeKey and the key-state machine need. */
export interface KeyRecord {
  keyId: string;
  accountId: string;
  region: string;
  arn: string;
  /** Milliseconds since the epoch. */
  creationDate: number;
  description: string;
  keyUsage: KeyUsage;
  keySpec: KeySpec;
  origin: 'AWS_KMS' | 'EXTERNAL' | 'AWS_CLOUDHSM' | 'EXTERNAL_KEY_STORE';
  keyManager: 'CUSTOMER' | 'AWS';
  state: KeyState;
  /** When PendingDeletion: the moment the key is deleted. */
  deletionDate?: number;
  pendingWindowDays?: number;
  rotationEnabled: boolean;
  rotationPeriodDays?: number;
  nextRotationDate?: number;
  onDemandRotationStartDate?: number;
  onDemandRotations: number;
  policy: string;
  tags: Tag[];
  currentMaterialId: string;
  multiRegion: boolean;
}

/** One version of a key's material. `handle` is the opaque reference a ciphertext carries. */
export interface MaterialRecord {
  handle: Buffer;
  keyId: string;
  materialId: string;
  /** The material, wrapped under the data directory's root key. */
  wrapped: Buffer;
  createdAt: number;
  rotationType?: 'AUTOMATIC' | 'ON_DEMAND';
  seq: number;
}

export interface AliasRecord {
  accountId: string;
  region: string;
  aliasName: string;
  targetKeyId: string;
  creationDate: number;
  lastUpdatedDate: number;
}

export interface GrantConstraints {
  EncryptionContextEquals?: Record<string, string>;
  EncryptionContextSubset?: Record<string, string>;
}

/** A grant on a key: what ListGrants shows, plus the token that names it. */
export interface GrantRecord {
  grantId: string;
  keyId: string;
  /** The account in which the grant was created (the caller's). */
  issuingAccount: string;
  name: string;
  granteePrincipal: string;
  retiringPrincipal?: string;
  operations: string[];
  constraints?: GrantConstraints;
  creationDate: number;
}
