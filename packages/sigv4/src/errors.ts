/**
 * Why a request failed verification, independent of protocol: each service maps a kind to its own
 * error code, status and wording (S3 XML, KMS JSON).
 */
export type SigV4Failure =
  | { kind: 'MissingAuthentication' }
  | { kind: 'MultipleAuthMechanisms'; authorization: string }
  | { kind: 'UnsupportedAlgorithm'; algorithm: string; mechanism: 'header' | 'presigned' | 'sigv2' }
  /** Authorization header lacking some of Credential, SignedHeaders, Signature, Date. */
  | { kind: 'MalformedAuthorization'; missing: string[]; authorization: string }
  /** A presigned URL lacking some of its required query parameters. */
  | { kind: 'MalformedPresign'; missing: string[] }
  | { kind: 'MalformedCredential'; credential: string; mechanism: 'header' | 'presigned' }
  | { kind: 'InvalidCredentialDate'; date: string; amzDate: string; mechanism: 'header' | 'presigned' }
  | { kind: 'WrongTerminator'; terminator: string; mechanism: 'header' | 'presigned' }
  | { kind: 'InvalidAccessKeyId'; accessKeyId: string }
  | { kind: 'InvalidSecurityToken' }
  | { kind: 'WrongRegion'; region: string; expected: string; mechanism: 'header' | 'presigned' }
  | { kind: 'InvalidRegion'; region: string }
  | { kind: 'WrongService'; service: string; expected: string; mechanism: 'header' | 'presigned' }
  | { kind: 'InvalidDate'; value: string; mechanism: 'header' | 'presigned' }
  | { kind: 'CredentialDateMismatch'; credentialDate: string; amzDate: string }
  /** `requestTimeText` is the date as the client sent it (X-Amz-Date or Date). */
  | { kind: 'RequestTimeTooSkewed'; requestTime: Date; requestTimeText: string; serverTime: Date; maxSkewMs: number }
  | { kind: 'InvalidExpires'; value: string; reason: 'malformed' | 'negative' | 'too-large' }
  | { kind: 'Expired'; requestTime: Date; expiresSeconds: number; serverTime: Date }
  | { kind: 'NotYetValid'; requestTime: Date; serverTime: Date }
  | { kind: 'HostNotSigned' }
  /** x-amz-* headers sent but not covered by the signature (presigned URLs; header auth for S3). */
  | { kind: 'HeadersNotSigned'; headers: string[] }
  | {
      kind: 'SignatureDoesNotMatch';
      accessKeyId: string;
      canonicalRequest: string;
      stringToSign: string;
      signatureProvided: string;
    }
  | { kind: 'MissingContentSha256' }
  | { kind: 'InvalidContentSha256'; value: string }
  | { kind: 'ContentSha256Mismatch'; clientComputed: string; computed: string }
  | { kind: 'MissingDecodedContentLength' }
  | { kind: 'ChunkSignatureMismatch'; stringToSign: string; signatureProvided: string }
  | { kind: 'MalformedChunk'; reason: string }
  | { kind: 'IncompleteBody'; expected: number; received: number };

export type SigV4FailureKind = SigV4Failure['kind'];

export class SigV4Error extends Error {
  constructor(readonly failure: SigV4Failure, message: string = failure.kind) {
    super(message);
    this.name = 'SigV4Error';
  }

  get kind(): SigV4FailureKind {
    return this.failure.kind;
  }
}

export function fail(failure: SigV4Failure, message?: string): never {
  throw new SigV4Error(failure, message);
}
