import type { OperationContext } from '../context';
import { UnsupportedOperationException, ValidationException } from '../errors';
import { generateMaterial } from '../crypto/key-material';
import { isKeySpec, SPEC_INFO, type KeySpec, type KeyUsage } from '../key-specs';
import { keyMetadata } from '../keys';
import type { Tag } from '../model';
import type { ValidatedInput } from '../model/validate';
import { checkKeyPolicy } from '../policy-document';
import { authorize } from '../access/authorize';
import { javaDate } from '../trail/records';
import { checkTags, str } from './common';
import { customKeyStorePlacement, isCustomKeyStoreOrigin } from './custom-key-store-keys';
import { refuseMultiRegionInCustomKeyStore } from './multi-region';

/**
 * CreateKey for every key spec: symmetric encryption, HMAC, RSA, elliptic curve (NIST, secp256k1,
 * Ed25519), ML-DSA; SM2 is refused (see refuseSm2). Each spec allows only its usages, as AWS
 * checks them.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html
 */
export async function createKey(input: ValidatedInput, ctx: OperationContext) {
  authorize(ctx, { action: 'CreateKey' });
  const specParam = str(input, 'KeySpec') ?? str(input, 'CustomerMasterKeySpec') ?? 'SYMMETRIC_DEFAULT';
  if (!isKeySpec(specParam)) throw new ValidationException(`KeySpec ${specParam} is not valid.`);
  const keySpec: KeySpec = specParam;
  if (keySpec === 'SM2') refuseSm2(ctx.region);
  const usageParam = str(input, 'KeyUsage') as KeyUsage | undefined;
  if (keySpec !== 'SYMMETRIC_DEFAULT' && usageParam === undefined) {
    throw new ValidationException('You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.');
  }
  const keyUsage: KeyUsage = usageParam ?? 'ENCRYPT_DECRYPT';
  if (!SPEC_INFO[keySpec].usages.includes(keyUsage)) {
    throw new ValidationException(`KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}`);
  }
  const origin = str(input, 'Origin') ?? 'AWS_KMS';
  // EXTERNAL: a key without material, PendingImport until ImportKeyMaterial (every spec AWS can import).
  if (origin !== 'AWS_KMS' && origin !== 'EXTERNAL' && !isCustomKeyStoreOrigin(origin)) throw new UnsupportedOperationException(`Origin ${origin} is not supported by Sealbox yet.`);
  if (origin === 'EXTERNAL' && SPEC_INFO[keySpec].family === 'ml-dsa') throw new UnsupportedOperationException(`KeySpec ${keySpec} is not supported by Sealbox yet.`);
  refuseMultiRegionInCustomKeyStore(input);
  const placement = customKeyStorePlacement(input, ctx, origin, keySpec);
  const tags = checkTags((input.Tags as Tag[] | undefined) ?? []);
  const policy = str(input, 'Policy');
  const draft = ctx.core.draftKey(ctx.accountId, ctx.region, {
    description: str(input, 'Description'),
    policy,
    tags,
    keySpec,
    keyUsage,
    multiRegion: input.MultiRegion === true,
    ...placement,
  });
  if (policy !== undefined) checkKeyPolicy(ctx, draft, policy, input.BypassPolicyLockoutSafetyCheck === true);
  const material = origin === 'EXTERNAL' ? undefined : await generateMaterial(keySpec);

  const key = ctx.core.insertKey(draft, material);
  ctx.audit.keys.push(key);
  const metadata = keyMetadata(key, ctx.core);
  // CloudTrail shows KeyMetadata in lower camel case (AWSAccountId excepted) with a Java-style date.
  ctx.audit.responseElements = {
    keyMetadata: Object.fromEntries(
      Object.entries(metadata).map(([k, v]) => [
        k === 'AWSAccountId' ? k : k.charAt(0).toLowerCase() + k.slice(1),
        k === 'CreationDate' ? javaDate(key.creationDate) : v,
      ]),
    ),
  };
  return { KeyMetadata: metadata };
}

/**
 * SM2 keys exist only in the China Regions; elsewhere KMS answers UnsupportedOperationException
 * "KeySpec SM2 is not supported in this Region" (as reported from us-east-1; AWS's docs give no
 * wording). In cn-north-1 and cn-northwest-1 Sealbox refuses them too: KMS signs with SM2DSA using
 * the default distinguishing ID 1234567812345678, and Node's OpenSSL 3.0 can only make SM2
 * signatures with an empty ID (Node has no way to set `distid`), which no KMS verifier accepts.
 * https://docs.aws.amazon.com/kms/latest/developerguide/offline-operations.html#key-spec-sm-offline-verification
 */
function refuseSm2(region: string): never {
  if (region !== 'cn-north-1' && region !== 'cn-northwest-1') throw new UnsupportedOperationException('KeySpec SM2 is not supported in this Region');
  throw new UnsupportedOperationException('KeySpec SM2 is not supported by Sealbox: Node.js cannot make SM2DSA signatures with the distinguishing ID KMS uses.');
}
