import { constants, createHash, createPublicKey, randomBytes, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetPublicKeyCommand,
  type KeySpec,
  type KMSClient,
  type MessageType,
  ScheduleKeyDeletionCommand,
  SignCommand,
  type SigningAlgorithmSpec,
  VerifyCommand,
} from '@aws-sdk/client-kms';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, runCommand, startTestSealbox } from './helpers';

/**
 * Sign and Verify for every key spec, algorithm and message type, each signature checked three
 * ways: by Sealbox's Verify, by Node's crypto (or @noble/post-quantum for ML-DSA, and an RFC 8032
 * reference verifier for Ed25519ph, which Node's OpenSSL 3.0 lacks) against the GetPublicKey key,
 * and for a subset by `openssl` and Python `cryptography` (OpenSSL 4.0 inside, which knows ML-DSA).
 */
let sealbox: Sealbox;
let kms: KMSClient;
let dir: string;

interface TestKey {
  arn: string;
  spki: Buffer;
  publicKey?: KeyObject;
}
const keys = new Map<KeySpec, TestKey>();
const SPECS: KeySpec[] = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1', 'ECC_NIST_EDWARDS25519', 'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87'];

beforeAll(async () => {
  sealbox = await startTestSealbox({ only: 'kms' });
  kms = kmsClient(sealbox);
  dir = mkdtempSync(join(tmpdir(), 'sealbox-sign-'));
  // Keys are made once, in parallel (RSA_4096 generation is the slow part), and shared by the tests.
  await Promise.all(
    SPECS.map(async (spec) => {
      const meta = (await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!;
      const spki = Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: meta.KeyId }))).PublicKey!);
      keys.set(spec, { arn: meta.Arn!, spki, publicKey: spec.startsWith('ML_DSA') ? undefined : createPublicKey({ key: spki, format: 'der', type: 'spki' }) });
    }),
  );
}, 120_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  return sealbox.stop();
});

const key = (spec: KeySpec) => keys.get(spec)!;
const HASH = { SHA_256: 'sha256', SHA_384: 'sha384', SHA_512: 'sha512' } as const;
const hashOf = (algorithm: string) => HASH[algorithm.slice(-7) as keyof typeof HASH];

const RSA = ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512', 'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512'] as const;
type Case = [KeySpec, SigningAlgorithmSpec, MessageType];
const CASES: Case[] = [
  ...(['RSA_2048', 'RSA_3072', 'RSA_4096'] as const).flatMap((spec) => RSA.flatMap((alg) => (['RAW', 'DIGEST'] as const).map((t): Case => [spec, alg, t]))),
  ...([['ECC_NIST_P256', 'ECDSA_SHA_256'], ['ECC_SECG_P256K1', 'ECDSA_SHA_256'], ['ECC_NIST_P384', 'ECDSA_SHA_384'], ['ECC_NIST_P521', 'ECDSA_SHA_512']] as const).flatMap(([spec, alg]) =>
    (['RAW', 'DIGEST'] as const).map((t): Case => [spec, alg, t]),
  ),
  ['ECC_NIST_EDWARDS25519', 'ED25519_SHA_512', 'RAW'],
  ['ECC_NIST_EDWARDS25519', 'ED25519_PH_SHA_512', 'DIGEST'],
  ...(['ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87'] as const).flatMap((spec) => (['RAW', 'EXTERNAL_MU'] as const).map((t): Case => [spec, 'ML_DSA_SHAKE_256', t])),
];

const ML_DSA = { ML_DSA_44: { scheme: ml_dsa44, arc: 0x11, pk: 1312, sig: 2420 }, ML_DSA_65: { scheme: ml_dsa65, arc: 0x12, pk: 1952, sig: 3309 }, ML_DSA_87: { scheme: ml_dsa87, arc: 0x13, pk: 2592, sig: 4627 } } as const;
type MlDsaSpec = keyof typeof ML_DSA;

/** The raw ML-DSA public key from an SPKI, checking the id-ml-dsa-NN OID (2.16.840.1.101.3.4.3.17/18/19) and the BIT STRING. */
function mlDsaPublicKey(spec: MlDsaSpec, spki: Buffer): Buffer {
  const { arc, pk } = ML_DSA[spec];
  const bitString = pk + 1;
  const header = Buffer.concat([
    Buffer.from([0x30, 0x82, (bitString + 17) >> 8, (bitString + 17) & 0xff]),
    Buffer.from([0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, arc]),
    Buffer.from([0x03, 0x82, bitString >> 8, bitString & 0xff, 0x00]),
  ]);
  expect(spki.subarray(0, header.length).toString('hex')).toBe(header.toString('hex'));
  expect(spki.length).toBe(header.length + pk);
  return spki.subarray(header.length);
}

/** μ = SHAKE256(SHAKE256(pk, 64) ‖ 0x00 ‖ 0x00 ‖ M, 64): pure ML-DSA's message representative with an empty context (FIPS 204). */
function mu(rawPublicKey: Buffer, message: Buffer): Buffer {
  const tr = createHash('shake256', { outputLength: 64 }).update(rawPublicKey).digest();
  return createHash('shake256', { outputLength: 64 }).update(tr).update(Buffer.from([0, 0])).update(message).digest();
}

/** What the caller sends for a message type: the message, its digest, or its ML-DSA μ. */
function messageFor(spec: KeySpec, algorithm: string, type: MessageType, message: Buffer): Buffer {
  if (type === 'DIGEST') return createHash(hashOf(algorithm)).update(message).digest();
  if (type === 'EXTERNAL_MU') return mu(mlDsaPublicKey(spec as MlDsaSpec, key(spec).spki), message);
  return message;
}

/**
 * Ed25519ph verification from RFC 8032's reference code (section 6), in Python's integers: a
 * verifier that shares nothing with Sealbox (Node's OpenSSL 3.0 has no Ed25519ph). It checks
 * itself against RFC 8032's Ed25519ph test vector (section 7.3) first.
 */
const ED25519PH_VERIFIER = `
import hashlib, sys
p = 2**255 - 19
q = 2**252 + 27742317777372353535851937790883648493
d = -121665 * pow(121666, p - 2, p) % p
I = pow(2, (p - 1) // 4, p)
def add(P, Q):
    A = (P[1] - P[0]) * (Q[1] - Q[0]) % p
    B = (P[1] + P[0]) * (Q[1] + Q[0]) % p
    C = 2 * P[3] * Q[3] * d % p
    D = 2 * P[2] * Q[2] % p
    E, F, G, H = B - A, D - C, D + C, B + A
    return (E * F, G * H, F * G, E * H)
def mul(s, P):
    Q = (0, 1, 1, 0)
    while s > 0:
        if s & 1: Q = add(Q, P)
        P = add(P, P)
        s >>= 1
    return Q
def equal(P, Q):
    return (P[0] * Q[2] - Q[0] * P[2]) % p == 0 and (P[1] * Q[2] - Q[1] * P[2]) % p == 0
def recover_x(y, sign):
    if y >= p: return None
    x2 = (y * y - 1) * pow(d * y * y + 1, p - 2, p)
    if x2 % p == 0: return None if sign else 0
    x = pow(x2, (p + 3) // 8, p)
    if (x * x - x2) % p != 0: x = x * I % p
    if (x * x - x2) % p != 0: return None
    if (x & 1) != sign: x = p - x
    return x
def decompress(s):
    y = int.from_bytes(s, 'little'); sign = y >> 255; y &= (1 << 255) - 1
    x = recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % p)
gy = 4 * pow(5, p - 2, p) % p
G = (recover_x(gy, 0), gy, 1, recover_x(gy, 0) * gy % p)
def verify_ph(pub, msg, sig):
    if len(pub) != 32 or len(sig) != 64: return False
    A = decompress(pub); R = decompress(sig[:32]); s = int.from_bytes(sig[32:], 'little')
    if A is None or R is None or s >= q: return False
    dom2 = b'SigEd25519 no Ed25519 collisions' + bytes([1, 0])
    h = int.from_bytes(hashlib.sha512(dom2 + sig[:32] + pub + hashlib.sha512(msg).digest()).digest(), 'little') % q
    return equal(mul(s, G), add(R, mul(h, A)))
assert verify_ph(bytes.fromhex('ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf'), b'abc', bytes.fromhex('98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406'))
print('valid' if verify_ph(bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])) else 'invalid')
`;

async function python(script: string, ...args: string[]): Promise<string> {
  const result = await runCommand('python3', ['-c', script, ...args], {});
  if (result.code !== 0) throw new Error(result.stderr);
  return result.stdout.trim();
}

/** Verifies outside Sealbox, against the original message, with the public key GetPublicKey gave. */
async function verifyIndependently(spec: KeySpec, algorithm: string, message: Buffer, signature: Buffer): Promise<boolean> {
  const { spki, publicKey } = key(spec);
  if (spec in ML_DSA) {
    const { scheme, sig } = ML_DSA[spec as MlDsaSpec];
    expect(signature.length).toBe(sig);
    return scheme.verify(mlDsaPublicKey(spec as MlDsaSpec, spki), message, signature);
  }
  if (algorithm === 'ED25519_SHA_512') return nodeVerify(null, message, publicKey!, signature);
  if (algorithm === 'ED25519_PH_SHA_512') {
    // The caller's DIGEST is the message Ed25519ph signs (KMS prehashes it again).
    const digest = createHash('sha512').update(message).digest();
    return (await python(ED25519PH_VERIFIER, spki.subarray(-32).toString('hex'), digest.toString('hex'), signature.toString('hex'))) === 'valid';
  }
  if (algorithm.startsWith('RSASSA_PSS')) {
    // KMS's PSS: MGF1 with the message hash, salt as long as the hash (RSA_PSS_SALTLEN_DIGEST).
    return nodeVerify(hashOf(algorithm), message, { key: publicKey!, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
  }
  if (algorithm.startsWith('RSASSA_PKCS1')) return nodeVerify(hashOf(algorithm), message, { key: publicKey!, padding: constants.RSA_PKCS1_PADDING }, signature);
  return nodeVerify(hashOf(algorithm), message, { key: publicKey!, dsaEncoding: 'der' }, signature);
}

async function signWith(spec: KeySpec, algorithm: SigningAlgorithmSpec, type: MessageType, message: Buffer) {
  return kms.send(new SignCommand({ KeyId: key(spec).arn, SigningAlgorithm: algorithm, MessageType: type, Message: messageFor(spec, algorithm, type, message) }));
}

async function expectError(promise: Promise<unknown>, name: string, message?: string) {
  const err = await failure(promise);
  expect({ name: err.name, status: err.$metadata?.httpStatusCode }).toEqual({ name, status: 400 });
  if (message !== undefined) expect(err.message).toBe(message);
  return err;
}

describe('Sign and Verify for every spec, algorithm and message type', () => {
  it.each(CASES)('%s %s %s: Sealbox verifies, and so does an independent verifier', async (spec, algorithm, type) => {
    const message = randomBytes(100);
    const sent = messageFor(spec, algorithm, type, message);
    const out = await signWith(spec, algorithm, type, message);
    expect(out).toEqual({ $metadata: expect.anything(), KeyId: key(spec).arn, Signature: expect.any(Uint8Array), SigningAlgorithm: algorithm });
    const signature = Buffer.from(out.Signature!);
    expect(await verifyIndependently(spec, algorithm, message, signature)).toBe(true);
    const verified = await kms.send(new VerifyCommand({ KeyId: key(spec).arn, SigningAlgorithm: algorithm, MessageType: type, Message: sent, Signature: signature }));
    expect(verified).toEqual({ $metadata: expect.anything(), KeyId: key(spec).arn, SignatureValid: true, SigningAlgorithm: algorithm });
    // A tampered signature or message does not verify, in Sealbox or outside it.
    const tampered = Buffer.from(signature);
    tampered[tampered.length >> 1]! ^= 0x01;
    expect(await verifyIndependently(spec, algorithm, message, tampered)).toBe(false);
    await expectError(kms.send(new VerifyCommand({ KeyId: key(spec).arn, SigningAlgorithm: algorithm, MessageType: type, Message: sent, Signature: tampered })), 'KMSInvalidSignatureException', 'UnknownError');
    const otherMessage = Buffer.from(message);
    otherMessage[0]! ^= 0x01;
    await expectError(
      kms.send(new VerifyCommand({ KeyId: key(spec).arn, SigningAlgorithm: algorithm, MessageType: type, Message: messageFor(spec, algorithm, type, otherMessage), Signature: signature })),
      'KMSInvalidSignatureException',
    );
  });

  it('RSA and ECDSA signatures are randomised, PKCS #1 v1.5 ones deterministic; ECDSA is DER', async () => {
    const message = Buffer.from('same message');
    for (const [spec, algorithm, same] of [['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_256', true], ['RSA_2048', 'RSASSA_PSS_SHA_256', false], ['ECC_NIST_P256', 'ECDSA_SHA_256', false], ['ML_DSA_44', 'ML_DSA_SHAKE_256', false]] as const) {
      const [a, b] = await Promise.all([signWith(spec, algorithm, 'RAW', message), signWith(spec, algorithm, 'RAW', message)]);
      expect(Buffer.from(a.Signature!).equals(Buffer.from(b.Signature!))).toBe(same);
    }
    const ecdsa = Buffer.from((await signWith('ECC_NIST_P521', 'ECDSA_SHA_512', 'RAW', message)).Signature!);
    expect(ecdsa[0]).toBe(0x30);
    expect(Buffer.from((await signWith('RSA_3072', 'RSASSA_PSS_SHA_384', 'RAW', message)).Signature!).length).toBe(384);
    expect(Buffer.from((await signWith('ECC_NIST_EDWARDS25519', 'ED25519_SHA_512', 'RAW', message)).Signature!).length).toBe(64);
  });

  it('a RAW message and its digest are the same message; a digest hashed twice is not', async () => {
    const message = randomBytes(300);
    for (const [spec, algorithm] of [['RSA_2048', 'RSASSA_PSS_SHA_512'], ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_384'], ['ECC_NIST_P384', 'ECDSA_SHA_384'], ['ECC_SECG_P256K1', 'ECDSA_SHA_256']] as const) {
      const digest = messageFor(spec, algorithm, 'DIGEST', message);
      const raw = Buffer.from((await signWith(spec, algorithm, 'RAW', message)).Signature!);
      const fromDigest = Buffer.from((await signWith(spec, algorithm, 'DIGEST', message)).Signature!);
      const base = { KeyId: key(spec).arn, SigningAlgorithm: algorithm };
      expect((await kms.send(new VerifyCommand({ ...base, MessageType: 'DIGEST', Message: digest, Signature: raw }))).SignatureValid).toBe(true);
      expect((await kms.send(new VerifyCommand({ ...base, Message: message, Signature: fromDigest }))).SignatureValid).toBe(true);
      // The digest sent as RAW is hashed again: another message.
      await expectError(kms.send(new VerifyCommand({ ...base, MessageType: 'RAW', Message: digest, Signature: fromDigest })), 'KMSInvalidSignatureException');
    }
    // ML-DSA: RAW and EXTERNAL_MU are interchangeable the same way.
    const raw = Buffer.from((await signWith('ML_DSA_65', 'ML_DSA_SHAKE_256', 'RAW', message)).Signature!);
    const fromMu = Buffer.from((await signWith('ML_DSA_65', 'ML_DSA_SHAKE_256', 'EXTERNAL_MU', message)).Signature!);
    const base = { KeyId: key('ML_DSA_65').arn, SigningAlgorithm: 'ML_DSA_SHAKE_256' } as const;
    expect((await kms.send(new VerifyCommand({ ...base, MessageType: 'EXTERNAL_MU', Message: messageFor('ML_DSA_65', 'ML_DSA_SHAKE_256', 'EXTERNAL_MU', message), Signature: raw }))).SignatureValid).toBe(true);
    expect((await kms.send(new VerifyCommand({ ...base, Message: message, Signature: fromMu }))).SignatureValid).toBe(true);
  });

  it('verifies with another algorithm, another key or a malformed signature are KMSInvalidSignatureException', async () => {
    const message = Buffer.from('hello');
    const pss = Buffer.from((await signWith('RSA_2048', 'RSASSA_PSS_SHA_256', 'RAW', message)).Signature!);
    await expectError(kms.send(new VerifyCommand({ KeyId: key('RSA_2048').arn, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256', Message: message, Signature: pss })), 'KMSInvalidSignatureException', 'UnknownError');
    await expectError(kms.send(new VerifyCommand({ KeyId: key('RSA_3072').arn, SigningAlgorithm: 'RSASSA_PSS_SHA_256', Message: message, Signature: pss })), 'KMSInvalidSignatureException');
    for (const [spec, algorithm] of [['ECC_NIST_P256', 'ECDSA_SHA_256'], ['ECC_NIST_EDWARDS25519', 'ED25519_SHA_512'], ['ML_DSA_44', 'ML_DSA_SHAKE_256'], ['RSA_2048', 'RSASSA_PSS_SHA_256']] as const) {
      await expectError(kms.send(new VerifyCommand({ KeyId: key(spec).arn, SigningAlgorithm: algorithm, Message: message, Signature: randomBytes(7) })), 'KMSInvalidSignatureException');
    }
  });
});

describe('outside verifiers: openssl 3.0 and Python cryptography (OpenSSL 4.0)', () => {
  const message = Buffer.from('Signed by Sealbox, checked by others.\n');
  const files = (name: string, spec: KeySpec, signature: Buffer) => {
    const pub = join(dir, `${name}.pub.der`);
    const sig = join(dir, `${name}.sig`);
    const msg = join(dir, `${name}.msg`);
    writeFileSync(pub, key(spec).spki);
    writeFileSync(sig, signature);
    writeFileSync(msg, message);
    return { pub, sig, msg };
  };

  it.each([
    ['RSA_2048', 'RSASSA_PSS_SHA_256', 'DIGEST', ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:-1']],
    ['RSA_4096', 'RSASSA_PKCS1_V1_5_SHA_512', 'RAW', ['-sha512']],
    ['ECC_NIST_P384', 'ECDSA_SHA_384', 'DIGEST', ['-sha384']],
    ['ECC_SECG_P256K1', 'ECDSA_SHA_256', 'RAW', ['-sha256']],
  ] as [KeySpec, SigningAlgorithmSpec, MessageType, string[]][])('openssl dgst -verify: %s %s %s', async (spec, algorithm, type, options) => {
    const signature = Buffer.from((await signWith(spec, algorithm, type, message)).Signature!);
    const f = files(`${spec}-${algorithm}`, spec, signature);
    const ok = await runCommand('openssl', ['dgst', ...options, '-keyform', 'DER', '-verify', f.pub, '-signature', f.sig, f.msg], {});
    expect(ok.stdout.trim()).toBe('Verified OK');
    writeFileSync(f.msg, 'another message');
    expect((await runCommand('openssl', ['dgst', ...options, '-keyform', 'DER', '-verify', f.pub, '-signature', f.sig, f.msg], {})).stdout.trim()).toBe('Verification failure');
  });

  it('openssl pkeyutl -verify: pure Ed25519', async () => {
    const signature = Buffer.from((await signWith('ECC_NIST_EDWARDS25519', 'ED25519_SHA_512', 'RAW', message)).Signature!);
    const f = files('ed25519', 'ECC_NIST_EDWARDS25519', signature);
    const result = await runCommand('openssl', ['pkeyutl', '-verify', '-pubin', '-keyform', 'DER', '-inkey', f.pub, '-rawin', '-in', f.msg, '-sigfile', f.sig], {});
    expect(result.stdout.trim()).toBe('Signature Verified Successfully');
  });

  /** Prints, for each message given, the key's class and whether the signature verifies. */
  const PY_VERIFY = `
import sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.serialization import load_der_public_key
spki, alg, sig = bytes.fromhex(sys.argv[1]), sys.argv[2], bytes.fromhex(sys.argv[3])
key = load_der_public_key(spki)
h = {'256': hashes.SHA256(), '384': hashes.SHA384(), '512': hashes.SHA512()}.get(alg[-3:])
for msg in map(bytes.fromhex, sys.argv[4:]):
    try:
        if alg.startswith('RSASSA_PSS'):
            key.verify(sig, msg, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
        elif alg.startswith('RSASSA_PKCS1'):
            key.verify(sig, msg, padding.PKCS1v15(), h)
        elif alg.startswith('ECDSA'):
            key.verify(sig, msg, ec.ECDSA(h))
        else:
            key.verify(sig, msg)
        print(type(key).__name__, 'valid')
    except Exception as e:
        print(type(key).__name__, 'invalid', type(e).__name__)
`;

  it.each([
    ['RSA_3072', 'RSASSA_PSS_SHA_384', 'RAW', 'RSAPublicKey'],
    ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_256', 'DIGEST', 'RSAPublicKey'],
    ['ECC_NIST_P521', 'ECDSA_SHA_512', 'DIGEST', 'ECPublicKey'],
    ['ECC_NIST_P256', 'ECDSA_SHA_256', 'RAW', 'ECPublicKey'],
    ['ML_DSA_44', 'ML_DSA_SHAKE_256', 'RAW', 'MLDSA44PublicKey'],
    ['ML_DSA_65', 'ML_DSA_SHAKE_256', 'EXTERNAL_MU', 'MLDSA65PublicKey'],
    ['ML_DSA_87', 'ML_DSA_SHAKE_256', 'RAW', 'MLDSA87PublicKey'],
  ] as [KeySpec, SigningAlgorithmSpec, MessageType, string][])('python cryptography: %s %s %s', async (spec, algorithm, type, keyClass) => {
    const signature = Buffer.from((await signWith(spec, algorithm, type, message)).Signature!);
    const out = await python(PY_VERIFY, key(spec).spki.toString('hex'), algorithm, signature.toString('hex'), message.toString('hex'), Buffer.from('another message').toString('hex'));
    expect(out.split('\n')).toEqual([`${keyClass} valid`, `${keyClass} invalid InvalidSignature`]);
  });
});

describe('ML-DSA keys', () => {
  it.each(Object.keys(ML_DSA) as MlDsaSpec[])('%s: DescribeKey and GetPublicKey (DER SPKI with the NIST OID)', async (spec) => {
    const meta = (await kms.send(new DescribeKeyCommand({ KeyId: key(spec).arn }))).KeyMetadata!;
    expect(meta).toMatchObject({ KeySpec: spec, CustomerMasterKeySpec: spec, KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ML_DSA_SHAKE_256'] });
    const out = await kms.send(new GetPublicKeyCommand({ KeyId: key(spec).arn }));
    expect(out).toMatchObject({ KeyId: key(spec).arn, KeySpec: spec, KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ML_DSA_SHAKE_256'] });
    const spki = Buffer.from(out.PublicKey!);
    expect(spki.length).toBe(ML_DSA[spec].pk + 22); // ML_DSA_44: 1334 bytes, as KMS returns
    mlDsaPublicKey(spec, spki);
    // OpenSSL 4.0 (in Python cryptography) reads it as an ML-DSA key of that parameter set.
    expect(await python('import sys\nfrom cryptography.hazmat.primitives.serialization import load_der_public_key\nprint(type(load_der_public_key(bytes.fromhex(sys.argv[1]))).__name__)', spki.toString('hex'))).toBe(
      `MLDSA${spec.slice(-2)}PublicKey`,
    );
  });
});

describe("Sign and Verify errors, with AWS's words", () => {
  const message = Buffer.from('message');
  const sign = (spec: KeySpec, algorithm: SigningAlgorithmSpec, type: MessageType | undefined, msg: Buffer = message) =>
    kms.send(new SignCommand({ KeyId: key(spec).arn, SigningAlgorithm: algorithm, MessageType: type, Message: msg }));
  const verify = (spec: KeySpec, algorithm: SigningAlgorithmSpec, type: MessageType | undefined, msg: Buffer = message) =>
    kms.send(new VerifyCommand({ KeyId: key(spec).arn, SigningAlgorithm: algorithm, MessageType: type, Message: msg, Signature: Buffer.alloc(64, 1) }));

  it('an algorithm the key spec does not offer is InvalidKeyUsageException', async () => {
    for (const [spec, algorithm] of [
      ['ECC_NIST_P521', 'ECDSA_SHA_256'],
      ['ECC_NIST_P256', 'ECDSA_SHA_384'],
      ['ECC_NIST_P256', 'RSASSA_PSS_SHA_256'],
      ['RSA_2048', 'ECDSA_SHA_256'],
      ['RSA_2048', 'ML_DSA_SHAKE_256'],
      ['ECC_NIST_EDWARDS25519', 'ECDSA_SHA_512'],
      ['ECC_NIST_P256', 'ED25519_SHA_512'],
      ['ML_DSA_44', 'ECDSA_SHA_256'],
      ['ECC_SECG_P256K1', 'SM2DSA'],
    ] as [KeySpec, SigningAlgorithmSpec][]) {
      const text = `Algorithm ${algorithm} is incompatible with key spec ${spec}.`;
      await expectError(sign(spec, algorithm, 'RAW'), 'InvalidKeyUsageException', text);
      await expectError(verify(spec, algorithm, 'RAW'), 'InvalidKeyUsageException', text);
    }
  });

  it('a digest of the wrong length is ValidationException', async () => {
    for (const [spec, algorithm, type, length] of [
      ['ECC_NIST_P256', 'ECDSA_SHA_256', 'DIGEST', 31],
      ['ECC_NIST_P521', 'ECDSA_SHA_512', 'DIGEST', 32],
      ['RSA_2048', 'RSASSA_PSS_SHA_384', 'DIGEST', 32],
      ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_256', 'DIGEST', 48],
      ['ECC_NIST_EDWARDS25519', 'ED25519_PH_SHA_512', 'DIGEST', 32],
      ['ML_DSA_44', 'ML_DSA_SHAKE_256', 'EXTERNAL_MU', 32],
    ] as [KeySpec, SigningAlgorithmSpec, MessageType, number][]) {
      const text = `Digest is invalid length for algorithm ${algorithm}.`;
      await expectError(sign(spec, algorithm, type, randomBytes(length)), 'ValidationException', text);
      await expectError(verify(spec, algorithm, type, randomBytes(length)), 'ValidationException', text);
    }
  });

  it('each algorithm takes only its message types', async () => {
    for (const [spec, algorithm, type, text] of [
      ['ECC_NIST_EDWARDS25519', 'ED25519_SHA_512', 'DIGEST', 'Message type DIGEST is incompatible with algorithm ED25519_SHA_512.'],
      ['ECC_NIST_EDWARDS25519', 'ED25519_PH_SHA_512', 'RAW', 'Message type RAW is incompatible with algorithm ED25519_PH_SHA_512.'],
      ['ECC_NIST_EDWARDS25519', 'ED25519_PH_SHA_512', undefined, 'Message type RAW is incompatible with algorithm ED25519_PH_SHA_512.'],
      ['ECC_NIST_EDWARDS25519', 'ED25519_SHA_512', 'EXTERNAL_MU', 'Message type EXTERNAL_MU is incompatible with algorithm ED25519_SHA_512.'],
      ['ML_DSA_44', 'ML_DSA_SHAKE_256', 'DIGEST', 'Message type DIGEST is incompatible with key spec ML_DSA_44.'],
      ['ECC_NIST_P256', 'ECDSA_SHA_256', 'EXTERNAL_MU', 'Message type EXTERNAL_MU is incompatible with key spec ECC_NIST_P256.'],
      ['RSA_2048', 'RSASSA_PSS_SHA_512', 'EXTERNAL_MU', 'Message type EXTERNAL_MU is incompatible with key spec RSA_2048.'],
    ] as [KeySpec, SigningAlgorithmSpec, MessageType | undefined, string][]) {
      await expectError(sign(spec, algorithm, type, randomBytes(64)), 'ValidationException', text);
      await expectError(verify(spec, algorithm, type, randomBytes(64)), 'ValidationException', text);
    }
  });

  it('a message takes 1 to 4096 bytes (the model constraint, without echoing the value)', async () => {
    const big = randomBytes(4096);
    const signature = (await sign('ECC_NIST_P256', 'ECDSA_SHA_256', 'RAW', big)).Signature!;
    expect(await verifyIndependently('ECC_NIST_P256', 'ECDSA_SHA_256', big, Buffer.from(signature))).toBe(true);
    const text = "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096";
    await expectError(sign('ECC_NIST_P256', 'ECDSA_SHA_256', 'RAW', randomBytes(4097)), 'ValidationException', text);
    await expectError(sign('ML_DSA_44', 'ML_DSA_SHAKE_256', undefined, randomBytes(5000)), 'ValidationException', text);
    await expectError(verify('ECC_NIST_P256', 'ECDSA_SHA_256', 'RAW', randomBytes(4097)), 'ValidationException', text);
  });

  it('only SIGN_VERIFY keys sign and verify', async () => {
    for (const [spec, usage] of [['SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT'], ['RSA_2048', 'ENCRYPT_DECRYPT'], ['HMAC_256', 'GENERATE_VERIFY_MAC'], ['ECC_NIST_P256', 'KEY_AGREEMENT']] as const) {
      const meta = (await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: usage }))).KeyMetadata!;
      await expectError(kms.send(new SignCommand({ KeyId: meta.KeyId, SigningAlgorithm: 'RSASSA_PSS_SHA_256', Message: message })), 'InvalidKeyUsageException', `${meta.Arn} key usage is ${usage} which is not valid for Sign.`);
      await expectError(
        kms.send(new VerifyCommand({ KeyId: meta.KeyId, SigningAlgorithm: 'RSASSA_PSS_SHA_256', Message: message, Signature: randomBytes(256) })),
        'InvalidKeyUsageException',
        `${meta.Arn} key usage is ${usage} which is not valid for Verify.`,
      );
    }
  });

  it('disabled keys and keys pending deletion refuse both; DryRun answers DryRunOperationException', async () => {
    const meta = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!;
    const signature = (await kms.send(new SignCommand({ KeyId: meta.KeyId, SigningAlgorithm: 'ECDSA_SHA_256', Message: message }))).Signature!;
    const signCall = (extra = {}) => kms.send(new SignCommand({ KeyId: meta.KeyId, SigningAlgorithm: 'ECDSA_SHA_256', Message: message, ...extra }));
    const verifyCall = (extra = {}) => kms.send(new VerifyCommand({ KeyId: meta.KeyId, SigningAlgorithm: 'ECDSA_SHA_256', Message: message, Signature: signature, ...extra }));
    const dryRun = 'The request would have succeeded, but the DryRun option is set.';
    await expectError(signCall({ DryRun: true }), 'DryRunOperationException', dryRun);
    await expectError(verifyCall({ DryRun: true }), 'DryRunOperationException', dryRun);
    await kms.send(new DisableKeyCommand({ KeyId: meta.KeyId }));
    await expectError(signCall(), 'DisabledException', `${meta.Arn} is disabled.`);
    await expectError(verifyCall(), 'DisabledException', `${meta.Arn} is disabled.`);
    await kms.send(new EnableKeyCommand({ KeyId: meta.KeyId }));
    expect((await verifyCall()).SignatureValid).toBe(true);
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: meta.KeyId, PendingWindowInDays: 7 }));
    await expectError(signCall(), 'KMSInvalidStateException', `${meta.Arn} is pending deletion.`);
    await expectError(verifyCall(), 'KMSInvalidStateException', `${meta.Arn} is pending deletion.`);
  });

  it('takes aliases and grant tokens; answers with the key ARN', async () => {
    const spec = 'ECC_NIST_P384';
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/signer', TargetKeyId: key(spec).arn }));
    const { GrantToken } = await kms.send(new CreateGrantCommand({ KeyId: key(spec).arn, GranteePrincipal: 'arn:aws:iam::000000000000:root', Operations: ['Sign', 'Verify'] }));
    const out = await kms.send(new SignCommand({ KeyId: 'alias/signer', SigningAlgorithm: 'ECDSA_SHA_384', Message: message, GrantTokens: [GrantToken!] }));
    expect(out.KeyId).toBe(key(spec).arn);
    const verified = await kms.send(
      new VerifyCommand({ KeyId: 'arn:aws:kms:us-east-1:000000000000:alias/signer', SigningAlgorithm: 'ECDSA_SHA_384', Message: message, Signature: out.Signature!, GrantTokens: [GrantToken!] }),
    );
    expect(verified).toMatchObject({ KeyId: key(spec).arn, SignatureValid: true });
    // A signing key's grants allow signing operations, not encryption ones.
    await expectError(
      kms.send(new CreateGrantCommand({ KeyId: key(spec).arn, GranteePrincipal: 'arn:aws:iam::000000000000:root', Operations: ['Sign', 'Encrypt', 'Decrypt'] })),
      'ValidationException',
      `Grant operations Encrypt, Decrypt are not supported for the KeyUsage SIGN_VERIFY of ${key(spec).arn}`,
    );
  });
});

describe('access control', () => {
  it('key policies see kms:SigningAlgorithm and kms:MessageType', async () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'kms:*', Resource: '*' },
        { Effect: 'Deny', Principal: '*', Action: 'kms:Sign', Resource: '*', Condition: { StringEquals: { 'kms:SigningAlgorithm': 'RSASSA_PKCS1_V1_5_SHA_256' } } },
        { Effect: 'Deny', Principal: '*', Action: ['kms:Sign', 'kms:Verify'], Resource: '*', Condition: { StringEquals: { 'kms:MessageType': 'DIGEST' } } },
      ],
    };
    const meta = (await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY', Policy: JSON.stringify(policy) }))).KeyMetadata!;
    const message = Buffer.from('policy');
    const out = await kms.send(new SignCommand({ KeyId: meta.KeyId, SigningAlgorithm: 'RSASSA_PSS_SHA_256', Message: message }));
    expect((await kms.send(new VerifyCommand({ KeyId: meta.KeyId, SigningAlgorithm: 'RSASSA_PSS_SHA_256', Message: message, Signature: out.Signature! }))).SignatureValid).toBe(true);
    const denied = (action: string) =>
      `User: arn:aws:iam::000000000000:root is not authorized to perform: kms:${action} on resource: ${meta.Arn} with an explicit deny in a resource-based policy`;
    await expectError(kms.send(new SignCommand({ KeyId: meta.KeyId, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256', Message: message })), 'AccessDeniedException', denied('Sign'));
    const digest = createHash('sha256').update(message).digest();
    await expectError(kms.send(new SignCommand({ KeyId: meta.KeyId, SigningAlgorithm: 'RSASSA_PSS_SHA_256', MessageType: 'DIGEST', Message: digest })), 'AccessDeniedException', denied('Sign'));
    await expectError(
      kms.send(new VerifyCommand({ KeyId: meta.KeyId, SigningAlgorithm: 'RSASSA_PSS_SHA_256', MessageType: 'DIGEST', Message: digest, Signature: out.Signature! })),
      'AccessDeniedException',
      denied('Verify'),
    );
  });
});

describe('SM2 keys', () => {
  it('are refused outside the China Regions as KMS refuses them, and by Sealbox inside them', async () => {
    await expectError(kms.send(new CreateKeyCommand({ KeySpec: 'SM2', KeyUsage: 'SIGN_VERIFY' })), 'UnsupportedOperationException', 'KeySpec SM2 is not supported in this Region');
    const china = kmsClient(sealbox, { region: 'cn-north-1' });
    await expectError(
      china.send(new CreateKeyCommand({ KeySpec: 'SM2', KeyUsage: 'SIGN_VERIFY' })),
      'UnsupportedOperationException',
      'KeySpec SM2 is not supported by Sealbox: Node.js cannot make SM2DSA signatures with the distinguishing ID KMS uses.',
    );
  });
});

describe('persistence', () => {
  it('signing keys keep their material across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-sign-data-'));
    const message = Buffer.from('kept');
    const signed: { spec: KeySpec; algorithm: SigningAlgorithmSpec; keyId: string; spki: Buffer; signature: Buffer }[] = [];
    try {
      const first = await startTestSealbox({ only: 'kms', dataDir });
      try {
        const client = kmsClient(first);
        for (const [spec, algorithm] of [['ML_DSA_44', 'ML_DSA_SHAKE_256'], ['ECC_NIST_EDWARDS25519', 'ED25519_SHA_512'], ['ECC_SECG_P256K1', 'ECDSA_SHA_256']] as const) {
          const keyId = (await client.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
          const spki = Buffer.from((await client.send(new GetPublicKeyCommand({ KeyId: keyId }))).PublicKey!);
          const signature = Buffer.from((await client.send(new SignCommand({ KeyId: keyId, SigningAlgorithm: algorithm, Message: message }))).Signature!);
          signed.push({ spec, algorithm, keyId, spki, signature });
        }
        client.destroy();
      } finally {
        await first.stop();
      }
      const second = await startTestSealbox({ only: 'kms', dataDir });
      try {
        const client = kmsClient(second);
        for (const { algorithm, keyId, spki, signature } of signed) {
          expect(Buffer.from((await client.send(new GetPublicKeyCommand({ KeyId: keyId }))).PublicKey!).equals(spki)).toBe(true);
          expect((await client.send(new VerifyCommand({ KeyId: keyId, SigningAlgorithm: algorithm, Message: message, Signature: signature }))).SignatureValid).toBe(true);
          const again = (await client.send(new SignCommand({ KeyId: keyId, SigningAlgorithm: algorithm, Message: message }))).Signature!;
          expect((await client.send(new VerifyCommand({ KeyId: keyId, SigningAlgorithm: algorithm, Message: message, Signature: again }))).SignatureValid).toBe(true);
        }
        client.destroy();
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the event log', () => {
  it('records Sign and Verify without the message or the signature', async () => {
    const spec = 'ECC_NIST_P256';
    const out = await kms.send(new SignCommand({ KeyId: key(spec).arn, SigningAlgorithm: 'ECDSA_SHA_256', MessageType: 'RAW', Message: Buffer.from('secret message') }));
    await kms.send(new VerifyCommand({ KeyId: key(spec).arn, SigningAlgorithm: 'ECDSA_SHA_256', Message: Buffer.from('secret message'), Signature: out.Signature! }));
    const core = sealbox.kms as unknown as { core: { trail: { flush(): void }; store: { lookupEvents(q: object): { event: { record: string } }[] } } };
    core.core.trail.flush();
    const records = core.core.store.lookupEvents({ accountId: '000000000000', region: 'us-east-1', limit: 10_000 }).map((e) => JSON.parse(e.event.record));
    const sign = records.find((r) => r.eventName === 'Sign' && r.requestParameters?.messageType === 'RAW' && r.requestParameters?.keyId === key(spec).arn);
    expect(sign).toMatchObject({ readOnly: true, responseElements: null, requestParameters: { keyId: key(spec).arn, messageType: 'RAW', signingAlgorithm: 'ECDSA_SHA_256' } });
    expect(Object.keys(sign.requestParameters).sort()).toEqual(['keyId', 'messageType', 'signingAlgorithm']);
    const verify = records.find((r) => r.eventName === 'Verify' && r.requestParameters?.keyId === key(spec).arn && !r.errorCode);
    expect(Object.keys(verify.requestParameters).sort()).toEqual(['keyId', 'signingAlgorithm']);
    expect(JSON.stringify(records)).not.toContain(Buffer.from('secret message').toString('base64'));
  });
});
