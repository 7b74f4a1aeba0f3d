import { constants, createHash, createPrivateKey, generateKeyPairSync, verify } from 'node:crypto';
import { ml_dsa44, ml_dsa87 } from '@noble/post-quantum/ml-dsa';
import { requestConditionKeys } from '../src/access/condition-keys';
import { generateMaterial, privateKeyOf, publicKeyDer } from '../src/crypto/key-material';
import { mlDsaPkcs8, mlDsaSign, mlDsaSpki, mlDsaVerify, parseMlDsaPkcs8 } from '../src/crypto/ml-dsa';
import { checkSigningRequest, signMessage, verifyMessage, type SigningRequest } from '../src/crypto/signing';

const hex = (s: string) => Buffer.from(s, 'hex');

describe('Ed25519ph', () => {
  // RFC 8032 section 7.3, the Ed25519ph test vector: KMS signs the caller's DIGEST as the message M.
  const seed = hex('833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42');
  const pub = hex('ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf');
  const expected = '98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406';
  const material = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: pub.toString('base64url') }, format: 'jwk' }).export({ type: 'pkcs8', format: 'der' });

  it('matches RFC 8032 and verifies', () => {
    const request: SigningRequest = { spec: 'ECC_NIST_EDWARDS25519', algorithm: 'ED25519_PH_SHA_512', messageType: 'DIGEST', message: Buffer.from('abc') };
    const signature = signMessage(material, request);
    expect(signature.toString('hex')).toBe(expected);
    expect(verifyMessage(material, request, signature)).toBe(true);
    expect(verifyMessage(material, { ...request, message: Buffer.from('abd') }, signature)).toBe(false);
    // Pure Ed25519 over the same bytes is another signature.
    expect(verifyMessage(material, { ...request, algorithm: 'ED25519_SHA_512', messageType: 'RAW' }, signature)).toBe(false);
  });
});

describe('ML-DSA material', () => {
  const seed = Buffer.alloc(32, 7);

  it('is seed-only PKCS #8 with the NIST OID; the SPKI carries the FIPS 204 public key', () => {
    const material = mlDsaPkcs8(44, seed);
    expect(material.toString('hex')).toBe(`3034020100300b060960864801650304031104228020${seed.toString('hex')}`);
    expect(parseMlDsaPkcs8(material)).toEqual({ level: 44, seed });
    expect(parseMlDsaPkcs8(mlDsaPkcs8(87, seed))).toEqual({ level: 87, seed });
    const spki = publicKeyDer(material);
    expect(spki.length).toBe(1334);
    expect(spki.subarray(22).equals(Buffer.from(ml_dsa44.keygen(seed).publicKey))).toBe(true);
    expect(spki.equals(mlDsaSpki(44, seed))).toBe(true);
    expect(() => privateKeyOf(material)).toThrow('ML-DSA');
  });

  it('other keys are not ML-DSA', async () => {
    expect(parseMlDsaPkcs8(await generateMaterial('ECC_NIST_P256'))).toBeUndefined();
    expect(parseMlDsaPkcs8(await generateMaterial('ECC_NIST_EDWARDS25519'))).toBeUndefined();
    expect(parseMlDsaPkcs8((await generateMaterial('ML_DSA_65')))?.level).toBe(65);
  });

  it('signs pure ML-DSA (empty context) over the message or over an external μ', () => {
    const message = Buffer.from('hello');
    const { publicKey } = ml_dsa87.keygen(seed);
    const tr = createHash('shake256', { outputLength: 64 }).update(publicKey).digest();
    const mu = createHash('shake256', { outputLength: 64 }).update(tr).update(Buffer.from([0, 0])).update(message).digest();
    for (const [input, externalMu] of [[message, false], [mu, true]] as const) {
      const signature = mlDsaSign(87, seed, input, externalMu);
      expect(signature.length).toBe(4627);
      expect(ml_dsa87.verify(publicKey, message, signature)).toBe(true);
      expect(mlDsaVerify(87, seed, message, signature, false)).toBe(true);
      expect(mlDsaVerify(87, seed, mu, signature, true)).toBe(true);
      expect(mlDsaVerify(87, seed, Buffer.from('other'), signature, false)).toBe(false);
    }
    expect(mlDsaVerify(87, seed, message, Buffer.alloc(10), false)).toBe(false);
  });
});

describe('RSASSA-PSS on a digest', () => {
  it('is salted with the hash length and verifies in OpenSSL', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const material = privateKey.export({ type: 'pkcs8', format: 'der' });
    const message = Buffer.from('message');
    for (const [algorithm, hash] of [['RSASSA_PSS_SHA_256', 'sha256'], ['RSASSA_PSS_SHA_384', 'sha384'], ['RSASSA_PSS_SHA_512', 'sha512']] as const) {
      const request: SigningRequest = { spec: 'RSA_2048', algorithm, messageType: 'DIGEST', message: createHash(hash).update(message).digest() };
      const signature = signMessage(material, request);
      expect(verify(hash, message, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature)).toBe(true);
      expect(verifyMessage(material, request, signature)).toBe(true);
      expect(verifyMessage(material, { ...request, messageType: 'RAW', message }, signature)).toBe(true);
      const tampered = Buffer.from(signature);
      tampered[0]! ^= 1;
      expect(verifyMessage(material, request, tampered)).toBe(false);
      expect(verifyMessage(material, request, signature.subarray(1))).toBe(false);
    }
  });
});

describe('request checks', () => {
  it('know each algorithm and message type', () => {
    const ok = (spec: SigningRequest['spec'], algorithm: string, messageType: SigningRequest['messageType'], length: number) =>
      checkSigningRequest({ spec, algorithm, messageType, message: Buffer.alloc(length) });
    expect(() => ok('ECC_NIST_P384', 'ECDSA_SHA_384', 'DIGEST', 48)).not.toThrow();
    expect(() => ok('ECC_NIST_P384', 'ECDSA_SHA_384', 'RAW', 4096)).not.toThrow();
    expect(() => ok('ML_DSA_87', 'ML_DSA_SHAKE_256', 'EXTERNAL_MU', 64)).not.toThrow();
    expect(() => ok('ECC_NIST_EDWARDS25519', 'ED25519_PH_SHA_512', 'DIGEST', 64)).not.toThrow();
    expect(() => ok('RSA_4096', 'RSASSA_PKCS1_V1_5_SHA_512', 'DIGEST', 48)).toThrow('Digest is invalid length for algorithm RSASSA_PKCS1_V1_5_SHA_512.');
    expect(() => ok('ECC_NIST_P384', 'SM2DSA', 'RAW', 1)).toThrow('Algorithm SM2DSA is incompatible with key spec ECC_NIST_P384.');
  });

  it('make kms:SigningAlgorithm and kms:MessageType condition keys (RAW when not given)', () => {
    expect(requestConditionKeys('Sign', { SigningAlgorithm: 'ECDSA_SHA_256' })).toMatchObject({ 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW' });
    expect(requestConditionKeys('Verify', { SigningAlgorithm: 'ML_DSA_SHAKE_256', MessageType: 'EXTERNAL_MU' })).toMatchObject({ 'kms:MessageType': 'EXTERNAL_MU' });
    expect(requestConditionKeys('Encrypt', {})).not.toHaveProperty('kms:MessageType');
  });
});
