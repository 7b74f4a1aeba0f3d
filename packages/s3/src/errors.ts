/**
 * S3 errors, serialised as
 *   <Error><Code/><Message/>[extra elements]<RequestId/><HostId/></Error>
 * with the HTTP status AWS uses. HEAD responses carry no body.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    /** Extra elements, in the order AWS sends them. */
    readonly fields: [string, string][] = [],
    /** Headers to add to the error response. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }
}

const errorClass = (code: string, status: number, defaultMessage: string) =>
  class extends S3Error {
    constructor(message: string = defaultMessage, fields: [string, string][] = [], headers: Record<string, string> = {}) {
      super(code, status, message, fields, headers);
    }
  };

export class AccessDenied extends errorClass('AccessDenied', 403, 'Access Denied') {}
export class AuthorizationHeaderMalformed extends errorClass('AuthorizationHeaderMalformed', 400, 'The authorization header is malformed') {}
export class AuthorizationQueryParametersError extends errorClass('AuthorizationQueryParametersError', 400, 'Error parsing the query parameters') {}
export class IncompleteBody extends errorClass('IncompleteBody', 400, 'The request body terminated unexpectedly') {}
export class InternalError extends errorClass('InternalError', 500, 'We encountered an internal error. Please try again.') {}
export class InvalidAccessKeyId extends errorClass('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.') {}
export class InvalidArgument extends errorClass('InvalidArgument', 400, 'Invalid Argument') {}
export class InvalidRequest extends errorClass('InvalidRequest', 400, 'Invalid Request') {}
export class InvalidToken extends errorClass('InvalidToken', 400, 'The provided token is malformed or otherwise invalid.') {}
export class InvalidURI extends errorClass('InvalidURI', 400, "Couldn't parse the specified URI.") {}
export class MaxMessageLengthExceeded extends errorClass('MaxMessageLengthExceeded', 400, 'Your request was too big.') {}
export class MethodNotAllowed extends errorClass('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.') {}
export class MissingContentLength extends errorClass('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.') {}
export class NotImplemented extends errorClass('NotImplemented', 501, 'A header you provided implies functionality that is not implemented') {}
export class RequestTimeTooSkewed extends errorClass('RequestTimeTooSkewed', 403, 'The difference between the request time and the current time is too large.') {}
export class SignatureDoesNotMatch extends errorClass(
  'SignatureDoesNotMatch',
  403,
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
) {}
export class XAmzContentSHA256Mismatch extends errorClass(
  'XAmzContentSHA256Mismatch',
  400,
  "The provided 'x-amz-content-sha256' header does not match what was computed.",
) {}
