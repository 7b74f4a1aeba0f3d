import { createPrivateKey } from 'node:crypto';
import type { Credentials } from '@sealbox/sigv4';
import type { OperationContext } from './context';
import type { KmsCore } from './core';
import { checkImportedMaterial, generateMaterial } from './crypto/key-material';
import { KmsError } from './errors';
import { KEY_ID, MRK_ID } from './ids';
import { SPEC_INFO, type KeySpec, type KeyUsage } from './key-specs';
import { validateInput } from './model/validate';
import { IMPLEMENTED, type KmsOperationName } from './operations';
import { checkTags } from './operations/common';
import { checkKeyPolicy } from './policy-document';

/** A grant a seed declares on its key. */
export interface SeedGrant {
  /** Where the grant is declared ("seed.yaml:12: keys.0.grants.1"), for errors. */
  at: string;
  name?: string;
  grantee: string;
  operations: string[];
  retiringPrincipal?: string;
  constraints?: { EncryptionContextEquals?: Record<string, string>; EncryptionContextSubset?: Record<string, string> };
}

/** A KMS key a seed declares, already checked for shape (see @sealbox/cli's parseSeed). */
export interface SeedKey {
  /** Where the key is declared ("seed.yaml:7: keys.0"), for errors. */
  at: string;
  id: string;
  account: string;
  region: string;
  spec: KeySpec;
  usage?: KeyUsage;
  description?: string;
  tags?: Record<string, string>;
  /** A key policy as JSON text; the default key policy without one. */
  policy?: string;
  enabled?: boolean;
  rotation?: { enabled: boolean; periodDays?: number };
  origin?: 'AWS_KMS' | 'EXTERNAL';
  /** Material versions, oldest first, the last current (decoded: see decodeSeedMaterial). None: generated. */
  material?: Buffer[];
  replicaRegions?: string[];
  aliases?: { at: string; name: string }[];
  grants?: SeedGrant[];
}

export interface SeedReport {
  created: string[];
  skipped: string[];
}

/** A seed that the KMS refuses, naming where in the seed (the `at` of the entry) and why. */
export class KmsSeedError extends Error {}

/**
 * Key material as a seed writes it: hex or base64 bytes for symmetric and HMAC keys, a PEM
 * private key (PKCS #8, or any form Node reads) for asymmetric keys. Returns the bytes Sealbox
 * keeps (PKCS #8 DER for asymmetric keys), checked against the spec as ImportKeyMaterial checks
 * imported material, or the problem.
 */
export function decodeSeedMaterial(spec: KeySpec, text: string): { material: Buffer } | { problem: string } {
  const family = SPEC_INFO[spec].family;
  if (family === 'ml-dsa') return { problem: `seeded material is not supported for ${spec} keys` };
  let bytes: Buffer;
  if (family === 'symmetric' || family === 'hmac') {
    // hex: or base64: says which; unprefixed, text of hex digits only is hex, anything else base64.
    const t = text.trim();
    const prefix = /^(hex|base64):/.exec(t)?.[1];
    const body = prefix ? t.slice(prefix.length + 1) : t;
    const isHex = /^([0-9a-fA-F]{2})+$/.test(body);
    const isBase64 = /^[A-Za-z0-9+/]+={0,2}$/.test(body) && body.length % 4 === 0;
    if ((prefix === 'hex' || !prefix) && isHex) bytes = Buffer.from(body, 'hex');
    else if ((prefix === 'base64' || !prefix) && isBase64) bytes = Buffer.from(body, 'base64');
    else return { problem: prefix ? `is not valid ${prefix}` : 'must be hex or base64 bytes' };
  } else {
    if (!text.includes('-----BEGIN')) return { problem: 'must be a PEM private key (-----BEGIN PRIVATE KEY-----)' };
    try {
      bytes = createPrivateKey({ key: text, format: 'pem' }).export({ type: 'pkcs8', format: 'der' });
    } catch {
      return { problem: 'is not a readable PEM private key' };
    }
  }
  const checked = checkImportedMaterial(spec, bytes);
  return 'problem' in checked ? { problem: checked.problem } : { material: checked.material };
}

/** Whether a key id may be seeded: a UUID, or mrk- and 32 hex digits for a multi-Region key. */
export const isSeedKeyId = (id: string): boolean => KEY_ID.test(id) || MRK_ID.test(id);



/**
 * Applies a seed's keys to a KMS: creates each key that does not exist yet (with its fixed id
 * and material, so ciphertexts are portable between Sealboxes seeded alike), and its aliases,
 * grants and replicas; never changes anything that exists (reported as skipped). Policies,
 * tags, aliases and grants go through the KMS's own operations as the account's root, so they
 * are validated exactly as the API validates them; the first problem throws a KmsSeedError.
 */
export async function applyKmsSeed(core: KmsCore, keys: SeedKey[], options: { principalExists?: (arn: string) => boolean } = {}): Promise<SeedReport> {
  const report: SeedReport = { created: [], skipped: [] };
  for (const k of keys) {
    const ctx = rootContext(core, k.account, k.region, options.principalExists);
    const label = `key ${k.id} (${k.account}, ${k.region})`;
    const at = (where: string, err: unknown): never => {
      if (err instanceof KmsError) throw new KmsSeedError(`${where}: ${err.message || err.code}`);
      throw err;
    };
    const existing = core.store.getKey(k.id, k.region);
    const elsewhere = core.store.keysWithId(k.id).find((x) => x.region !== k.region && (!existing || !x.multiRegion));
    if (!existing && elsewhere) throw new KmsSeedError(`${k.at}: key id ${k.id} exists in ${elsewhere.region}; a key id names one key`);
    if (existing) {
      if (existing.accountId !== k.account) throw new KmsSeedError(`${k.at}: key id ${k.id} exists in account ${existing.accountId}`);
      report.skipped.push(label);
    } else {
      try {
        await createSeedKey(core, ctx, k);
      } catch (err) {
        at(k.at, err);
      }
      report.created.push(label);
    }
    for (const region of k.replicaRegions ?? []) {
      const rlabel = `replica of ${k.id} in ${region}`;
      if (core.store.getKey(k.id, region)) {
        report.skipped.push(rlabel);
        continue;
      }
      try {
        call(ctx, 'ReplicateKey', { KeyId: k.id, ReplicaRegion: region, ...(k.policy ? { Policy: k.policy } : {}), ...(k.description ? { Description: k.description } : {}) });
      } catch (err) {
        at(`${k.at}.replicaRegions`, err);
      }
      report.created.push(rlabel);
    }
    for (const alias of k.aliases ?? []) {
      const alabel = `${alias.name} (${k.account}, ${k.region})`;
      if (core.store.getAlias(k.account, k.region, alias.name)) {
        report.skipped.push(alabel);
        continue;
      }
      try {
        call(ctx, 'CreateAlias', { AliasName: alias.name, TargetKeyId: k.id });
      } catch (err) {
        at(alias.at, err);
      }
      report.created.push(alabel);
    }
    for (const g of k.grants ?? []) {
      const glabel = `grant ${g.name ?? '(unnamed)'} on ${k.id}`;
      const same = core.store
        .grantsOfKey(k.id, k.region)
        .find((x) => (g.name ? x.name === g.name : x.granteePrincipal === g.grantee && x.operations.join() === g.operations.join()));
      if (same) {
        report.skipped.push(glabel);
        continue;
      }
      try {
        call(ctx, 'CreateGrant', {
          KeyId: k.id,
          GranteePrincipal: g.grantee,
          Operations: g.operations,
          ...(g.name ? { Name: g.name } : {}),
          ...(g.retiringPrincipal ? { RetiringPrincipal: g.retiringPrincipal } : {}),
          ...(g.constraints ? { Constraints: g.constraints } : {}),
        });
      } catch (err) {
        at(g.at, err);
      }
      report.created.push(glabel);
    }
    // Disabled last: a disabled key takes no grants.
    if (!existing && k.enabled === false) {
      try {
        call(ctx, 'DisableKey', { KeyId: k.id });
      } catch (err) {
        at(k.at, err);
      }
    }
  }
  return report;
}

async function createSeedKey(core: KmsCore, ctx: OperationContext, k: SeedKey): Promise<void> {
  const info = SPEC_INFO[k.spec];
  const usage = k.usage ?? (k.spec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : undefined);
  if (!usage) throw new KmsSeedError(`${k.at}.usage: a ${k.spec} key needs a usage (one of ${info.usages.join(', ')})`);
  if (!info.usages.includes(usage)) throw new KmsSeedError(`${k.at}.usage: ${usage} is not a usage of ${k.spec} keys (one of ${info.usages.join(', ')})`);
  const multiRegion = MRK_ID.test(k.id);
  const tags = checkTags(Object.entries(k.tags ?? {}).map(([TagKey, TagValue]) => ({ TagKey, TagValue })));
  const draft = core.draftKey(k.account, k.region, {
    keyId: k.id,
    description: k.description,
    policy: k.policy,
    tags,
    keySpec: k.spec,
    keyUsage: usage,
    multiRegion,
    origin: k.origin ?? 'AWS_KMS',
  });
  if (k.policy !== undefined) {
    try {
      checkKeyPolicy(ctx, draft, k.policy, false);
    } catch (err) {
      if (err instanceof KmsError) throw new KmsSeedError(`${k.at}.policy: ${err.message}`);
      throw err;
    }
  }
  const materials = k.material?.length ? k.material : k.origin === 'EXTERNAL' ? [] : [await generateMaterial(k.spec)];
  core.seedKey(draft, materials, k.material?.length ? 'seeded' : 'random');
  if (k.rotation?.enabled) call(ctx, 'EnableKeyRotation', { KeyId: k.id, ...(k.rotation.periodDays ? { RotationPeriodInDays: k.rotation.periodDays } : {}) });
}

/** Calls an operation as the account's root, validated as the API validates its input. */
function call(ctx: OperationContext, operation: KmsOperationName, input: Record<string, unknown>): unknown {
  const handler = IMPLEMENTED[operation]!;
  ctx.audit = { keys: [] };
  return handler(validateInput(operation, input), ctx);
}

function rootContext(core: KmsCore, accountId: string, region: string, principalExists?: (arn: string) => boolean): OperationContext {
  const credentials: Credentials = { accessKeyId: 'sealbox-seed', secretAccessKey: '', accountId, principalArn: `arn:aws:iam::${accountId}:root` };
  const now = core.clock.now();
  return {
    core,
    credentials,
    accountId,
    region,
    requestId: 'sealbox-seed',
    now,
    sourceIp: '127.0.0.1',
    userAgent: 'sealbox-seed',
    audit: { keys: [] },
    // The seed's author stands for the account's root: what the seed declares is what they want.
    enforcePolicies: false,
    conditionKeys: {},
    principalExists: principalExists ?? (() => true),
  };
}

/** Seed keys as JSON (material as base64), for POST /_sealbox/seed. */
export function seedKeysToJson(keys: SeedKey[]): unknown[] {
  return keys.map((k) => ({ ...k, ...(k.material ? { material: k.material.map((m) => m.toString('base64')) } : {}) }));
}

/**
 * Seed keys from POST /_sealbox/seed (as seedKeysToJson writes them), with the checks the seed
 * parser makes on ids, specs and material repeated here: the endpoint may be called directly.
 */
export function seedKeysFromJson(json: unknown): SeedKey[] {
  if (!Array.isArray(json)) throw new KmsSeedError('keys must be a list');
  return json.map((entry: unknown, i) => {
    const k = entry as Record<string, unknown>;
    const at = typeof k?.at === 'string' ? k.at : `keys.${i}`;
    if (typeof k !== 'object' || k === null) throw new KmsSeedError(`${at}: must be an object`);
    if (typeof k.id !== 'string' || !isSeedKeyId(k.id)) throw new KmsSeedError(`${at}.id: must be a key id`);
    if (typeof k.account !== 'string' || !/^\d{12}$/.test(k.account)) throw new KmsSeedError(`${at}.account: must be a 12-digit account id`);
    if (typeof k.region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(k.region)) throw new KmsSeedError(`${at}.region: must be a region`);
    if (typeof k.spec !== 'string' || !Object.prototype.hasOwnProperty.call(SPEC_INFO, k.spec)) throw new KmsSeedError(`${at}.spec: must be a key spec`);
    const spec = k.spec as KeySpec;
    let material: Buffer[] | undefined;
    if (k.material !== undefined) {
      if (!Array.isArray(k.material) || k.material.some((m) => typeof m !== 'string')) throw new KmsSeedError(`${at}.material: must be a list of base64 strings`);
      material = (k.material as string[]).map((m, j) => {
        const checked = checkImportedMaterial(spec, Buffer.from(m, 'base64'));
        if ('problem' in checked) throw new KmsSeedError(`${at}.material.${j}: ${checked.problem}`);
        return checked.material;
      });
    }
    return { ...(k as unknown as SeedKey), spec, ...(material ? { material } : {}) };
  });
}
