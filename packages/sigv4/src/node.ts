import type { IncomingMessage } from 'node:http';
import { headerMap } from './canonical';
import type { SignedRequest } from './verify';

/**
 * The thin adapter from Node's request to the pure verifier: the raw request target (never a
 * decoded path) and the raw headers, repeated ones kept apart so they fold as SigV4 requires.
 */
export function signedRequestFromNode(req: IncomingMessage): SignedRequest {
  const pairs: [string, string][] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  // Node decodes header bytes as Latin-1, one character per byte: the bytes as sent.
  return { method: req.method ?? 'GET', target: req.url ?? '/', headers: headerMap(pairs), rawHeaderBytes: true };
}
