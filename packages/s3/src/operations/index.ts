import type { S3Operation } from '../context';
import { listBuckets } from './list-buckets';

/** Operations built so far; every other routed operation answers NotImplemented (501). */
export const IMPLEMENTED: Record<string, S3Operation> = {
  ListBuckets: listBuckets,
};
