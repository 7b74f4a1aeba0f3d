export { StaticCredentialProvider, DEFAULT_CREDENTIALS, DEFAULT_ACCOUNT_ID, parseUserSpec, roleArnOf, sessionRoleArn, credentialsFor } from './credentials';
export type { Credentials, CredentialProvider } from './credentials';
export {
  ALGORITHM,
  EMPTY_SHA256,
  canonicalRequest,
  canonicalHeaders,
  headerMap,
  header,
  sha256Hex,
  stringToSign,
  toAmzDate,
  parseAmzDate,
} from './canonical';
export type { HeaderMap } from './canonical';
export { uriEncode, uriDecode, canonicalUri, canonicalQuery, parseQuery, splitTarget } from './encoding';
export type { QueryParam } from './encoding';
export { SigningKeyCache, deriveSigningKey } from './signing-key';
export { SigV4Error } from './errors';
export type { SigV4Failure, SigV4FailureKind } from './errors';
export { verifyRequest, signatureMatches, MAX_SKEW_MS, MAX_PRESIGN_EXPIRES } from './verify';
export type { SignedRequest, VerifyOptions, VerifiedRequest, PayloadMode, Scope } from './verify';
export { Sha256Verifier, AwsChunkedDecoder, payloadVerifier } from './payload';
export { signedRequestFromNode } from './node';
export { unsignedAmzHeaders } from './signed-headers';
export type { UnsignedAmzAllowance } from './signed-headers';
