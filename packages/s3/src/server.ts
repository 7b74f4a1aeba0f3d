import type { IncomingMessage, ServerResponse } from 'node:http';
import { finished, Readable, type Transform } from 'node:stream';
import express from 'express';
import type { Express } from 'express';
import {
  acceptBody,
  adminRouter,
  apiFastPath,
  listenService,
  RequestTimeoutError,
  s3HostId,
  s3RequestId,
  silentAccessLog,
  type AccessLog,
  type ClientErrorKind,
  isMotoReset,
  type ErrorResponse,
  FaultRules,
  type Fixture,
  type LazyDecision,
  RequestLog,
  signatureDecision,
  type RunningServer,
  type VirtualClock,
} from '@sealbox/runtime';
import {
  AwsChunkedDecoder,
  SigV4Error,
  SigningKeyCache,
  parseAmzDate,
  parseQuery,
  payloadVerifier,
  signedRequestFromNode,
  splitTarget,
  verifyRequest,
  type CredentialProvider,
  type Credentials,
} from '@sealbox/sigv4';
import { DEFAULT_VIRTUAL_HOST_SUFFIXES, queryMap, resolveAddress, virtualHostBucket, type Address } from './addressing';
import { s3AuthError } from './auth';
import { authorizeOperation, simulateS3 } from './authorization';
import type { S3Request, S3Response } from './context';
import { InternalError, MethodNotAllowed, NotImplemented, S3Error } from './errors';
import { HttpKmsClient } from './kms-client';
import { beforeDispatch, s3FaultErrors } from './faults';
import { IMPLEMENTED } from './operations';
import { addLifecycleHeaders } from './operations/lifecycle';
import { startLifecycle } from './lifecycle-runner';
import { corsHeaders } from './operations/bucket-config';
import { sendError, sendResponse } from './protocol';
import { CONTROL_PREFIX, controlRoute, matchRoute } from './routes';
import { XML_DECLARATION, el } from './xml';
import { S3State, type S3Image } from './state';

export interface S3ServiceOptions {
  clock: VirtualClock;
  /** State directory; undefined keeps metadata in memory and bytes in a temporary directory. */
  dataDir?: string;
  credentials: CredentialProvider;
  /** The region of this endpoint: new buckets' default, and the scope bucket requests must carry. */
  region: string;
  /** The KMS endpoint SSE-KMS objects are encrypted through. */
  kmsEndpoint?: string;
  /** S3's own credential, which that KMS trusts to act for callers (same Sealbox only). */
  serviceCredentials?: Credentials;
  /** Accept SSE-KMS requests over plain HTTP (AWS requires TLS). */
  allowHttpSseKms?: boolean;
  /** Told when an SSE-KMS or SSE-C request is refused for coming over plain HTTP (sealbox start's hint). */
  onPlainHttpEncryption?: () => void;
  /** A CA certificate (PEM) to trust for an HTTPS KMS endpoint. */
  kmsCa?: string | readonly string[];
  /** How long a KMS call may stay silent before S3 gives up (KMS.DependencyTimeoutException); 10 s. */
  kmsTimeoutMs?: number;
  /** Sent with S3's own calls to KMS (HttpKmsClientOptions.serviceHeaders). */
  kmsServiceHeaders?: Record<string, string>;
  accessLog?: AccessLog;
  virtualHostSuffixes?: readonly string[];
  onInternalError?: (err: unknown) => void;
  /** Host names the admin endpoints accept besides Sealbox's own addresses (checkAdminRequest). */
  adminHosts?: readonly string[];
  /** The sandbox's reset and snapshot endpoints (startSealbox). */
  fixture?: Fixture;
  /** Start from this in-memory state (a snapshot or a loaded archive). */
  image?: S3Image;
  /** The sandbox's fault rules (shared with KMS); an S3 of its own has its own. */
  faults?: FaultRules;
  /** How many recent requests /_sealbox/requests and /_sealbox/decisions keep (10,000). */
  requestLogSize?: number;
  /** The request log to keep requests in (a sandbox's, which outlives a snapshot restore). */
  requests?: RequestLog;
}

export interface S3Service {
  app: Express;
  /** What the server listens with: `app`, with S3 API requests taken straight to their handler. */
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  state: S3State;
  /** The recent requests and their decision records. */
  requests: RequestLog;
  close(): void;
  errorResponse(kind: ClientErrorKind): ErrorResponse;
}

/** The S3 service: REST/XML, path-style and virtual-hosted style, plus Sealbox's admin endpoints. */
export function createS3Service(options: S3ServiceOptions): S3Service {
  const kms = options.kmsEndpoint ? new HttpKmsClient({ endpoint: options.kmsEndpoint, serviceCredentials: options.serviceCredentials, serviceHeaders: options.kmsServiceHeaders, ca: options.kmsCa, timeoutMs: options.kmsTimeoutMs }) : undefined;
  const state = new S3State(options.dataDir, options.credentials, kms, options.image);
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const suffixes = options.virtualHostSuffixes ?? DEFAULT_VIRTUAL_HOST_SUFFIXES;
  const signingKeys = new SigningKeyCache();
  const accessLog = options.accessLog ?? silentAccessLog;
  const faults = options.faults ?? new FaultRules({ s3: s3FaultErrors });
  const isVirtualHosted = (req: IncomingMessage) => virtualHostBucket(req.headers.host, suffixes) !== undefined;
  const requests = options.requests ?? new RequestLog(options.requestLogSize);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const ids = { requestId: s3RequestId(), hostId: s3HostId(), date: () => options.clock.wallNow() };
    const method = req.method ?? 'GET';
    let operation = 'Unknown';
    let accessKeyId: string | undefined;
    let bucketName: string | undefined;
    let principal: string | null = null;
    let time: Date | undefined;
    // Filled by authorization (and the SSE-KMS rules, and S3's calls to KMS) as the request goes.
    const trace: { decisions: LazyDecision[] } = { decisions: [] };
    let s3Request: S3Request | undefined;

    const run = async (): Promise<S3Response> => {
      const signed = signedRequestFromNode(req);
      const { path, query: rawQuery } = splitTarget(signed.target);
      // S3 Control's account-level calls (clients put the account id in the host name, which may
      // look like a virtual-hosted bucket): told apart by their versioned path.
      const control = path.startsWith(CONTROL_PREFIX);
      const address: Address = control ? { level: 'service', style: 'path' } : resolveAddress(req.headers.host, path, suffixes);
      bucketName = address.bucket;
      const query = queryMap(parseQuery(rawQuery));
      const route = control ? controlRoute(method, path) : matchRoute(method, address.level, query, (name) => req.headers[name] !== undefined);
      if (!route) {
        throw new MethodNotAllowed(undefined, [
          ['Method', method],
          ['ResourceType', address.level === 'object' ? 'OBJECT' : address.level === 'bucket' ? 'BUCKET' : 'SERVICE'],
        ]);
      }
      operation = route.operation;
      const now = options.clock.now();
      time = now;
      // Bucket requests must be signed for the bucket's region (a bucket being created: any
      // region, checked against its LocationConstraint); ListBuckets for any region.
      const bucketRegion = address.bucket !== undefined ? state.meta.bucketView(address.bucket)?.region : undefined;
      const region = operation === 'CreateBucket' && !bucketRegion ? undefined : (bucketRegion ?? (address.bucket !== undefined ? options.region : undefined));
      let verified: ReturnType<typeof verifyRequest>;
      try {
        verified = verifyRequest(signed, {
          service: 's3',
          region,
          now,
          clientTime: (t) => options.clock.fromWallClock(t),
          clientTimeLatest: (t) => options.clock.fromWallClockLatest(t),
          credentials: options.credentials,
          signingKeys,
          // An x-amz-* header outside SignedHeaders (x-amz-copy-source, x-amz-meta-*, ...) would
          // change what a replayed request does: S3 refuses it.
          requireSignedAmzHeaders: true,
        });
      } catch (err) {
        if (err instanceof SigV4Error) {
          // The access key the request named (not verified; never the secret), for the request log.
          const named = (err.failure as { accessKeyId?: unknown }).accessKeyId;
          if (typeof named === 'string') accessKeyId = named;
          const refused = s3AuthError(err, accessKeyId);
          const resource = address.bucket === undefined ? 'arn:aws:s3:::*' : `arn:aws:s3:::${address.bucket}${address.key !== undefined ? `/${address.key}` : ''}`;
          trace.decisions.push(signatureDecision(`s3:${operation}`, resource, `${refused.code}: ${refused.message}`));
        }
        throw err;
      }
      accessKeyId = verified?.credentials.accessKeyId;
      principal = verified?.credentials.principalArn ?? null;
      // A GET or HEAD without a body (no Content-Length, no Transfer-Encoding) gets its payload
      // hash verifier, and is piped through it, only if a handler reads the body (none of theirs
      // does): no hash and no streams wired per read. Other payload kinds are checked at once, as
      // before (an aws-chunked declaration without its decoded length is refused).
      const bodyless = (method === 'GET' || method === 'HEAD') && req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined;
      const lazyVerifier = bodyless && verified?.payload.type === 'sha256';
      let verifier = verified && !lazyVerifier ? payloadVerifier(verified, signed.headers) : null;
      let piped: Readable | undefined = bodyless ? undefined : verifier ? pipeBody(req, verifier) : req;
      const body = (): Readable => {
        if (piped) return piped;
        if (lazyVerifier) verifier = payloadVerifier(verified!, signed.headers);
        piped = verifier ? pipeBody(req, verifier) : req;
        return piped;
      };
      const trailers = () => (verifier instanceof AwsChunkedDecoder ? verifier.trailers : undefined);

      const handler = IMPLEMENTED[operation];
      if (!handler) throw new NotImplemented();
      const request: S3Request = {
        operation,
        method,
        bucket: address.bucket,
        key: address.key,
        query,
        headers: req.headers,
        get body() {
          return body();
        },
        credentials: verified?.credentials,
        authType: verified ? (verified.mechanism === 'header' ? 'REST-HEADER' : 'REST-QUERY-STRING') : undefined,
        signatureVersion: verified ? 'AWS4-HMAC-SHA256' : undefined,
        signedAt: verified?.mechanism === 'presigned' ? options.clock.fromWallClock(parseAmzDate(verified.amzDate)!) : undefined,
        region: verified?.scope.region ?? options.region,
        endpointRegion: options.region,
        state,
        secure: (req.socket as { encrypted?: boolean }).encrypted === true,
        allowHttpSseKms: options.allowHttpSseKms ?? false,
        trailers,
        requestId: ids.requestId,
        now,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        decisions: trace.decisions,
      };
      // S3's calls to KMS add their request ids to request.kmsRequestIds.
      s3Request = request;
      authorizeOperation(request);
      await beforeDispatch(faults, request, req, () => res.destroy());
      // Authenticated and authorized on its headers: only now may the client send its body. A
      // request refused before here gets its final status instead of 100 Continue and never sends
      // the body, as on AWS.
      acceptBody(req, res);
      return addLifecycleHeaders(request, await handler(request));
    };

    const finish = (status: number, errorCode?: string, message?: string) => {
      // A body nobody read must still be drained, or the connection cannot be reused.
      if (!req.readableEnded) req.resume();
      requests.add({ requestId: ids.requestId, service: 's3', time: time ?? options.clock.now(), operation, principal, accessKeyId, status, errorCode, message, decisions: trace.decisions, kmsRequestIds: s3Request?.kmsRequestIds });
      accessLog({
        service: 's3',
        operation,
        method,
        status,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        requestId: ids.requestId,
        errorCode,
        accessKeyId,
      });
    };

    run().then(
      (response) => {
        // Requests from a browser origin the bucket's CORS rules allow get the CORS headers.
        const origin = req.headers.origin;
        if (origin && method !== 'OPTIONS' && bucketName !== undefined) {
          const bucket = state.meta.bucketView(bucketName);
          const cors = bucket && corsHeaders(bucket, origin, method, []);
          if (cors) response.headers = { ...response.headers, ...cors };
        }
        // A stored object that fails mid-stream (data that fails authentication, a blob file gone)
        // cuts the connection: the client sees an error, never wrong or missing bytes as whole.
        if (response.body instanceof Readable) {
          response.body.once('error', (err) => {
            toS3Error(err, accessKeyId, options.onInternalError);
            res.destroy();
          });
        }
        try {
          sendResponse(res, ids, method, response);
        } catch (err) {
          // A header Node refuses to write (a character no header can carry) must neither split
          // the response nor escape as an unhandled rejection: the request fails, the server stays.
          if (response.body instanceof Readable) response.body.destroy();
          const internal = toS3Error(err, accessKeyId, options.onInternalError);
          sendError(res, ids, method, internal);
          finish(internal.status, internal.code, internal.message);
          return;
        }
        finish(response.status ?? 200);
      },
      (err: unknown) => {
        const s3Error = toS3Error(err, accessKeyId, options.onInternalError);
        if (s3Error.status === 400 && / must be made over a secure connection\.$/.test(s3Error.message)) options.onPlainHttpEncryption?.();
        if (!res.destroyed) sendError(res, ids, method, s3Error);
        finish(s3Error.status, s3Error.code, s3Error.message);
      },
    );
  };

  // Virtual-hosted requests are all S3: `bucket.localhost/_sealbox/x` is an object key.
  app.use((req, res, next) => (isVirtualHosted(req) ? handle(req, res) : next()));
  app.use(
    adminRouter({
      service: 's3',
      clock: options.clock,
      health: () => ({ region: options.region }),
      hosts: options.adminHosts,
      fixture: options.fixture,
      faults,
      requests: () => requests,
      simulate: (input) => simulateS3(state, options.credentials, options.clock.now(), input),
    }),
  );
  app.use(handle);
  // Virtual-hosted requests are all S3, and so is every path that cannot be an admin endpoint.
  // moto's POST /moto-api/reset is one (a bucket named moto-api answers any other request to
  // it; a POST to an object's path with no query string is no S3 operation anyway).
  const listener = options.fixture ? apiFastPath(app, handle, (req) => !isMotoReset(req.url) || isVirtualHosted(req)) : apiFastPath(app, handle);
  // Lifecycle rules run as time passes (lifecycle-runner.ts).
  const stopLifecycle = startLifecycle(state, options.clock, options.onInternalError ?? defaultReport);
  return {
    app,
    listener,
    state,
    requests,
    close: () => {
      stopLifecycle();
      state.close();
    },
    errorResponse,
  };
}

/**
 * req piped through the payload verifier, failing as stream.pipeline(req, verifier) would: an
 * error or early close on either side destroys both with that error. Written out because
 * pipeline builds an AbortController per call and aborts it at the end, creating a DOMException
 * (with its stack trace) per request.
 */
function pipeBody(req: IncomingMessage, verifier: Transform): Readable {
  // As pipeline does: req counts as done once it ended, the verifier once all input went in
  // (its output is the handler's to read); only a stream not yet done is destroyed on failure.
  let reqDone = false;
  let verifierDone = false;
  let failed = false;
  const fail = (err: Error) => {
    if (failed) return;
    failed = true;
    req.unpipe(verifier);
    if (!reqDone && !req.destroyed) {
      // pipeline's destroyer detaches a server request from its socket first, so the socket
      // survives to carry the error response.
      (req as { socket: unknown }).socket = null;
      req.destroy(err);
    }
    if (!verifierDone && !verifier.destroyed) verifier.destroy(err);
  };
  req.pipe(verifier);
  finished(req, { writable: false }, (err) => {
    if (err) fail(err);
    else reqDone = true;
  });
  finished(verifier, { readable: false }, (err) => {
    if (err) fail(err);
    else verifierDone = true;
  });
  return verifier;
}

/**
 * S3's answers to what Node refuses before the routing sees a request, to a client that goes
 * quiet (or too slow) mid-request, and to a connection past the cap.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
 */
function errorResponse(kind: ClientErrorKind): ErrorResponse {
  const [status, code, message] = CLIENT_ERRORS[kind];
  const requestId = s3RequestId();
  const hostId = s3HostId();
  return {
    status,
    headers: { 'Content-Type': 'application/xml', 'x-amz-request-id': requestId, 'x-amz-id-2': hostId },
    body: XML_DECLARATION + el('Error', [el('Code', code), el('Message', message), el('RequestId', requestId), el('HostId', hostId)]),
  };
}

const CLIENT_ERRORS: Record<ClientErrorKind, [number, string, string]> = {
  HeaderTooLarge: [400, 'RequestHeaderSectionTooLarge', 'Your request header section exceeds the maximum allowed size.'],
  RequestTimeout: [400, 'RequestTimeout', 'Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.'],
  // Bytes that are not HTTP/1.1 (a garbage request line, a NUL in a header, a body longer than
  // its Content-Length followed by more bytes). The error list has no entry for these; S3's
  // front end answers them with BadRequest and this message.
  BadRequest: [400, 'BadRequest', 'An error occurred when parsing the HTTP request.'],
  // The error list's answer to more load than the endpoint takes; SDKs back off and retry it.
  TooManyConnections: [503, 'SlowDown', 'Please reduce your request rate.'],
};

function toS3Error(err: unknown, accessKeyId: string | undefined, report?: (err: unknown) => void): S3Error {
  if (err instanceof S3Error) return err;
  if (err instanceof SigV4Error) return s3AuthError(err, accessKeyId);
  // The client went quiet or away mid-request: its connection is already answered or gone.
  if (err instanceof RequestTimeoutError) return new S3Error('RequestTimeout', 400, err.message);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNRESET') return new S3Error('RequestTimeout', 400, 'The client closed the connection.');
  // A full disk is the one internal error a user can act on: say so in one line, not a stack.
  // AWS has no such error, so the client gets S3's InternalError (which SDKs retry).
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    (report ?? (() => process.stderr.write(`sealbox s3: the data directory is out of space (${code}); the write was refused and nothing was changed. Free some space.\n`)))(err);
    return new InternalError();
  }
  (report ?? defaultReport)(err);
  return new InternalError();
}

function defaultReport(err: unknown): void {
  process.stderr.write(`sealbox s3: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
}

export interface S3ServerOptions extends S3ServiceOptions {
  host: string;
  port: number;
  /** Serve HTTPS with this key and certificate. */
  tls?: { key: string; cert: string };
}

/** Starts the S3 service; closing the server also closes its stores. */
export async function startS3Server(options: S3ServerOptions): Promise<RunningServer> {
  return listenService(createS3Service(options), options.host, options.port, options.tls);
}
