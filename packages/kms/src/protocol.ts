import type { ServerResponse } from 'node:http';
import { httpDate } from '@sealbox/runtime';
import { KmsError } from './errors';

export const JSON_11 = 'application/x-amz-json-1.1';

/** A successful AWS JSON 1.1 response. */
/**
 * `Date` is the wall clock clients sign with (not the advanced virtual clock), so SDKs that
 * correct clock skew from it stay in step.
 */
export function sendJson(res: ServerResponse, requestId: string, date: Date, status: number, body: unknown): void {
  sendPayload(res, requestId, date, status, JSON.stringify(body ?? {}));
}

/** A JSON body serialized beforehand (the event of the call is written between the two). */
export function sendPayload(res: ServerResponse, requestId: string, date: Date, status: number, payload: string): void {
  // A string body goes out with the headers in one write (a Buffer takes a second one, writev).
  res.writeHead(status, {
    'x-amzn-RequestId': requestId,
    Date: httpDate(date),
    'Content-Type': JSON_11,
    'Content-Length': Buffer.byteLength(payload, 'utf8'),
  });
  res.end(payload, 'utf8');
}

/** `{"__type": "<Code>", "message": "..."}`; errors that AWS sends without a message omit it. */
export function sendError(res: ServerResponse, requestId: string, date: Date, err: KmsError): void {
  sendJson(res, requestId, date, err.status, errorBody(err));
}

export function errorBody(err: KmsError): { __type: string; message?: string } {
  return err.hasMessage ? { __type: err.code, message: err.message } : { __type: err.code };
}
