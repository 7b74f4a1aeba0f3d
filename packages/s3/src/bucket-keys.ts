import type { S3Request } from './context';
import type { KmsClient } from './kms-client';

export interface BucketKey {
  plaintext: Buffer;
  ciphertextBlob: string;
  keyArn: string;
  context: Record<string, string>;
}

/**
 * S3 Bucket Keys, cached per bucket, KMS key, context and caller account for a bounded time and
 * number of objects; a fresh one comes from KMS GenerateDataKey (with the caller's authority)
 * once either runs out, as S3 renews its bucket-level keys.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html
 */
export class BucketKeyCache {
  private readonly keys = new Map<string, BucketKey & { expires: number; uses: number }>();

  constructor(
    private readonly ttlMs = 5 * 60 * 1000,
    private readonly maxUses = 10_000,
    private readonly maxEntries = 1000,
  ) {}

  async get(req: S3Request, kms: KmsClient, keyId: string, context: Record<string, string>): Promise<BucketKey> {
    // Per caller, not per account: KMS authorizes every caller's use of the key (a caller without
    // kms:GenerateDataKey must not write under a bucket key another caller obtained).
    const id = JSON.stringify([req.credentials!.principalArn, req.region, keyId, context]);
    const now = req.now.getTime();
    const cached = this.keys.get(id);
    if (cached && cached.expires > now && cached.uses < this.maxUses) {
      cached.uses++;
      return cached;
    }
    const out = await kms.generateDataKey(req.credentials!, req.region, keyId, context, req);
    const key = { plaintext: out.plaintext, ciphertextBlob: out.ciphertextBlob.toString('base64'), keyArn: out.keyArn, context, expires: now + this.ttlMs, uses: 1 };
    if (this.keys.size >= this.maxEntries) this.keys.delete(this.keys.keys().next().value as string);
    this.keys.set(id, key);
    return key;
  }
}
