import type { OperationContext } from '../context';
import type { ValidatedInput } from '../model/validate';
import { createAlias, deleteAlias, listAliases, updateAlias } from './aliases';
import {
  connectCustomKeyStore,
  createCustomKeyStore,
  deleteCustomKeyStore,
  describeCustomKeyStores,
  disconnectCustomKeyStore,
  updateCustomKeyStore,
} from './custom-key-stores';
import { replicateKey, updatePrimaryRegion } from './multi-region';
import { createKey } from './create-key';
import { decrypt } from './decrypt';
import { deriveSharedSecret } from './derive-shared-secret';
import { deleteImportedKeyMaterial } from './delete-imported-key-material';
import { describeKey } from './describe-key';
import { encrypt } from './encrypt';
import { generateDataKey } from './generate-data-key';
import { generateDataKeyPair } from './generate-data-key-pair';
import { generateDataKeyPairWithoutPlaintext } from './generate-data-key-pair-without-plaintext';
import { generateDataKeyWithoutPlaintext } from './generate-data-key-without-plaintext';
import { generateMac } from './generate-mac';
import { generateRandom } from './generate-random';
import { getKeyLastUsage } from './get-key-last-usage';
import { getParametersForImport } from './get-parameters-for-import';
import { getPublicKey } from './get-public-key';
import { createGrant, listGrants, listRetirableGrants, retireGrant, revokeGrant } from './grants';
import { importKeyMaterial } from './import-key-material';
import { getKeyPolicy, listKeyPolicies, putKeyPolicy } from './key-policy';
import { cancelKeyDeletion, disableKey, enableKey, scheduleKeyDeletion, updateKeyDescription } from './key-state-changes';
import { listKeys } from './list-keys';
import { reEncrypt } from './re-encrypt';
import { disableKeyRotation, enableKeyRotation, getKeyRotationStatus, listKeyRotations, rotateKeyOnDemand } from './rotation';
import { sign } from './sign';
import { listResourceTags, tagResource, untagResource } from './tags';
import { verify } from './verify';
import { verifyMac } from './verify-mac';

export type Operation = (input: ValidatedInput, ctx: OperationContext) => unknown;

/** Every operation of the AWS KMS API (X-Amz-Target: TrentService.<name>). */
export const KMS_OPERATIONS = [
  'CancelKeyDeletion', 'ConnectCustomKeyStore', 'CreateAlias', 'CreateCustomKeyStore', 'CreateGrant', 'CreateKey',
  'Decrypt', 'DeleteAlias', 'DeleteCustomKeyStore', 'DeleteImportedKeyMaterial', 'DeriveSharedSecret',
  'DescribeCustomKeyStores', 'DescribeKey', 'DisableKey', 'DisableKeyRotation', 'DisconnectCustomKeyStore', 'EnableKey',
  'EnableKeyRotation', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext',
  'GenerateDataKeyWithoutPlaintext', 'GenerateMac', 'GenerateRandom', 'GetKeyLastUsage', 'GetKeyPolicy',
  'GetKeyRotationStatus', 'GetParametersForImport', 'GetPublicKey', 'ImportKeyMaterial', 'ListAliases', 'ListGrants',
  'ListKeyPolicies', 'ListKeyRotations', 'ListKeys', 'ListResourceTags', 'ListRetirableGrants', 'PutKeyPolicy',
  'ReEncrypt', 'ReplicateKey', 'RetireGrant', 'RevokeGrant', 'RotateKeyOnDemand', 'ScheduleKeyDeletion', 'Sign',
  'TagResource', 'UntagResource', 'UpdateAlias', 'UpdateCustomKeyStore', 'UpdateKeyDescription', 'UpdatePrimaryRegion',
  'Verify', 'VerifyMac',
] as const;

export type KmsOperationName = (typeof KMS_OPERATIONS)[number];

/** The operations built so far; the others answer UnsupportedOperationException. */
export const IMPLEMENTED: Partial<Record<KmsOperationName, Operation>> = {
  CancelKeyDeletion: cancelKeyDeletion,
  ConnectCustomKeyStore: connectCustomKeyStore,
  CreateAlias: createAlias,
  CreateCustomKeyStore: createCustomKeyStore,
  CreateGrant: createGrant,
  CreateKey: createKey,
  Decrypt: decrypt,
  DeleteAlias: deleteAlias,
  DeriveSharedSecret: deriveSharedSecret,
  DeleteImportedKeyMaterial: deleteImportedKeyMaterial,
  DeleteCustomKeyStore: deleteCustomKeyStore,
  DescribeCustomKeyStores: describeCustomKeyStores,
  DescribeKey: describeKey,
  DisableKey: disableKey,
  DisableKeyRotation: disableKeyRotation,
  DisconnectCustomKeyStore: disconnectCustomKeyStore,
  EnableKey: enableKey,
  EnableKeyRotation: enableKeyRotation,
  Encrypt: encrypt,
  GenerateDataKey: generateDataKey,
  GenerateDataKeyPair: generateDataKeyPair,
  GenerateDataKeyPairWithoutPlaintext: generateDataKeyPairWithoutPlaintext,
  GenerateDataKeyWithoutPlaintext: generateDataKeyWithoutPlaintext,
  GenerateMac: generateMac,
  GenerateRandom: generateRandom,
  GetKeyLastUsage: getKeyLastUsage,
  GetKeyPolicy: getKeyPolicy,
  GetKeyRotationStatus: getKeyRotationStatus,
  GetParametersForImport: getParametersForImport,
  GetPublicKey: getPublicKey,
  ImportKeyMaterial: importKeyMaterial,
  ListAliases: listAliases,
  ListGrants: listGrants,
  ListKeyPolicies: listKeyPolicies,
  ListKeyRotations: listKeyRotations,
  ListKeys: listKeys,
  ListResourceTags: listResourceTags,
  ListRetirableGrants: listRetirableGrants,
  PutKeyPolicy: putKeyPolicy,
  ReEncrypt: reEncrypt,
  ReplicateKey: replicateKey,
  RetireGrant: retireGrant,
  RevokeGrant: revokeGrant,
  RotateKeyOnDemand: rotateKeyOnDemand,
  ScheduleKeyDeletion: scheduleKeyDeletion,
  Sign: sign,
  TagResource: tagResource,
  UntagResource: untagResource,
  UpdateAlias: updateAlias,
  UpdateCustomKeyStore: updateCustomKeyStore,
  UpdateKeyDescription: updateKeyDescription,
  Verify: verify,
  VerifyMac: verifyMac,
  UpdatePrimaryRegion: updatePrimaryRegion,
};

/** Calls that only read (CloudTrail's readOnly). */
export const READ_ONLY = /^(Describe|Get|List|Encrypt|Decrypt|ReEncrypt|GenerateDataKey|GenerateRandom|GenerateMac|VerifyMac|Sign|Verify|DeriveSharedSecret)/;
