import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { Express } from 'express';
import {
  adminRouter,
  BodyTooLargeError,
  jsonRequestId,
  listen,
  readBody,
  silentAccessLog,
  type AccessLog,
  type RunningServer,
  type VirtualClock,
} from '@sealbox/runtime';
import {
  SigV4Error,
  SigningKeyCache,
  signedRequestFromNode,
  verifyRequest,
  type CredentialProvider,
  type VerifiedRequest,
} from '@sealbox/sigv4';
import { kmsAuthError } from './auth';
import type { OperationContext } from './context';
import {
  KMSInternalException,
  KmsError,
  MissingAuthenticationTokenException,
  RequestEntityTooLargeException,
  SerializationException,
  UnknownOperationException,
  UnsupportedOperationException,
} from './errors';
import type { JsonInput } from './input';
import { IMPLEMENTED, KMS_OPERATIONS, type KmsOperationName } from './operations';
import { JSON_11, sendError, sendJson } from './protocol';

export interface KmsServiceOptions {
  clock: VirtualClock;
  credentials: CredentialProvider;
  accessLog?: AccessLog;
  /** Largest request body accepted, in bytes (KMS requests are small). */
  maxBodyBytes?: number;
  /** Where unexpected errors are reported (never with request bodies). */
  onInternalError?: (err: unknown) => void;
}

const TARGET_PREFIX = 'TrentService.';
const OPERATIONS = new Set<string>(KMS_OPERATIONS);
/** KMS's front end allows 5 minutes of clock skew ("... (<now> - 5 min.)"). */
const KMS_MAX_SKEW_MS = 5 * 60 * 1000;
const DEFAULT_MAX_BODY = 1024 * 1024;

/** The KMS service: the AWS JSON 1.1 protocol on POST /, plus Sealbox's admin endpoints. */
export function createKmsApp(options: KmsServiceOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(adminRouter({ service: 'kms', clock: options.clock }));
  const signingKeys = new SigningKeyCache();
  const accessLog = options.accessLog ?? silentAccessLog;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;

  app.use((req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const requestId = jsonRequestId();
    let operation = 'Unknown';
    let accessKeyId: string | undefined;
    const finish = (status: number, errorCode?: string) =>
      accessLog({
        service: 'kms',
        operation,
        method: req.method ?? '',
        status,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        requestId,
        errorCode,
        accessKeyId,
      });

    const run = async () => {
      if (req.method !== 'POST' || (req.url !== '/' && !req.url?.startsWith('/?'))) {
        req.resume();
        throw new UnknownOperationException();
      }
      const body = await readBody(req, maxBody);
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (contentType !== JSON_11) throw new UnknownOperationException();
      const input = parseJson(body);
      const target = req.headers['x-amz-target'];
      if (typeof target !== 'string' || !target.startsWith(TARGET_PREFIX) || !OPERATIONS.has(target.slice(TARGET_PREFIX.length))) {
        throw new UnknownOperationException();
      }
      operation = target.slice(TARGET_PREFIX.length);

      const now = options.clock.now();
      let verified: VerifiedRequest | null;
      try {
        verified = verifyRequest(signedRequestFromNode(req), {
          service: 'kms',
          now,
          credentials: options.credentials,
          bodySha256: createHash('sha256').update(body).digest('hex'),
          signingKeys,
          maxSkewMs: KMS_MAX_SKEW_MS,
        });
      } catch (err) {
        if (err instanceof SigV4Error) throw kmsAuthError(err);
        throw err;
      }
      if (!verified) throw new MissingAuthenticationTokenException('Missing Authentication Token');
      accessKeyId = verified.credentials.accessKeyId;

      const handler = IMPLEMENTED[operation as KmsOperationName];
      if (!handler) throw new UnsupportedOperationException(`${operation} is not supported by Sealbox yet.`);
      const ctx: OperationContext = {
        credentials: verified.credentials,
        accountId: verified.credentials.accountId,
        region: verified.scope.region,
        requestId,
        now,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: req.headers['user-agent'] ?? '',
      };
      return handler(input, ctx);
    };

    run().then(
      (output) => {
        sendJson(res, requestId, options.clock.now(), 200, output);
        finish(200);
      },
      (err: unknown) => {
        const kmsError = toKmsError(err, options.onInternalError);
        sendError(res, requestId, options.clock.now(), kmsError);
        finish(kmsError.status, kmsError.code);
      },
    );
  });
  return app;
}

function parseJson(body: Buffer): JsonInput {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new SerializationException();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SerializationException('Start of structure or map found where not expected.');
  }
  return value as JsonInput;
}

function toKmsError(err: unknown, report?: (err: unknown) => void): KmsError {
  if (err instanceof KmsError) return err;
  if (err instanceof BodyTooLargeError) {
    return new RequestEntityTooLargeException(`Request body is larger than the ${err.limit} bytes allowed.`);
  }
  (report ?? defaultReport)(err);
  return new KMSInternalException('An internal error occurred.');
}

function defaultReport(err: unknown): void {
  process.stderr.write(`sealbox kms: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
}

export interface KmsServerOptions extends KmsServiceOptions {
  host: string;
  port: number;
}

export async function startKmsServer(options: KmsServerOptions): Promise<RunningServer> {
  return listen(createKmsApp(options), options.host, options.port);
}
