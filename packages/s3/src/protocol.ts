import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { httpDate } from '@sealbox/runtime';
import type { S3Response } from './context';
import type { S3Error } from './errors';
import { XML_DECLARATION, el } from './xml';

export interface ResponseIds {
  requestId: string;
  hostId: string;
  /** The wall clock clients sign with, sent as `Date` so SDKs that correct clock skew stay in step. */
  date: () => Date;
}

function baseHeaders(ids: ResponseIds): Record<string, string> {
  return { 'x-amz-request-id': ids.requestId, 'x-amz-id-2': ids.hostId, Date: httpDate(ids.date()), Server: 'AmazonS3' };
}

export function sendResponse(res: ServerResponse, ids: ResponseIds, method: string, response: S3Response): void {
  const headers: Record<string, string | number> = { ...baseHeaders(ids), ...response.headers };
  const body = response.body;
  const status = response.status ?? 200;
  if (body instanceof Readable) {
    res.writeHead(status, headers);
    if (method === 'HEAD') {
      body.destroy();
      res.end();
    } else {
      // pipe() leaves its source paused, not destroyed, when the client goes away: its file stays
      // open and the object's bytes pinned (BlobStore.pin) for good. The source ends with the response.
      res.once('close', () => {
        if (!body.destroyed) body.destroy();
      });
      body.pipe(res);
    }
    return;
  }
  if (Array.isArray(body)) {
    // Pieces of one body (a decrypted object's segments): corked, so they leave in one writev.
    if (headers['Content-Length'] === undefined) headers['Content-Length'] = body.reduce((n, b) => n + b.length, 0);
    res.writeHead(status, headers);
    if (method === 'HEAD') {
      res.end();
      return;
    }
    res.cork();
    for (const piece of body) res.write(piece);
    // end() uncorks fully.
    res.end();
    return;
  }
  const bytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  if (typeof body === 'string' && headers['Content-Type'] === undefined) headers['Content-Type'] = 'application/xml';
  // HEAD (and empty GETs) carry the object's own Content-Length without a body.
  if (headers['Content-Length'] === undefined) headers['Content-Length'] = bytes?.length ?? 0;
  res.writeHead(status, headers);
  res.end(method === 'HEAD' ? undefined : bytes);
}

/** `<Error>` with Code, Message, the error's extra elements, RequestId and HostId; HEAD gets no body. */
export function sendError(res: ServerResponse, ids: ResponseIds, method: string, err: S3Error): void {
  // The response may already be under way (a timed-out or broken connection): nothing more to say.
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string | number> = { ...baseHeaders(ids), ...err.headers };
  if (method === 'HEAD') {
    res.writeHead(err.status, headers);
    res.end();
    return;
  }
  const xml =
    XML_DECLARATION +
    el('Error', [
      el('Code', err.code),
      el('Message', err.message),
      ...err.fields.map(([name, value]) => el(name, value)),
      el('RequestId', ids.requestId),
      el('HostId', ids.hostId),
    ]);
  const bytes = Buffer.from(xml, 'utf8');
  headers['Content-Type'] = 'application/xml';
  headers['Content-Length'] = bytes.length;
  res.writeHead(err.status, headers);
  res.end(bytes);
}
