import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { LazyDecision } from '@sealbox/runtime';
import type { Credentials } from '@sealbox/sigv4';
import type { S3State } from './state';

/** What an S3 operation receives: never express's req/res. */
export interface S3Request {
  operation: string;
  method: string;
  bucket?: string;
  key?: string;
  query: ReadonlyMap<string, string>;
  headers: IncomingHttpHeaders;
  /** The verified payload (aws-chunked decoded, hash checked at its end). */
  body: Readable;
  /** Trailing headers of an aws-chunked body (checksums), once the body has been read. */
  trailers: () => ReadonlyMap<string, string> | undefined;
  /** How the request was authenticated (s3:authType): undefined when anonymous. */
  authType?: 'REST-HEADER' | 'REST-QUERY-STRING' | 'POST';
  /** The signer, or undefined for an anonymous request. */
  credentials?: Credentials;
  /** s3:signatureversion of a signed request: `AWS` for a SigV2 POST form, SigV4 otherwise. */
  signatureVersion?: 'AWS' | 'AWS4-HMAC-SHA256';
  /** When a presigned URL was signed, on the server's timeline (s3:signatureAge). */
  signedAt?: Date;
  /** The region of the request's credential scope (the endpoint's region when anonymous). */
  region: string;
  /** The region this endpoint serves (--region): new buckets' default. */
  endpointRegion: string;
  state: S3State;
  /** Whether the request came over TLS (SSE-KMS requires it). */
  secure: boolean;
  /** --allow-http-sse-kms: accept SSE-KMS over plain HTTP, for local use. */
  allowHttpSseKms: boolean;
  requestId: string;
  now: Date;
  sourceIp: string;
  /** The authorization decisions made for this request (the request log keeps them). */
  decisions?: LazyDecision[];
  /** The last version lookupVersion (access.ts) found for this request, and under which objects generation. */
  lookup?: { generation: number; bucket: string; key: string; versionId: string | undefined; version: import('./store/model').ObjectVersion | undefined };
  /** The KMS requests made for this request (x-amzn-RequestId of each), for the request log. */
  kmsRequestIds?: string[];
}

export interface S3Response {
  status?: number;
  headers?: Record<string, string | number>;
  /**
   * An XML document, raw bytes (one buffer, or several sent one after the other: a decrypted
   * object's segments, never joined), or a stream of bytes.
   */
  body?: string | Buffer | Buffer[] | Readable;
}

export type S3Operation = (req: S3Request) => S3Response | Promise<S3Response>;
