import type { HeaderMap } from './canonical';

/**
 * Which `x-amz-*` headers a request may carry without its signature covering them.
 * - `none`: every one must be in SignedHeaders.
 * - `content-sha256`: all but `x-amz-content-sha256`. That header's value is the last line of the
 *   canonical request (the payload hash), so the signature binds it whether it is listed or not,
 *   and S3 accepts it unlisted with header authentication (recorded: zengularity/benji#309, a
 *   request that AWS S3 accepted and a stricter S3 clone refused with HeadersNotSigned).
 */
export type UnsignedAmzAllowance = 'none' | 'content-sha256';

/**
 * The `x-amz-*` headers the request carries that SignedHeaders does not list, in the order they
 * arrived (the order S3 names them in `<HeadersNotSigned>`). Header names are already lower case
 * (`headerMap`), so `X-Amz-Meta-A` and `x-amz-meta-a` are one header and a repeated header is
 * listed once. `x-amzn-*` (x-amzn-trace-id, which SDKs never sign) and `amz-sdk-*` are not
 * `x-amz-*` headers.
 *
 * S3's rule for header authentication: "Any x-amz-* headers that you plan to include in your
 * request must also be added" to CanonicalHeaders, and S3 refuses a request that breaks it with 403
 * AccessDenied "There were headers present in the request which were not signed".
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */
export function unsignedAmzHeaders(headers: HeaderMap, signedHeaders: readonly string[], allowance: UnsignedAmzAllowance = 'none'): string[] {
  const signed = new Set(signedHeaders);
  const unsigned: string[] = [];
  for (const name of headers.keys()) {
    if (!name.startsWith('x-amz-') || signed.has(name)) continue;
    if (allowance === 'content-sha256' && name === 'x-amz-content-sha256') continue;
    unsigned.push(name);
  }
  return unsigned;
}
