import { httpDate, type FastResponse } from '@sealbox/runtime';
import { KmsError } from './errors';

export const JSON_11 = 'application/x-amz-json-1.1';

/**
 * An AWS JSON 1.1 response. `Date` is the wall clock clients sign with (not the advanced virtual
 * clock), so SDKs that correct clock skew from it stay in step.
 */
export function jsonResponse(requestId: string, date: Date, status: number, body: unknown): FastResponse {
  return {
    status,
    headers: { 'x-amzn-RequestId': requestId, Date: httpDate(date), 'Content-Type': JSON_11 },
    body: JSON.stringify(body ?? {}),
  };
}

/** `{"__type": "<Code>", "message": "..."}`; errors that AWS sends without a message omit it. */
export function errorResponse(requestId: string, date: Date, err: KmsError): FastResponse {
  return jsonResponse(requestId, date, err.status, err.hasMessage ? { __type: err.code, message: err.message } : { __type: err.code });
}
