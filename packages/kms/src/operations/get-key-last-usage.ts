import type { OperationContext } from '../context';
import { epochSeconds } from '../keys';
import type { ValidatedInput } from '../model/validate';
import { targetKey } from './common';

/** The cryptographic operations GetKeyLastUsage tracks. */
export const TRACKED_OPERATIONS = [
  'Decrypt',
  'DeriveSharedSecret',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'GenerateDataKeyWithoutPlaintext',
  'GenerateMac',
  'ReEncrypt',
  'Sign',
  'Verify',
  'VerifyMac',
];

/**
 * The last successful cryptographic use of a key, answered from the event log. Sealbox tracks
 * from the key's creation.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyLastUsage.html
 */
export function getKeyLastUsage(input: ValidatedInput, ctx: OperationContext) {
  const key = targetKey(input, ctx, 'GetKeyLastUsage');
  ctx.core.trail.flush();
  const last = ctx.core.store.lastUse(key.arn, TRACKED_OPERATIONS);
  return {
    KeyId: key.arn,
    KeyCreationDate: epochSeconds(key.creationDate),
    TrackingStartDate: epochSeconds(key.creationDate),
    ...(last
      ? {
          KeyLastUsage: {
            Operation: last.eventName,
            Timestamp: epochSeconds(last.time),
            CloudTrailEventId: last.eventId,
            KmsRequestId: last.requestId,
          },
        }
      : {}),
  };
}
