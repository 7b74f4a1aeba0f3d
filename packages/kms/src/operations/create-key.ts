import type { OperationContext } from '../context';
import { CustomKeyStoreNotFoundException, UnsupportedOperationException, ValidationException } from '../errors';
import { keyMetadata } from '../keys';
import type { Tag } from '../model';
import type { ValidatedInput } from '../model/validate';
import { checkKeyPolicy } from '../policy-document';
import { authorize } from '../access/authorize';
import { javaDate } from '../trail/records';
import { checkTags, str } from './common';

/**
 * CreateKey for symmetric encryption keys. Other key specs, imported material, multi-Region
 * keys and custom key stores come in a later version and are refused clearly until then.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html
 */
export function createKey(input: ValidatedInput, ctx: OperationContext) {
  authorize(ctx, { action: 'CreateKey' });
  const keySpec = str(input, 'KeySpec') ?? str(input, 'CustomerMasterKeySpec') ?? 'SYMMETRIC_DEFAULT';
  const keyUsage = str(input, 'KeyUsage') ?? 'ENCRYPT_DECRYPT';
  if (keySpec === 'SYMMETRIC_DEFAULT' && keyUsage !== 'ENCRYPT_DECRYPT') {
    throw new ValidationException(`KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}`);
  }
  if (keySpec !== 'SYMMETRIC_DEFAULT') {
    if (str(input, 'KeyUsage') === undefined) {
      throw new ValidationException('You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.');
    }
    throw new UnsupportedOperationException(`KeySpec ${keySpec} is not supported by Sealbox yet; only SYMMETRIC_DEFAULT keys can be created.`);
  }
  const origin = str(input, 'Origin') ?? 'AWS_KMS';
  if (origin !== 'AWS_KMS') throw new UnsupportedOperationException(`Origin ${origin} is not supported by Sealbox yet.`);
  if (input.MultiRegion === true) throw new UnsupportedOperationException('Multi-Region keys are not supported by Sealbox yet.');
  const customKeyStoreId = str(input, 'CustomKeyStoreId');
  if (customKeyStoreId !== undefined) throw new CustomKeyStoreNotFoundException(`Custom key store '${customKeyStoreId}' does not exist.`);
  const tags = checkTags((input.Tags as Tag[] | undefined) ?? []);
  const policy = str(input, 'Policy');
  const draft = ctx.core.draftKey(ctx.accountId, ctx.region, { description: str(input, 'Description'), policy, tags });
  if (policy !== undefined) checkKeyPolicy(ctx, draft, policy, input.BypassPolicyLockoutSafetyCheck === true);

  const key = ctx.core.insertKey(draft);
  ctx.audit.keys.push(key);
  const metadata = keyMetadata(key);
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
