import { randomBytesFast } from '@sealbox/runtime';
import type { OperationContext } from '../context';
import { blobHandle, decryptBlob, encryptBlob } from '../crypto/ciphertext';
import {
  AccessDeniedException,
  DryRunOperationException,
  IncorrectKeyException,
  InvalidCiphertextException,
  InvalidMarkerException,
  TagException,
  UnsupportedOperationException,
  ValidationException,
} from '../errors';
import { authorize } from '../access/authorize';
import type { ConditionKeys } from '../access/condition-keys';
import { requireEnabled, requireSymmetric, resolveKey } from '../keys';
import type { KeyRecord, Tag } from '../model';
import type { ValidatedInput } from '../model/validate';

export type EncryptionContext = Record<string, string> | undefined;

export const str = (input: ValidatedInput, member: string) => input[member] as string | undefined;
export const num = (input: ValidatedInput, member: string) => input[member] as number | undefined;
export const bool = (input: ValidatedInput, member: string) => input[member] as boolean | undefined;
export const blob = (input: ValidatedInput, member: string) => input[member] as Buffer | undefined;
export const context = (input: ValidatedInput, member: string) => input[member] as EncryptionContext;

export function checkDryRun(input: ValidatedInput): void {
  if (input.DryRun === true) throw new DryRunOperationException('The request would have succeeded, but the DryRun option is set.');
}

/**
 * Recipient asks KMS to encrypt the answer to a Nitro Enclave's attested public key
 * (CiphertextForRecipient). Sealbox has no enclaves to attest, so it refuses the parameter
 * rather than answer in plaintext what AWS would only answer encrypted.
 * https://docs.aws.amazon.com/kms/latest/developerguide/services-nitro-enclaves.html
 */
export function refuseRecipient(input: ValidatedInput): void {
  if (input.Recipient !== undefined) {
    throw new UnsupportedOperationException('Recipient (Nitro Enclaves attestation) is not supported by Sealbox.');
  }
}

/** Encrypts under a key's current material; returns the blob and the material id used. */
export function encryptWith(ctx: OperationContext, key: KeyRecord, plaintext: Buffer, ec: EncryptionContext) {
  const material = ctx.core.currentMaterial(key);
  return { blob: encryptBlob(material.handle, material.material, plaintext, ec), materialId: material.materialId };
}

/**
 * Opens a ciphertext blob: finds its key from the (opaque) header, checks a named KeyId, the
 * caller's permission (`Decrypt`, or `ReEncryptFrom`), the key's state and the encryption context.
 * The key may belong to another account; its key policy decides. Tampering or a wrong context is
 * InvalidCiphertextException with no message, as AWS answers.
 */
export function decryptWith(
  ctx: OperationContext,
  ciphertext: Buffer,
  ec: EncryptionContext,
  keyIdParam: string | undefined,
  action = 'Decrypt',
  keys?: ConditionKeys,
) {
  const handle = blobHandle(ciphertext);
  const material = handle && ctx.core.materialByHandle(handle);
  // The material names a key id; the key is the one in the caller's Region. A multi-Region key's
  // material is shared, so a ciphertext from any Region of the set opens in every other.
  const key = material ? ctx.core.store.getKey(material.keyId, ctx.region) : undefined;
  if (!material || !key) {
    if (keyIdParam !== undefined) resolveKey(ctx, keyIdParam, { aliases: true, crossAccount: true });
    throw new InvalidCiphertextException();
  }
  if (keyIdParam !== undefined) {
    const named = resolveKey(ctx, keyIdParam, { aliases: true, crossAccount: true });
    if (named.keyId !== key.keyId) {
      throw new IncorrectKeyException('The key ID in the request does not identify a CMK that can perform this operation.');
    }
  }
  ctx.audit.keys.push(key);
  authorize(ctx, { action, key, context: ec, keys });
  requireEnabled(key);
  const plaintext = decryptBlob(ciphertext, material.material, ec);
  if (!plaintext) throw new InvalidCiphertextException();
  return { key, plaintext, materialId: material.materialId };
}

/** Exactly one of NumberOfBytes and KeySpec; the number of bytes it asks for. */
export function dataKeyLength(input: ValidatedInput): number {
  const numberOfBytes = num(input, 'NumberOfBytes');
  const keySpec = str(input, 'KeySpec');
  if ((numberOfBytes === undefined) === (keySpec === undefined)) {
    throw new ValidationException('Please specify either number of bytes or key spec.');
  }
  return numberOfBytes ?? (keySpec === 'AES_128' ? 16 : 32);
}

export function generateDataKeyFor(ctx: OperationContext, input: ValidatedInput, action: string) {
  const length = dataKeyLength(input);
  const key = resolveKey(ctx, str(input, 'KeyId')!, { aliases: true, crossAccount: true });
  ctx.audit.keys.push(key);
  authorize(ctx, { action, key, context: context(input, 'EncryptionContext') });
  requireSymmetric(key, action);
  requireEnabled(key);
  checkDryRun(input);
  const plaintext = randomBytesFast(length);
  const { blob, materialId } = encryptWith(ctx, key, plaintext, context(input, 'EncryptionContext'));
  ctx.audit.additionalEventData = { keyMaterialId: materialId };
  return { key, plaintext, blob, materialId };
}

/**
 * AWS managed keys are managed by AWS: their key policy lets the account read them, not change
 * them, so these calls are denied with the key-policy message.
 */
export function denyIfAwsManaged(ctx: OperationContext, key: KeyRecord, action: string): void {
  if (key.keyManager !== 'AWS') return;
  throw new AccessDeniedException(
    `User: ${ctx.credentials.principalArn} is not authorized to perform: kms:${action} on resource: ${key.arn} because no resource-based policy allows the kms:${action} action`,
  );
}

/**
 * The key a key-only operation names (no aliases), noted for the event log, once the caller may
 * do `action` on it. `manage`: a change, which AWS managed keys refuse whatever the policies say;
 * `crossAccount`: the operation works on other accounts' keys by ARN.
 */
export function targetKey(input: ValidatedInput, ctx: OperationContext, action: string, options: { manage?: boolean; crossAccount?: boolean } = {}): KeyRecord {
  const key = resolveKey(ctx, str(input, 'KeyId')!, { aliases: false, crossAccount: options.crossAccount });
  ctx.audit.keys.push(key);
  authorize(ctx, { action, key });
  if (options.manage) denyIfAwsManaged(ctx, key, action);
  return key;
}

/** Tag rules beyond the model's lengths: no aws: prefix, no duplicates, at most 50 per key. */
export function checkTags(tags: Tag[], existing: Tag[] = []): Tag[] {
  const seen = new Set<string>();
  for (const tag of tags) {
    if (tag.TagKey.toLowerCase().startsWith('aws:')) throw new TagException('Tags beginning with aws: are reserved');
    if (seen.has(tag.TagKey)) throw new TagException('Duplicate tag keys');
    seen.add(tag.TagKey);
  }
  const merged = existing.filter((t) => !seen.has(t.TagKey)).concat(tags.map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue })));
  if (merged.length > 50) throw new TagException('Too many tags');
  return merged;
}

/** Opaque paging markers: base64url of a position, refused when they do not decode. */
export function encodeMarker(position: string): string {
  return Buffer.from(`sealbox:${position}`, 'utf8').toString('base64url');
}

export function decodeMarker(marker: string | undefined): string | undefined {
  if (marker === undefined) return undefined;
  const text = Buffer.from(marker, 'base64url').toString('utf8');
  if (!text.startsWith('sealbox:') || Buffer.from(text, 'utf8').toString('base64url') !== marker) {
    throw new InvalidMarkerException('Invalid marker');
  }
  return text.slice('sealbox:'.length);
}

/** A page of `items` (fetched with one extra to know whether more remain). */
export function page<T>(items: T[], limit: number, position: (item: T) => string) {
  const truncated = items.length > limit;
  const shown = truncated ? items.slice(0, limit) : items;
  return { shown, truncated, nextMarker: truncated ? encodeMarker(position(shown[shown.length - 1]!)) : undefined };
}
