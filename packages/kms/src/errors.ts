/**
 * KMS errors, one class per AWS error code. The JSON 1.1 protocol serialises them as
 * `{"__type": code, "message": message}`; modeled errors are HTTP 400.
 * https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html
 */
export class KmsError extends Error {
  constructor(
    readonly code: string,
    message: string | undefined,
    readonly status = 400,
  ) {
    super(message ?? '');
    this.name = code;
  }

  /** Some errors (InvalidCiphertextException, UnknownOperationException) carry no message. */
  get hasMessage(): boolean {
    return this.message !== '';
  }
}

const errorClass = (code: string, status = 400) =>
  class extends KmsError {
    constructor(message?: string) {
      super(code, message, status);
    }
  };

// Protocol and authentication
export class UnknownOperationException extends errorClass('UnknownOperationException') {}
export class SerializationException extends errorClass('SerializationException') {}
export class ValidationException extends errorClass('ValidationException') {}
export class UnrecognizedClientException extends errorClass('UnrecognizedClientException') {}
export class InvalidSignatureException extends errorClass('InvalidSignatureException') {}
export class IncompleteSignatureException extends errorClass('IncompleteSignatureException') {}
export class MissingAuthenticationTokenException extends errorClass('MissingAuthenticationTokenException') {}
export class AccessDeniedException extends errorClass('AccessDeniedException') {}
export class RequestEntityTooLargeException extends errorClass('RequestEntityTooLargeException', 413) {}
export class KMSInternalException extends errorClass('KMSInternalException', 500) {}

// Modeled KMS errors
export class UnsupportedOperationException extends errorClass('UnsupportedOperationException') {}
export class NotFoundException extends errorClass('NotFoundException') {}
export class DisabledException extends errorClass('DisabledException') {}
export class KMSInvalidStateException extends errorClass('KMSInvalidStateException') {}
export class InvalidArnException extends errorClass('InvalidArnException') {}
export class InvalidKeyUsageException extends errorClass('InvalidKeyUsageException') {}
export class InvalidCiphertextException extends errorClass('InvalidCiphertextException') {}
/** Verify's answer to a signature that does not verify; AWS sends it without a message. */
export class KMSInvalidSignatureException extends errorClass('KMSInvalidSignatureException') {}
export class IncorrectKeyException extends errorClass('IncorrectKeyException') {}
/** VerifyMac of a MAC that does not match; AWS sends it without a message. */
export class KMSInvalidMacException extends errorClass('KMSInvalidMacException') {}
export class InvalidAliasNameException extends errorClass('InvalidAliasNameException') {}
export class AlreadyExistsException extends errorClass('AlreadyExistsException') {}
export class LimitExceededException extends errorClass('LimitExceededException') {}
export class TagException extends errorClass('TagException') {}
export class InvalidMarkerException extends errorClass('InvalidMarkerException') {}
export class MalformedPolicyDocumentException extends errorClass('MalformedPolicyDocumentException') {}
export class DependencyTimeoutException extends errorClass('DependencyTimeoutException', 503) {}
export class CustomKeyStoreNotFoundException extends errorClass('CustomKeyStoreNotFoundException') {}
export class DryRunOperationException extends errorClass('DryRunOperationException') {}
export class NotAuthorizedException extends errorClass('NotAuthorizedException') {}
export class InvalidGrantIdException extends errorClass('InvalidGrantIdException') {}
export class InvalidGrantTokenException extends errorClass('InvalidGrantTokenException') {}
export class IncorrectKeyMaterialException extends errorClass('IncorrectKeyMaterialException') {}
export class ExpiredImportTokenException extends errorClass('ExpiredImportTokenException') {}
export class InvalidImportTokenException extends errorClass('InvalidImportTokenException') {}

// Custom key stores and multi-Region keys
export class CustomKeyStoreInvalidStateException extends errorClass('CustomKeyStoreInvalidStateException') {}
export class CustomKeyStoreNameInUseException extends errorClass('CustomKeyStoreNameInUseException') {}
export class CustomKeyStoreHasCMKsException extends errorClass('CustomKeyStoreHasCMKsException') {}
export class CloudHsmClusterInUseException extends errorClass('CloudHsmClusterInUseException') {}
export class XksProxyUriInUseException extends errorClass('XksProxyUriInUseException') {}
export class XksKeyAlreadyInUseException extends errorClass('XksKeyAlreadyInUseException') {}
