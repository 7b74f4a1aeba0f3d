import type { OperationContext } from '../context';
import { macEquals } from '../crypto/asymmetric';
import { KMSInvalidMacException } from '../errors';
import type { ValidatedInput } from '../model/validate';
import { blob } from './common';
import { macFor } from './generate-mac';

/**
 * A MAC that does not match is KMSInvalidMacException with no message (recorded from AWS);
 * a match answers MacValid true.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_VerifyMac.html
 */
export function verifyMac(input: ValidatedInput, ctx: OperationContext) {
  const { key, mac, algorithm } = macFor(input, ctx, 'VerifyMac');
  if (!macEquals(mac, blob(input, 'Mac')!)) throw new KMSInvalidMacException();
  return { KeyId: key.arn, MacValid: true, MacAlgorithm: algorithm };
}
