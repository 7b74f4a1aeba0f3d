import { execFileSync } from 'node:child_process';
import { constants, createECDH, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt } from 'node:crypto';
import { curveOf, ecdh, hmac, macEquals, oaepDecrypt, oaepEncrypt, oaepMaxPlaintext, parsePublicKey } from '../src/crypto/asymmetric';
import { generateMaterial } from '../src/crypto/key-material';

/**
 * The crypto under Encrypt/Decrypt (RSA-OAEP), GenerateMac and DeriveSharedSecret, checked
 * against independent implementations with the private key in hand (KMS never exports it):
 * Node's and Python `cryptography`'s OAEP, RFC 4231's HMAC vectors, Node's ECDH.
 */
describe('RSA-OAEP', () => {
  let material: Buffer;
  beforeAll(async () => {
    material = await generateMaterial('RSA_2048');
  });

  it('the plaintext limits are k - 2 hLen - 2', () => {
    expect([2048, 3072, 4096].map((bits) => [oaepMaxPlaintext(bits, 'RSAES_OAEP_SHA_1'), oaepMaxPlaintext(bits, 'RSAES_OAEP_SHA_256')])).toEqual([
      [214, 190],
      [342, 318],
      [470, 446],
    ]);
  });

  it.each([
    ['RSAES_OAEP_SHA_1', 'sha1', 'SHA1'],
    ['RSAES_OAEP_SHA_256', 'sha256', 'SHA256'],
  ] as const)('%s ciphertexts decrypt with Node and Python cryptography (MGF1 with the same hash), and theirs here', (algorithm, node, python) => {
    const plaintext = Buffer.from('sealbox made this');
    const ciphertext = oaepEncrypt(material, algorithm, plaintext);
    expect(ciphertext.length).toBe(256);
    const privateKey = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
    expect(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: node }, ciphertext)).toEqual(plaintext);
    const script = [
      'import base64, sys',
      'from cryptography.hazmat.primitives import hashes, serialization',
      'from cryptography.hazmat.primitives.asymmetric import padding',
      'key = serialization.load_der_private_key(base64.b64decode(sys.argv[1]), None)',
      `h = hashes.${python}()`,
      'print(key.decrypt(base64.b64decode(sys.argv[2]), padding.OAEP(mgf=padding.MGF1(algorithm=h), algorithm=h, label=None)).decode())',
    ].join('\n');
    expect(execFileSync('python3', ['-c', script, material.toString('base64'), ciphertext.toString('base64')]).toString().trim()).toBe('sealbox made this');

    const theirs = publicEncrypt({ key: createPublicKey(privateKey), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: node }, plaintext);
    expect(oaepDecrypt(material, algorithm, theirs)).toEqual(plaintext);
    const other = algorithm === 'RSAES_OAEP_SHA_1' ? 'RSAES_OAEP_SHA_256' : 'RSAES_OAEP_SHA_1';
    expect(oaepDecrypt(material, other, theirs)).toBeUndefined();
    expect(oaepDecrypt(material, algorithm, Buffer.alloc(256))).toBeUndefined();
  });
});

describe('HMAC', () => {
  // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
  it.each([
    ['sha224', 'a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44'],
    ['sha256', '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
    ['sha384', 'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649'],
    ['sha512', '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737'],
  ])('%s matches RFC 4231', (hash, expected) => {
    expect(hmac(hash, Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?')).toString('hex')).toBe(expected);
  });

  it('compares MACs in constant time, any other length never matching', () => {
    const mac = hmac('sha256', Buffer.from('k'), Buffer.from('m'));
    expect(macEquals(mac, Buffer.from(mac))).toBe(true);
    expect(macEquals(mac, mac.subarray(1))).toBe(false);
    expect(macEquals(mac, Buffer.alloc(32))).toBe(false);
  });
});

describe('ECDH', () => {
  it.each([
    ['ECC_NIST_P256', 'prime256v1', 32],
    ['ECC_NIST_P384', 'secp384r1', 48],
    ['ECC_NIST_P521', 'secp521r1', 66],
  ] as const)('%s: the raw x-coordinate, as Node ECDH computes it', async (spec, curve, length) => {
    const material = await generateMaterial(spec);
    const kmsPublic = createPublicKey(createPrivateKey({ key: material, format: 'der', type: 'pkcs8' }));
    const peer = createECDH(curve);
    peer.generateKeys();
    const peerSpki = createPublicKey({ key: { kty: 'EC', crv: { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[curve], ...xy(peer.getPublicKey(), length) }, format: 'jwk' });
    const secret = ecdh(material, parsePublicKey(peerSpki.export({ type: 'spki', format: 'der' }))!);
    const kmsPoint = kmsPublic.export({ format: 'jwk' });
    const uncompressed = Buffer.concat([Buffer.from([4]), Buffer.from(kmsPoint.x!, 'base64url'), Buffer.from(kmsPoint.y!, 'base64url')]);
    expect(secret).toEqual(peer.computeSecret(uncompressed));
    expect(secret.length).toBe(length);
  });

  it('reads only DER SubjectPublicKeyInfo, and names the curve', () => {
    expect(parsePublicKey(Buffer.from('nope'))).toBeUndefined();
    const p384 = createECDH('secp384r1');
    p384.generateKeys();
    const key = createPublicKey({ key: { kty: 'EC', crv: 'P-384', ...xy(p384.getPublicKey(), 48) }, format: 'jwk' });
    expect(curveOf(parsePublicKey(key.export({ type: 'spki', format: 'der' }))!)).toBe('secp384r1');
  });
});

/** A JWK's x and y from an uncompressed EC point. */
function xy(point: Buffer, length: number) {
  return { x: point.subarray(1, 1 + length).toString('base64url'), y: point.subarray(1 + length).toString('base64url') };
}
