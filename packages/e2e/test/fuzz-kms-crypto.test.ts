/**
 * Model-based fuzzing of KMS cryptography through the AWS SDK v3: real keys of every encryption,
 * MAC and signing key spec, real ciphertexts, MACs and signatures, each either left intact (must
 * decrypt / verify to exactly what was sent) or given one targeted mutation (a bit flip at any
 * position, a truncation, an extension, another encryption context, another key's ciphertext,
 * the other RSA algorithm, a disabled key), which must get AWS's exact error and never a 5xx.
 * Counters assert how many calls reached the cryptography (a ciphertext whose header names a live
 * key: decrypted, or refused by the authenticated decryption itself).
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html#API_Decrypt_Errors
 */
import {
  CreateKeyCommand,
  DecryptCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  type EncryptionAlgorithmSpec,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateMacCommand,
  type KMSClient,
  type KeySpec,
  type MacAlgorithmSpec,
  ReEncryptCommand,
  SignCommand,
  type SigningAlgorithmSpec,
  VerifyCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import type { Sealbox } from '@sealbox/cli';
import { Counters, type Rng, cases, forCasesAsync } from './fuzz-random';
import { kmsClient, startTestSealbox } from './helpers';

let sealbox: Sealbox;
let kms: KMSClient;
const counters = new Counters();

/** Byte offsets of the Sealbox ciphertext header (packages/kms/src/crypto/ciphertext.ts). */
const HANDLE_END = 5 + 32;

interface Key {
  id: string;
  arn: string;
  spec: KeySpec;
}

const symmetric: Key[] = [];
const rsa: Key[] = [];
const macKeys: Key[] = [];
const signKeys: Key[] = [];
let disabled: Key;

async function createKey(spec: KeySpec, usage?: 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC'): Promise<Key> {
  const meta = (await kms.send(new CreateKeyCommand({ KeySpec: spec, ...(usage ? { KeyUsage: usage } : {}) }))).KeyMetadata!;
  return { id: meta.KeyId!, arn: meta.Arn!, spec };
}

beforeAll(async () => {
  sealbox = await startTestSealbox({ only: 'kms' });
  kms = kmsClient(sealbox);
  for (let i = 0; i < 3; i++) symmetric.push(await createKey('SYMMETRIC_DEFAULT'));
  for (const spec of ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const) rsa.push(await createKey(spec, 'ENCRYPT_DECRYPT'));
  for (const spec of ['HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512'] as const) macKeys.push(await createKey(spec, 'GENERATE_VERIFY_MAC'));
  for (const spec of ['ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'RSA_2048'] as const) signKeys.push(await createKey(spec, 'SIGN_VERIFY'));
  disabled = await createKey('SYMMETRIC_DEFAULT');
}, 120_000);
afterAll(async () => {
  console.log(`KMS crypto fuzz: ${counters.toString()}`);
  await sealbox.stop();
});

/** The error name and status of a call that must fail; fails the test on success or a 5xx. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    if (status === undefined || status >= 500) throw new Error(`answered ${status}: ${e.name}: ${e.message}`);
    return e.name;
  }
  throw new Error('a mutated input was accepted');
}

function context(rng: Rng): Record<string, string> | undefined {
  if (rng.chance(0.3)) return undefined;
  const ec: Record<string, string> = {};
  for (let n = rng.int(1, 4); n > 0; n--) ec[rng.text('abcdefXYZ:_-/.', 1, 12)] = rng.text('abc 123 éß漢=', 0, 16);
  return ec;
}

function flip(rng: Rng, blob: Uint8Array, from = 0): { bytes: Buffer; at: number } {
  const bytes = Buffer.from(blob);
  const at = rng.int(from, bytes.length - 1);
  bytes[at] ^= 1 << rng.int(0, 7);
  return { bytes, at };
}

describe('symmetric ciphertexts', () => {
  it('decrypt to what was encrypted; each mutation gets AWS error, never a 5xx', async () => {
    const N = cases(160);
    await forCasesAsync('symmetric', N, async (rng) => {
      const key = rng.pick(symmetric);
      const ec = context(rng);
      const plaintext = rng.bytes(rng.int(1, rng.chance(0.1) ? 4096 : 200));
      const viaDataKey = rng.chance(0.25);
      let blob: Uint8Array;
      let expected: Uint8Array = plaintext;
      if (viaDataKey) {
        const out = await kms.send(new GenerateDataKeyCommand({ KeyId: rng.chance(0.5) ? key.arn : key.id, KeySpec: rng.pick(['AES_128', 'AES_256'] as const), EncryptionContext: ec }));
        blob = out.CiphertextBlob!;
        expected = out.Plaintext!;
      } else {
        blob = (await kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: plaintext, EncryptionContext: ec }))).CiphertextBlob!;
      }
      const mutation = rng.pick(['none', 'none', 'flip', 'flip-body', 'truncate', 'extend', 'context', 'wrong-key-id', 'other-key-blob', 'reencrypt', 'reencrypt-flip', 'random']);
      const decrypt = (ciphertext: Uint8Array, extra: { KeyId?: string; EncryptionContext?: Record<string, string> } = {}) =>
        kms.send(new DecryptCommand({ CiphertextBlob: ciphertext, EncryptionContext: ec, ...extra }));
      switch (mutation) {
        case 'none': {
          const out = await decrypt(blob, rng.chance(0.5) ? { KeyId: rng.pick([key.id, key.arn]) } : {});
          expect(Buffer.from(out.Plaintext!).equals(Buffer.from(expected))).toBe(true);
          expect(out.KeyId).toBe(key.arn);
          expect(out.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT');
          counters.hit('decrypted');
          break;
        }
        case 'flip':
        case 'flip-body': {
          const { bytes, at } = flip(rng, blob, mutation === 'flip-body' ? HANDLE_END : 0);
          expect(await refusal(decrypt(bytes))).toBe('InvalidCiphertextException');
          if (at >= HANDLE_END) counters.hit('tamper refused by the cryptography');
          break;
        }
        case 'truncate':
          expect(await refusal(decrypt(blob.subarray(0, rng.int(1, blob.length - 1))))).toBe('InvalidCiphertextException');
          break;
        case 'extend':
          expect(await refusal(decrypt(Buffer.concat([blob, rng.bytes(rng.int(1, 16))])))).toBe('InvalidCiphertextException');
          counters.hit('tamper refused by the cryptography');
          break;
        case 'context': {
          const other = { ...(ec ?? {}), [rng.pick(['extra', 'aws:s3:arn'])]: 'x' };
          expect(await refusal(decrypt(blob, { EncryptionContext: rng.chance(0.2) && ec ? {} : other }))).toBe('InvalidCiphertextException');
          counters.hit('tamper refused by the cryptography');
          break;
        }
        case 'wrong-key-id': {
          const other = rng.pick(symmetric.filter((k) => k !== key));
          expect(await refusal(decrypt(blob, { KeyId: rng.pick([other.id, other.arn]) }))).toBe('IncorrectKeyException');
          break;
        }
        case 'other-key-blob': {
          // A ciphertext of another key, decrypted under this key's context and key id.
          const other = rng.pick(symmetric.filter((k) => k !== key));
          const foreign = (await kms.send(new EncryptCommand({ KeyId: other.id, Plaintext: plaintext, EncryptionContext: ec }))).CiphertextBlob!;
          expect(await refusal(decrypt(foreign, { KeyId: key.id }))).toBe('IncorrectKeyException');
          break;
        }
        case 'reencrypt': {
          const target = rng.pick(symmetric);
          const ec2 = context(rng);
          const re = await kms.send(new ReEncryptCommand({ CiphertextBlob: blob, SourceEncryptionContext: ec, DestinationKeyId: target.id, DestinationEncryptionContext: ec2 }));
          expect(re.SourceKeyId).toBe(key.arn);
          expect(re.KeyId).toBe(target.arn);
          const out = await kms.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob!, EncryptionContext: ec2 }));
          expect(Buffer.from(out.Plaintext!).equals(Buffer.from(expected))).toBe(true);
          counters.hit('decrypted');
          break;
        }
        case 'reencrypt-flip': {
          const { bytes } = flip(rng, blob, HANDLE_END);
          expect(await refusal(kms.send(new ReEncryptCommand({ CiphertextBlob: bytes, SourceEncryptionContext: ec, DestinationKeyId: rng.pick(symmetric).id })))).toBe('InvalidCiphertextException');
          counters.hit('tamper refused by the cryptography');
          break;
        }
        default:
          expect(await refusal(decrypt(rng.bytes(rng.int(1, 300))))).toBe('InvalidCiphertextException');
      }
    });
    expect(counters.get('decrypted')).toBeGreaterThanOrEqual(N / 5);
    expect(counters.get('tamper refused by the cryptography')).toBeGreaterThanOrEqual(N / 5);
  });

  it('a ciphertext of a disabled key is DisabledException, and decrypts again once enabled', async () => {
    const blob = (await kms.send(new EncryptCommand({ KeyId: disabled.id, Plaintext: Buffer.from('x') }))).CiphertextBlob!;
    await kms.send(new DisableKeyCommand({ KeyId: disabled.id }));
    expect(await refusal(kms.send(new DecryptCommand({ CiphertextBlob: blob })))).toBe('DisabledException');
    await kms.send(new EnableKeyCommand({ KeyId: disabled.id }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('x');
  });
});

const RSA_MAX: Record<string, Record<string, number>> = {
  RSA_2048: { RSAES_OAEP_SHA_1: 214, RSAES_OAEP_SHA_256: 190 },
  RSA_3072: { RSAES_OAEP_SHA_1: 342, RSAES_OAEP_SHA_256: 318 },
  RSA_4096: { RSAES_OAEP_SHA_1: 470, RSAES_OAEP_SHA_256: 446 },
};

describe('RSA ciphertexts of every RSA key spec', () => {
  it('decrypt with the key and algorithm; the wrong key, algorithm or a flipped bit is refused', async () => {
    const N = cases(60);
    await forCasesAsync('rsa', N, async (rng) => {
      const key = rng.pick(rsa);
      const algorithm = rng.pick(['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] as EncryptionAlgorithmSpec[]);
      const max = RSA_MAX[key.spec]![algorithm]!;
      const plaintext = rng.bytes(rng.chance(0.2) ? max : rng.int(1, max));
      const blob = (await kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: plaintext, EncryptionAlgorithm: algorithm }))).CiphertextBlob!;
      const decrypt = (ciphertext: Uint8Array, keyId = key.arn, alg: EncryptionAlgorithmSpec = algorithm) => kms.send(new DecryptCommand({ CiphertextBlob: ciphertext, KeyId: keyId, EncryptionAlgorithm: alg }));
      const mutation = rng.pick(['none', 'none', 'flip', 'other-key', 'other-algorithm', 'no-algorithm', 'too-long']);
      switch (mutation) {
        case 'none': {
          const out = await decrypt(blob);
          expect(Buffer.from(out.Plaintext!).equals(plaintext)).toBe(true);
          expect(out.EncryptionAlgorithm).toBe(algorithm);
          counters.hit('rsa decrypted');
          break;
        }
        case 'flip':
          // Sealbox's choice for an RSA ciphertext that does not open (encryption.ts): IncorrectKeyException.
          expect(await refusal(decrypt(flip(rng, blob).bytes))).toBe('IncorrectKeyException');
          counters.hit('rsa refused by the cryptography');
          break;
        case 'other-key': {
          const other = rng.pick(rsa.filter((k) => k !== key && RSA_MAX[k.spec]![algorithm]! >= 0));
          expect(await refusal(decrypt(blob, other.id))).toBe('IncorrectKeyException');
          counters.hit('rsa refused by the cryptography');
          break;
        }
        case 'other-algorithm':
          expect(await refusal(decrypt(blob, key.id, algorithm === 'RSAES_OAEP_SHA_1' ? 'RSAES_OAEP_SHA_256' : 'RSAES_OAEP_SHA_1'))).toBe('IncorrectKeyException');
          counters.hit('rsa refused by the cryptography');
          break;
        case 'no-algorithm':
          // Without EncryptionAlgorithm the blob is read as a symmetric ciphertext.
          expect(await refusal(kms.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: key.id })))).toBe('InvalidCiphertextException');
          break;
        default: {
          const err = await refusal(kms.send(new EncryptCommand({ KeyId: key.id, Plaintext: rng.bytes(max + rng.int(1, 20)), EncryptionAlgorithm: algorithm })));
          expect(err).toBe('ValidationException');
        }
      }
    });
    expect(counters.get('rsa decrypted')).toBeGreaterThanOrEqual(N / 8);
    expect(counters.get('rsa refused by the cryptography')).toBeGreaterThanOrEqual(N / 8);
  });
});

describe('MACs of every HMAC key spec and signatures of several signing key specs', () => {
  it('verify when intact; a changed message, MAC or signature fails verification', async () => {
    const N = cases(80);
    await forCasesAsync('mac-sign', N, async (rng) => {
      const message = rng.bytes(rng.int(1, 1024));
      if (rng.chance(0.5)) {
        const key = rng.pick(macKeys);
        const algorithm = `HMAC_SHA_${key.spec.slice(5)}` as MacAlgorithmSpec;
        const mac = (await kms.send(new GenerateMacCommand({ KeyId: key.id, Message: message, MacAlgorithm: algorithm }))).Mac!;
        const mutation = rng.pick(['none', 'flip-mac', 'flip-message', 'truncate']);
        if (mutation === 'none') {
          const out = await kms.send(new VerifyMacCommand({ KeyId: key.arn, Message: message, MacAlgorithm: algorithm, Mac: mac }));
          expect(out.MacValid).toBe(true);
          counters.hit('mac verified');
          return;
        }
        const badMac = mutation === 'flip-mac' ? flip(rng, mac).bytes : mutation === 'truncate' ? mac.subarray(0, rng.int(1, mac.length - 1)) : mac;
        const badMessage = mutation === 'flip-message' ? flip(rng, message).bytes : message;
        expect(await refusal(kms.send(new VerifyMacCommand({ KeyId: key.id, Message: badMessage, MacAlgorithm: algorithm, Mac: badMac })))).toBe('KMSInvalidMacException');
        counters.hit('mac refused');
        return;
      }
      const key = rng.pick(signKeys);
      const algorithm = (
        key.spec === 'RSA_2048' ? rng.pick(['RSASSA_PSS_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PSS_SHA_512']) : { ECC_NIST_P256: 'ECDSA_SHA_256', ECC_NIST_P384: 'ECDSA_SHA_384', ECC_NIST_P521: 'ECDSA_SHA_512', ECC_SECG_P256K1: 'ECDSA_SHA_256' }[key.spec as string]!
      ) as SigningAlgorithmSpec;
      const signature = (await kms.send(new SignCommand({ KeyId: key.id, Message: message, SigningAlgorithm: algorithm, MessageType: 'RAW' }))).Signature!;
      const mutation = rng.pick(['none', 'flip-signature', 'flip-message']);
      if (mutation === 'none') {
        const out = await kms.send(new VerifyCommand({ KeyId: key.id, Message: message, SigningAlgorithm: algorithm, Signature: signature }));
        expect(out.SignatureValid).toBe(true);
        counters.hit('signature verified');
        return;
      }
      const badSignature = mutation === 'flip-signature' ? flip(rng, signature).bytes : signature;
      const badMessage = mutation === 'flip-message' ? flip(rng, message).bytes : message;
      expect(await refusal(kms.send(new VerifyCommand({ KeyId: key.id, Message: badMessage, SigningAlgorithm: algorithm, Signature: badSignature })))).toBe('KMSInvalidSignatureException');
      counters.hit('signature refused');
    });
    for (const name of ['mac verified', 'mac refused', 'signature verified', 'signature refused']) expect(counters.get(name)).toBeGreaterThanOrEqual(N / 16);
  });
});
