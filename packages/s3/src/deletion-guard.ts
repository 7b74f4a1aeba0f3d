import type { S3State } from './state';
import type { BucketRecord, ObjectVersion } from './store/model';

/**
 * Whether S3 itself may not remove this version now: lifecycle expiration never removes a
 * version under Object Lock retention (until its retain-until date) or legal hold.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html ("Object Lock ...
 * lifecycle": "a lifecycle rule cannot delete a locked object version")
 *
 * The hook for Object Lock, which is built separately: until it lands nothing is locked, so this
 * answers false. Object Lock replaces the body with its own check (retention mode and date against
 * `now`, legal hold status); the lifecycle runner calls it before every removal.
 */
export function isDeletionBlocked(_state: S3State, _bucket: BucketRecord, _version: ObjectVersion, _now: Date): boolean {
  return false;
}
