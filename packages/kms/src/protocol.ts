import type { ServerResponse } from 'node:http';
import { KmsError } from './errors';

export const JSON_11 = 'application/x-amz-json-1.1';

/** A successful AWS JSON 1.1 response. */
/**
 * `Date` is the wall clock clients sign with (not the advanced virtual clock), so SDKs that
 * correct clock skew from it stay in step.
 */
export function sendJson(res: ServerResponse, requestId: string, date: Date, status: number, body: unknown): void {
  const payload = Buffer.from(JSON.stringify(body ?? {}), 'utf8');
  res.writeHead(status, {
    'x-amzn-RequestId': requestId,
    Date: date.toUTCString(),
    'Content-Type': JSON_11,
    'Content-Length': payload.length,
  });
  res.end(payload);
}

/** `{"__type": "<Code>", "message": "..."}`; errors that AWS sends without a message omit it. */
export function sendError(res: ServerResponse, requestId: string, date: Date, err: KmsError): void {
  sendJson(res, requestId, date, err.status, err.hasMessage ? { __type: err.code, message: err.message } : { __type: err.code });
}
