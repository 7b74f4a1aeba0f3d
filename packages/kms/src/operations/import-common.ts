import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { OperationContext } from '../context';
import { WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS, type WrappingAlgorithm, type WrappingKeySpec } from '../crypto/import-wrapping';
import { ExpiredImportTokenException, InvalidImportTokenException, UnsupportedOperationException } from '../errors';
import type { KeyRecord } from '../model';

/**
 * Import operations need a key made for imported material. AWS words the refusal as in its key
 * state table: "UnsupportedOperationException: <arn> origin is AWS_KMS which is not valid for this
 * operation."
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
 */
export function requireExternal(key: KeyRecord): void {
  if (key.origin !== 'EXTERNAL') throw new UnsupportedOperationException(`${key.arn} origin is ${key.origin} which is not valid for this operation.`);
}

/** What an import token carries: the key it is for, how material is wrapped, until when, and the wrapping private key. */
export interface ImportToken {
  keyId: string;
  algorithm: WrappingAlgorithm;
  spec: WrappingKeySpec;
  validTo: number;
  privateKey: Buffer;
}

const TOKEN_VERSION = 1;

/**
 * Import tokens are self-contained: sealed under the data directory's root key (AES-256-GCM), so
 * they survive restarts, cannot be forged or altered, and need no table. AWS's token format is
 * not published; like AWS's, these are opaque.
 */
export function sealImportToken(ctx: OperationContext, token: ImportToken): Buffer {
  const keyId = Buffer.from(token.keyId, 'utf8');
  const header = Buffer.alloc(4 + keyId.length + 8);
  header.writeUInt8(TOKEN_VERSION, 0);
  header.writeUInt8(keyId.length, 1);
  header.writeUInt8(WRAPPING_ALGORITHMS.indexOf(token.algorithm), 2);
  header.writeUInt8(WRAPPING_KEY_SPECS.indexOf(token.spec), 3);
  keyId.copy(header, 4);
  header.writeDoubleBE(token.validTo, 4 + keyId.length);
  return ctx.core.sealImportToken(Buffer.concat([header, token.privateKey]));
}

/**
 * The token ImportKeyMaterial was given, checked against the key: one not issued here, or issued
 * for another key, is InvalidImportTokenException; one past its ParametersValidTo is
 * ExpiredImportTokenException. AWS's messages for these are not documented; these say what happened.
 */
export function openImportToken(ctx: OperationContext, key: KeyRecord, sealed: Buffer): { token: ImportToken; privateKey: KeyObject } {
  const payload = ctx.core.openImportToken(sealed);
  const invalid = () => new InvalidImportTokenException('Import token is invalid or is associated with a different KMS key.');
  if (!payload || payload.length < 4 || payload.readUInt8(0) !== TOKEN_VERSION) throw invalid();
  const idLength = payload.readUInt8(1);
  const algorithm = WRAPPING_ALGORITHMS[payload.readUInt8(2)];
  const spec = WRAPPING_KEY_SPECS[payload.readUInt8(3)];
  if (!algorithm || !spec || payload.length < 4 + idLength + 8) throw invalid();
  const keyId = payload.subarray(4, 4 + idLength).toString('utf8');
  if (keyId !== key.keyId) throw invalid();
  const validTo = payload.readDoubleBE(4 + idLength);
  if (ctx.now.getTime() >= validTo) throw new ExpiredImportTokenException('Import token has expired. Call GetParametersForImport to get a new import token and public key.');
  const privateKeyDer = payload.subarray(4 + idLength + 8);
  const token = { keyId, algorithm, spec, validTo, privateKey: privateKeyDer };
  return { token, privateKey: createPrivateKey({ key: privateKeyDer, format: 'der', type: 'pkcs8' }) };
}
