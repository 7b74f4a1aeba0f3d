import { randomBytes, randomUUID } from 'node:crypto';

/** Key ids are UUIDs; multi-Region keys (a later version) use mrk- and 32 hex digits. */
export const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const MRK_ID = /^mrk-[0-9a-f]{32}$/;

export function newKeyId(): string {
  return randomUUID();
}

/** A multi-Region key's id: mrk- and 32 hex digits, the same in every Region of the set. */
export function newMultiRegionKeyId(): string {
  return `mrk-${randomBytes(16).toString('hex')}`;
}

/** KeyMaterialId: 64 hex digits, as ListKeyRotations and DescribeKey show them. */
export function newMaterialId(): string {
  return randomBytes(32).toString('hex');
}

export function keyArn(region: string, accountId: string, keyId: string): string {
  return `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
}

export function aliasArn(region: string, accountId: string, aliasName: string): string {
  return `arn:aws:kms:${region}:${accountId}:${aliasName}`;
}

export interface KmsArn {
  region: string;
  accountId: string;
  resourceType: 'key' | 'alias';
  /** key id, or the alias name including `alias/` */
  resource: string;
}

/** Parses `arn:aws:kms:<region>:<account>:key/<id>` and `...:alias/<name>`. */
export function parseKmsArn(value: string): KmsArn | undefined {
  const m = /^arn:aws[a-z-]*:kms:([a-z0-9-]*):(\d*):(key\/.+|alias\/.+)$/.exec(value);
  if (!m) return undefined;
  const [, region, accountId, resource] = m as unknown as [string, string, string, string];
  return resource.startsWith('key/')
    ? { region, accountId, resourceType: 'key', resource: resource.slice(4) }
    : { region, accountId, resourceType: 'alias', resource };
}
