import { parsePolicy } from './parse';
import type { PolicyDocument, PrincipalBlock } from './types';

const parsed = new Map<string, PolicyDocument>();

/**
 * A stored policy, parsed once per distinct text (the oldest of 1,000 is forgotten first). For
 * policies that were validated when written (key policies, bucket policies, identity policies);
 * treat the document as immutable, as evaluation caches what it compiles from it.
 */
export function parsePolicyCached(text: string, kind: 'resource' | 'identity'): PolicyDocument {
  const cacheKey = `${kind}\n${text}`;
  let doc = parsed.get(cacheKey);
  if (!doc) {
    doc = parsePolicy(text, kind);
    if (parsed.size >= 1000) parsed.delete(parsed.keys().next().value as string);
    parsed.set(cacheKey, doc);
  }
  return doc;
}

/** An account's root user: `arn:aws:iam::111122223333:root`. */
export const isAccountRoot = (arn: string): boolean => /^arn:aws[\w-]*:iam::\d{12}:root$/.test(arn);

/**
 * Whether a resource policy statement's Principal names the caller itself (or everyone) rather
 * than only the caller's account. A statement naming the account (`arn:aws:iam::<id>:root` or the
 * bare id) gives no one access by itself: it lets the account's IAM policies decide.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
 * `roleArn` is the role of a role session, which a statement naming the role names.
 */
export function namesPrincipal(block: PrincipalBlock | undefined, principalArn: string, roleArn?: string): boolean {
  if (block === undefined || block === '*') return true;
  // An entry is a string, so an absent roleArn (undefined) never equals one.
  // Stryker disable next-line ArrayDeclaration: equivalent because a block without AWS entries names no one either way (a filler entry never equals a real ARN)
  return (block.AWS ?? []).some((p) => p === '*' || p === principalArn || p === roleArn);
}
