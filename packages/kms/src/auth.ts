import { SigV4Error, toAmzDate } from '@sealbox/sigv4';
import {
  IncompleteSignatureException,
  InvalidSignatureException,
  KmsError,
  MissingAuthenticationTokenException,
  UnrecognizedClientException,
} from './errors';

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/**
 * SigV4 failures in the words of AWS's JSON services (KMS's front end). All are HTTP 400.
 * Messages follow the responses AWS returns; several end with ". " exactly as AWS writes them.
 */
export function kmsAuthError(err: SigV4Error): KmsError {
  const f = err.failure;
  switch (f.kind) {
    case 'MissingAuthentication':
      return new MissingAuthenticationTokenException('Missing Authentication Token');
    case 'MultipleAuthMechanisms':
      return new InvalidSignatureException("Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.");
    case 'UnsupportedAlgorithm':
      return new IncompleteSignatureException(`Unsupported AWS 'algorithm': '${f.algorithm}' (only AWS4-HMAC-SHA256 for now). `);
    case 'MalformedAuthorization': {
      const sentences = f.missing.map((m) =>
        m === 'Date'
          ? "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
          : `Authorization header requires '${m}' parameter.`,
      );
      return new IncompleteSignatureException(`${sentences.join(' ')} Authorization=${f.authorization}`);
    }
    case 'MalformedPresign':
      return new IncompleteSignatureException(
        `AWS query-string parameters must include ${f.missing.map((m) => `'${m}'`).join(', ')}. Re-examine the query-string parameters.`,
      );
    case 'MalformedCredential':
      return new IncompleteSignatureException(
        `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${f.credential}'`,
      );
    case 'InvalidDate':
      return new IncompleteSignatureException(
        `Date must be in ISO-8601 'basic format'. Got '${f.value}'. See http://en.wikipedia.org/wiki/ISO_8601`,
      );
    case 'InvalidCredentialDate':
    case 'CredentialDateMismatch': {
      const date = f.kind === 'InvalidCredentialDate' ? f.date : f.credentialDate;
      return new InvalidSignatureException(
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${f.amzDate.slice(0, 8)}', from '${f.amzDate}'.`,
      );
    }
    case 'InvalidRegion':
    case 'WrongRegion':
      return new InvalidSignatureException(`Credential should be scoped to a valid region, not '${f.region}'. `);
    case 'WrongService':
      return new InvalidSignatureException(`Credential should be scoped to correct service: '${f.expected}'. `);
    case 'WrongTerminator':
      return new InvalidSignatureException(`Credential should be scoped with a valid terminator: 'aws4_request', not '${f.terminator}'. `);
    case 'InvalidAccessKeyId':
    case 'InvalidSecurityToken':
      return new UnrecognizedClientException('The security token included in the request is invalid.');
    case 'HostNotSigned':
      return new InvalidSignatureException("'Host' must be a 'SignedHeader' in the AWS Authorization.");
    case 'RequestTimeTooSkewed': {
      const skewMin = Math.round(f.maxSkewMs / 60000);
      const server = f.serverTime.getTime();
      if (f.requestTime.getTime() < server) {
        return new InvalidSignatureException(
          `Signature expired: ${toAmzDate(f.requestTime)} is now earlier than ${toAmzDate(new Date(server - f.maxSkewMs))} (${toAmzDate(f.serverTime)} - ${skewMin} min.)`,
        );
      }
      return new InvalidSignatureException(
        `Signature not yet current: ${toAmzDate(f.requestTime)} is still later than ${toAmzDate(new Date(server + f.maxSkewMs))} (${toAmzDate(f.serverTime)} + ${skewMin} min.)`,
      );
    }
    case 'Expired':
      return new InvalidSignatureException(
        `Signature expired: ${toAmzDate(f.requestTime)} is now earlier than ${toAmzDate(new Date(f.serverTime.getTime() - f.expiresSeconds * 1000))} (${toAmzDate(f.serverTime)} - ${f.expiresSeconds} sec.)`,
      );
    case 'NotYetValid':
      return new InvalidSignatureException(`Signature not yet current: ${toAmzDate(f.requestTime)} is still later than ${toAmzDate(f.serverTime)}`);
    case 'InvalidExpires':
      return new IncompleteSignatureException(`X-Amz-Expires must be between 0 and ${604800} seconds, got '${f.value}'.`);
    default:
      // Signature, payload and header-signing mismatches.
      return new InvalidSignatureException(SIGNATURE_MISMATCH);
  }
}
