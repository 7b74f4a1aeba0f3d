/**
 * A policy document that AWS would refuse. The message is meant for humans and is what callers put
 * into S3's `MalformedPolicy` or KMS's `MalformedPolicyDocumentException`.
 */
export class PolicyError extends Error {
  /** JSON-pointer-like location of the offending element, e.g. `Statement[1].Condition`. */
  readonly path?: string;

  constructor(message: string, path?: string) {
    super(message);
    this.name = 'PolicyError';
    if (path !== undefined) this.path = path;
  }
}
