import { constants, createCipheriv, createPrivateKey, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { VirtualClock } from '@sealbox/runtime';
import { requestConditionKeys } from '../src/access/condition-keys';
import { KmsCore } from '../src/core';
import { importedMaterialId, unwrapKeyMaterial } from '../src/crypto/import-wrapping';
import { checkImportedMaterial } from '../src/crypto/key-material';
import { SqliteKmsStore } from '../src/store/sqlite-store';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KWP_IV = Buffer.from('a65959a6', 'hex');

function wrap(algorithm: 'RSAES_OAEP_SHA_1' | 'RSAES_OAEP_SHA_256' | 'RSA_AES_KEY_WRAP_SHA_1' | 'RSA_AES_KEY_WRAP_SHA_256', material: Buffer): Buffer {
  const oaep = (data: Buffer) => publicEncrypt({ key: rsa.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256' }, data);
  if (algorithm.startsWith('RSAES')) return oaep(material);
  const aes = randomBytes(32);
  const kwp = createCipheriv('id-aes256-wrap-pad', aes, KWP_IV);
  return Buffer.concat([oaep(aes), kwp.update(material), kwp.final()]);
}

describe('unwrapping imported key material', () => {
  it.each(['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'] as const)('%s opens what was wrapped for it, and nothing else', (algorithm) => {
    const material = randomBytes(algorithm.startsWith('RSAES') ? 32 : 300);
    const wrapped = wrap(algorithm, material);
    expect(unwrapKeyMaterial(algorithm, rsa.privateKey, wrapped)).toEqual(material);
    const other = algorithm.endsWith('SHA_1') ? algorithm.replace('SHA_1', 'SHA_256') : algorithm.replace('SHA_256', 'SHA_1');
    expect(unwrapKeyMaterial(other as typeof algorithm, rsa.privateKey, wrapped)).toBeUndefined();
    const tampered = Buffer.from(wrapped);
    tampered[tampered.length - 1]! ^= 1;
    expect(unwrapKeyMaterial(algorithm, rsa.privateKey, tampered)).toBeUndefined();
    expect(unwrapKeyMaterial(algorithm, rsa.privateKey, wrapped.subarray(0, 100))).toBeUndefined();
  });

  it('derives KeyMaterialId from the key and the material', () => {
    const material = randomBytes(32);
    expect(importedMaterialId('k1', material)).toMatch(/^[0-9a-f]{64}$/);
    expect(importedMaterialId('k1', material)).toBe(importedMaterialId('k1', Buffer.from(material)));
    expect(importedMaterialId('k2', material)).not.toBe(importedMaterialId('k1', material));
  });
});

describe('checking imported material against the key spec', () => {
  it('symmetric keys take exactly 32 bytes; HMAC keys a range', () => {
    expect(checkImportedMaterial('SYMMETRIC_DEFAULT', randomBytes(32))).toHaveProperty('material');
    expect(checkImportedMaterial('SYMMETRIC_DEFAULT', randomBytes(16))).toHaveProperty('problem');
    for (const [spec, min, max] of [['HMAC_224', 28, 64], ['HMAC_256', 32, 64], ['HMAC_384', 48, 128], ['HMAC_512', 64, 128]] as const) {
      expect(checkImportedMaterial(spec, randomBytes(min))).toHaveProperty('material');
      expect(checkImportedMaterial(spec, randomBytes(max))).toHaveProperty('material');
      expect(checkImportedMaterial(spec, randomBytes(min - 1))).toHaveProperty('problem');
      expect(checkImportedMaterial(spec, randomBytes(max + 1))).toHaveProperty('problem');
    }
  });

  it('asymmetric keys take a PKCS #8 private key of the spec', () => {
    const pkcs8 = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) => key.export({ type: 'pkcs8', format: 'der' });
    const ed = pkcs8(generateKeyPairSync('ed25519').privateKey);
    const k1 = pkcs8(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey);
    expect(checkImportedMaterial('ECC_NIST_EDWARDS25519', ed)).toHaveProperty('material');
    expect(checkImportedMaterial('ECC_SECG_P256K1', k1)).toHaveProperty('material');
    expect(checkImportedMaterial('ECC_NIST_P256', k1)).toHaveProperty('problem');
    expect(checkImportedMaterial('RSA_3072', pkcs8(rsa.privateKey))).toHaveProperty('problem');
    const ok = checkImportedMaterial('RSA_2048', pkcs8(rsa.privateKey));
    expect('material' in ok && createPrivateKey({ key: ok.material, format: 'der', type: 'pkcs8' }).asymmetricKeyType).toBe('rsa');
    // A private key in another encoding (SEC1, PKCS #1) is not PKCS #8.
    expect(checkImportedMaterial('RSA_2048', rsa.privateKey.export({ type: 'pkcs1', format: 'der' }))).toHaveProperty('problem');
    expect(checkImportedMaterial('ECC_SECG_P256K1', randomBytes(32))).toHaveProperty('problem');
  });
});

describe('imported material in the store', () => {
  it('adds the import column to a data directory written before imported material existed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-migrate-'));
    try {
      const path = join(dir, 'kms.db');
      const old = new Database(path);
      old.exec(
        'CREATE TABLE materials (handle BLOB PRIMARY KEY, key_id TEXT NOT NULL, material_id TEXT NOT NULL, wrapped BLOB NOT NULL, created_at INTEGER NOT NULL, rotation_type TEXT, seq INTEGER NOT NULL)',
      );
      old.prepare('INSERT INTO materials VALUES (?, ?, ?, ?, ?, ?, ?)').run(Buffer.alloc(32, 1), 'k', 'm'.repeat(64), Buffer.alloc(60), 1, null, 0);
      old.close();
      const store = new SqliteKmsStore(path);
      expect(store.listMaterials('k')).toEqual([expect.objectContaining({ materialId: 'm'.repeat(64), seq: 0 })]);
      expect(store.listMaterials('k')[0]).not.toHaveProperty('imported');
      store.addMaterial({ handle: Buffer.alloc(32, 2), keyId: 'k', materialId: 'n'.repeat(64), wrapped: Buffer.alloc(60), createdAt: 2, seq: 1, imported: { state: 'IMPORTED', expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' } });
      expect(store.listMaterials('k')[1]!.imported).toEqual({ state: 'IMPORTED', expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
      store.close();
      new SqliteKmsStore(path).close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an import token opens only where it was sealed, unaltered', () => {
    const clock = new VirtualClock();
    const a = new KmsCore({ clock });
    const b = new KmsCore({ clock });
    try {
      const token = a.sealImportToken(Buffer.from('payload'));
      expect(a.openImportToken(token)).toEqual(Buffer.from('payload'));
      expect(b.openImportToken(token)).toBeUndefined();
      const altered = Buffer.from(token);
      altered[20]! ^= 1;
      expect(a.openImportToken(altered)).toBeUndefined();
      expect(a.openImportToken(Buffer.alloc(10))).toBeUndefined();
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('condition keys of the import operations', () => {
  it('kms:WrappingAlgorithm and kms:WrappingKeySpec; kms:ExpirationModel (default KEY_MATERIAL_EXPIRES) and kms:ValidTo in epoch seconds', () => {
    expect(requestConditionKeys('GetParametersForImport', { KeyId: 'k', WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_4096' })).toMatchObject({
      'kms:WrappingAlgorithm': 'RSAES_OAEP_SHA_256',
      'kms:WrappingKeySpec': 'RSA_4096',
    });
    expect(requestConditionKeys('ImportKeyMaterial', { KeyId: 'k', ValidTo: 1800000000.5 })).toMatchObject({ 'kms:ExpirationModel': 'KEY_MATERIAL_EXPIRES', 'kms:ValidTo': '1800000000' });
    const never = requestConditionKeys('ImportKeyMaterial', { KeyId: 'k', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
    expect(never['kms:ExpirationModel']).toBe('KEY_MATERIAL_DOES_NOT_EXPIRE');
    expect(never).not.toHaveProperty('kms:ValidTo');
  });
});
