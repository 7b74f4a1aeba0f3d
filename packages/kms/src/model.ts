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
  /** EXTERNAL keys, once material was imported: whether it expires (DescribeKey's ExpirationModel). */
  expirationModel?: ExpirationModel;
  /** EXTERNAL keys: the earliest expiry of imported material permanently associated with the key (DescribeKey's ValidTo). */
  validTo?: number;
  /** EXTERNAL keys: the earliest expiry of any imported material, pending rotation included (when the clock must act). */
  materialExpiry?: number;
  /**
   * A multi-Region key: the Region of its primary key. Every Region's key of the set has the same
   * id; the replicas are the other rows with that id.
   */
  primaryRegion?: string;
  /** A key in a custom key store (Origin AWS_CLOUDHSM or EXTERNAL_KEY_STORE). */
  customKeyStoreId?: string;
  /** EXTERNAL_KEY_STORE keys: the external key's id in the external key manager. */
  xksKeyId?: string;
  /**
   * While its custom key store is disconnected a key is Unavailable; this is the state it returns
   * to when the store connects again (EnableKey and DisableKey change it meanwhile).
   */
  availableState?: 'Enabled' | 'Disabled';
}

export type ExpirationModel = 'KEY_MATERIAL_EXPIRES' | 'KEY_MATERIAL_DOES_NOT_EXPIRE';

/** What an EXTERNAL key knows about one version of imported material. */
export interface ImportedMaterialInfo {
  /** PENDING_IMPORT once deleted or expired: the record stays (ciphertexts name it), the material is gone until re-imported. */
  state: 'IMPORTED' | 'PENDING_IMPORT';
  expirationModel?: ExpirationModel;
  validTo?: number;
  description?: string;
  /** Imported as NEW_KEY_MATERIAL and waiting for RotateKeyOnDemand (KeyMaterialState PENDING_ROTATION). */
  pendingRotation?: boolean;
}

/** A custom key store (AWS CloudHSM key store or external key store). */
export interface CustomKeyStoreRecord {
  id: string;
  accountId: string;
  region: string;
  name: string;
  type: 'AWS_CLOUDHSM' | 'EXTERNAL_KEY_STORE';
  creationDate: number;
  connectionState: 'CONNECTED' | 'CONNECTING' | 'FAILED' | 'DISCONNECTED' | 'DISCONNECTING';
  connectionErrorCode?: string;
  /** CONNECTING becomes CONNECTED once the clock passes this moment (or at the next call after it). */
  connectedAt?: number;
  cloudHsmClusterId?: string;
  trustAnchorCertificate?: string;
  /** Never returned by any operation; kept only as the kmsuser password would be. */
  keyStorePasswordSet?: boolean;
  xks?: {
    uriEndpoint: string;
    uriPath: string;
    connectivity: 'PUBLIC_ENDPOINT' | 'VPC_ENDPOINT_SERVICE';
    accessKeyId: string;
    vpcEndpointServiceName?: string;
    vpcEndpointServiceOwner?: string;
  };
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
  /** Imported material only. `wrapped` is empty while the material is deleted or expired. */
  imported?: ImportedMaterialInfo;
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
  /** The Region of the key (a multi-Region key has the same id in several Regions). */
  region?: string;
}
