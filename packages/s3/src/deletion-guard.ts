import { retentionActive } from './object-lock';
import type { S3State } from './state';
import type { BucketRecord, ObjectVersion } from './store/model';

/**
 * Whether S3 itself may not remove this version now: lifecycle expiration never removes a
 * version under Object Lock retention (until its retain-until date, GOVERNANCE included: S3's
 * own removals never bypass it) or legal hold. Delete markers carry no lock.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html ("Object Lock ...
 * lifecycle": "a lifecycle rule cannot delete a locked object version")
 */
export function isDeletionBlocked(_state: S3State, _bucket: BucketRecord, version: ObjectVersion, now: Date): boolean {
  const lock = version.meta.lock;
  if (version.deleteMarker || !lock) return false;
  return lock.legalHold === 'ON' || retentionActive(lock, now.getTime());
}
