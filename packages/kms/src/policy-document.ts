import { LimitExceededException, MalformedPolicyDocumentException } from './errors';

/** KMS's key policy document size quota. */
export const MAX_POLICY_BYTES = 32768;

/**
 * Checks a key policy document: a JSON object of at most 32 KB. (Statement-level checks and
 * enforcement arrive with the policy engine in a later version.) AWS answers malformed JSON with
 * MalformedPolicyDocumentException and no message, and oversize documents with
 * LimitExceededException.
 */
export function checkPolicyDocument(policy: string): void {
  if (Buffer.byteLength(policy, 'utf8') > MAX_POLICY_BYTES) {
    throw new LimitExceededException(`The key policy is larger than the ${MAX_POLICY_BYTES} bytes allowed.`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(policy);
  } catch {
    throw new MalformedPolicyDocumentException();
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !('Statement' in doc)) {
    throw new MalformedPolicyDocumentException();
  }
}
