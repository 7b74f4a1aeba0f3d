import type { Credentials } from '@sealbox/sigv4';

/** What an operation knows about its request: who called, where, and when. */
export interface OperationContext {
  credentials: Credentials;
  accountId: string;
  region: string;
  requestId: string;
  now: Date;
  sourceIp: string;
  userAgent: string;
}
