import type { Clock } from '@sealbox/runtime';
import { KmsError } from './errors';
import { THROTTLING_MESSAGE } from './faults';
import type { KeyFamily } from './key-specs';

/**
 * KMS request quotas, modelled on AWS KMS's
 * (https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html):
 *
 * - The cryptographic operations share one quota per key type in each account and Region:
 *   symmetric keys (HMAC keys count here too: GenerateMac and VerifyMac are in its list), RSA,
 *   ECC (with SM2) and ML-DSA keys, each counted separately.
 * - Every other operation has its own quota; GenerateDataKeyPair(WithoutPlaintext) one per
 *   data key pair spec.
 * - The account throttled is the caller's, not the key owner's (cross-account requests), and the
 *   calls AWS services make on a caller's behalf (S3's GenerateDataKey and Decrypt) count.
 *
 * Each quota is a token bucket holding one second's worth of calls (at least one call, so a
 * quota of 0.25 is one call in each 4 seconds), refilled on the sandbox's virtual clock: time
 * advanced with POST /_sealbox/clock passes for the quotas as for everything else (a test
 * refills them without sleeping), and between advances the clock runs at wall-clock speed.
 * Over the quota, a call gets ThrottlingException (400) with KMS's message.
 */
export type CryptoQuota = 'symmetric' | 'rsa' | 'ecc' | 'ml-dsa';
export const CRYPTO_QUOTAS: readonly CryptoQuota[] = ['symmetric', 'rsa', 'ecc', 'ml-dsa'];

/** The operations that share the cryptographic quotas. */
const CRYPTO_OPERATIONS = new Set([
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'GenerateMac',
  'GenerateRandom',
  'ReEncrypt',
  'VerifyMac',
  'Sign',
  'Verify',
  'DeriveSharedSecret',
]);

/** Which shared quota a key of this family counts against (a request with no key: symmetric). */
function cryptoQuota(family: KeyFamily | undefined): CryptoQuota {
  switch (family) {
    case 'rsa':
      return 'rsa';
    case 'ec':
    case 'ed25519':
    case 'sm2':
      return 'ecc';
    case 'ml-dsa':
      return 'ml-dsa';
    default:
      return 'symmetric';
  }
}

/**
 * AWS's default quotas (requests per second), from the request quotas page. The symmetric
 * quota depends on the Region: 10,000 by default, 20,000 and 100,000 in the Regions listed below.
 */
const AWS_SYMMETRIC_BY_REGION: Record<string, number> = {
  'us-east-2': 20_000,
  'ap-southeast-1': 20_000,
  'ap-southeast-2': 20_000,
  'ap-northeast-1': 20_000,
  'eu-central-1': 20_000,
  'eu-west-2': 20_000,
  'us-east-1': 100_000,
  'us-west-2': 100_000,
  'eu-west-1': 100_000,
};
const AWS_SYMMETRIC_DEFAULT = 10_000;
export const AWS_QUOTAS: Readonly<Record<string, number>> = {
  rsa: 1000,
  ecc: 1000,
  'ml-dsa': 1000,
  CancelKeyDeletion: 5,
  ConnectCustomKeyStore: 5,
  CreateAlias: 5,
  CreateCustomKeyStore: 5,
  CreateGrant: 50,
  CreateKey: 5,
  DeleteAlias: 15,
  DeleteCustomKeyStore: 5,
  DeleteImportedKeyMaterial: 15,
  DescribeCustomKeyStores: 5,
  DescribeKey: 2000,
  DisableKey: 5,
  DisableKeyRotation: 5,
  DisconnectCustomKeyStore: 5,
  EnableKey: 5,
  EnableKeyRotation: 15,
  'GenerateDataKeyPair:ECC_NIST_P256': 25,
  'GenerateDataKeyPair:ECC_NIST_P384': 10,
  'GenerateDataKeyPair:ECC_NIST_P521': 5,
  'GenerateDataKeyPair:ECC_SECG_P256K1': 25,
  'GenerateDataKeyPair:RSA_2048': 1,
  'GenerateDataKeyPair:RSA_3072': 0.5,
  'GenerateDataKeyPair:RSA_4096': 0.1,
  GetKeyPolicy: 1000,
  GetKeyRotationStatus: 1000,
  GetParametersForImport: 0.25,
  GetPublicKey: 2000,
  ImportKeyMaterial: 5,
  ListAliases: 500,
  ListGrants: 100,
  ListKeyPolicies: 100,
  ListKeys: 500,
  ListResourceTags: 2000,
  ListRetirableGrants: 100,
  PutKeyPolicy: 15,
  ReplicateKey: 5,
  RetireGrant: 30,
  RevokeGrant: 30,
  ScheduleKeyDeletion: 15,
  TagResource: 10,
  UntagResource: 5,
  UpdateAlias: 5,
  UpdateCustomKeyStore: 5,
  UpdateKeyDescription: 5,
};

/** What the seed file and --kms-quotas give: AWS's defaults and/or explicit rates by quota name. */
export interface KmsQuotaConfig {
  /** Start from AWS's defaults (per Region for the symmetric quota). */
  aws?: boolean;
  /** Quota name (symmetric, rsa, ecc, ml-dsa, an operation, GenerateDataKeyPair:SPEC) -> calls per second. */
  rates?: Record<string, number>;
}

/** Checks a quota name and rate; the reason it is refused, or undefined. */
export function quotaProblem(name: string, rate: unknown, operations: readonly string[]): string | undefined {
  const pair = /^GenerateDataKeyPair:[A-Z0-9_]+$/.test(name);
  if (!CRYPTO_QUOTAS.includes(name as CryptoQuota) && !pair && !(operations.includes(name) && !CRYPTO_OPERATIONS.has(name))) {
    return `unknown KMS quota '${name}': the quotas are ${CRYPTO_QUOTAS.join(', ')} (shared by the cryptographic operations), GenerateDataKeyPair:<KeyPairSpec>, and any other operation's name`;
  }
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > 1e9) return `the quota ${name} must be a number of calls per second above 0, got ${JSON.stringify(rate)}`;
  return undefined;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class KmsQuotas {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly config: KmsQuotaConfig | undefined,
    private readonly clock: Clock,
  ) {}

  get enabled(): boolean {
    return this.config !== undefined && (this.config.aws === true || Object.keys(this.config.rates ?? {}).length > 0);
  }

  /** The rate of a quota in a Region, or undefined where none applies. */
  rate(name: string, region: string): number | undefined {
    const explicit = this.config?.rates?.[name];
    if (explicit !== undefined) return explicit;
    if (!this.config?.aws) return undefined;
    if (name === 'symmetric') return AWS_SYMMETRIC_BY_REGION[region] ?? AWS_SYMMETRIC_DEFAULT;
    return AWS_QUOTAS[name];
  }

  /** Counts one call; throws ThrottlingException when its quota has no call left this second. */
  take(accountId: string, region: string, operation: string, family: KeyFamily | undefined, input: Record<string, unknown>): void {
    let name: string;
    if (CRYPTO_OPERATIONS.has(operation)) name = cryptoQuota(family);
    else if (operation === 'GenerateDataKeyPair' || operation === 'GenerateDataKeyPairWithoutPlaintext') name = `GenerateDataKeyPair:${String(input.KeyPairSpec)}`;
    else name = operation;
    const rate = this.rate(name, region);
    if (rate === undefined) return;
    const now = this.clock.now().getTime();
    const id = `${accountId}/${region}/${name}`;
    const capacity = Math.max(rate, 1);
    let bucket = this.buckets.get(id);
    if (!bucket) {
      bucket = { tokens: capacity, at: now };
      this.buckets.set(id, bucket);
    } else {
      // The clock never goes back, except to a restored snapshot: the bucket then starts full.
      bucket.tokens = now < bucket.at ? capacity : Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * rate);
      bucket.at = now;
    }
    if (bucket.tokens < 1) throw new KmsError('ThrottlingException', THROTTLING_MESSAGE, 400);
    bucket.tokens -= 1;
  }
}
