import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { Express } from 'express';
import {
  acceptBody,
  adminRouter,
  apiFastPath,
  BodyTooLargeError,
  httpDate,
  RequestTimeoutError,
  checkAdminRequest,
  jsonRequestId,
  listenService,
  readBody,
  RequestLog,
  requestsInFlight,
  whenExchangeEnds,
  signatureDecision,
  sendAdminRefusal,
  silentAccessLog,
  type AccessLog,
  type ClientErrorKind,
  isMotoReset,
  type ErrorResponse,
  FaultRules,
  type LazyDecision,
  type Fixture,
  type RunningServer,
  type VirtualClock,
} from '@sealbox/runtime';
import {
  SigV4Error,
  SigningKeyCache,
  signedRequestFromNode,
  verifyRequest,
  type CredentialProvider,
  type Credentials,
  type VerifiedRequest,
} from '@sealbox/sigv4';
import { globalConditionKeys, requestConditionKeys } from './access/condition-keys';
import { simulateKms } from './access/simulate';
import { kmsAuthError } from './auth';
import { CLOUDTRAIL_TARGET_PREFIX, lookupEvents } from './cloudtrail';
import type { OperationContext } from './context';
import { KmsCore, type KmsImage } from './core';
import {
  KMSInternalException,
  KmsError,
  MissingAuthenticationTokenException,
  RequestEntityTooLargeException,
  SerializationException,
  UnknownOperationException,
  UnrecognizedClientException,
  UnsupportedOperationException,
} from './errors';
import { validateInput } from './model/validate';
import { IMPLEMENTED, KMS_OPERATIONS, READ_ONLY, type KmsOperationName } from './operations';
import { checkGrantTokens } from './operations/grants';
import { errorBody, JSON_11, sendError, sendPayload } from './protocol';
import { apiCallEvent } from './trail/records';
import { EventLogUnavailableError } from './trail/trail';
import { applyKmsSeed, KmsSeedError, seedKeysFromJson } from './seed';
import { beforeDispatch, kmsFaultErrors } from './faults';
import { KmsQuotas, type KmsQuotaConfig } from './quotas';

export type JsonInput = Record<string, unknown>;

export interface KmsServiceOptions {
  clock: VirtualClock;
  credentials: CredentialProvider;
  /** State directory; undefined keeps everything in memory. */
  dataDir?: string;
  accessLog?: AccessLog;
  /** Largest request body accepted, in bytes (KMS requests are small). */
  maxBodyBytes?: number;
  /** On-demand rotations allowed per key (AWS: 10). */
  onDemandRotationLimit?: number;
  /** Where unexpected errors are reported (never with request bodies). */
  onInternalError?: (err: unknown) => void;
  /** Evaluate key policies, IAM policies and grants (default true). */
  enforcePolicies?: boolean;
  /** Host names the admin endpoints accept besides Sealbox's own addresses (checkAdminRequest). */
  adminHosts?: readonly string[];
  /** The sandbox's reset and snapshot endpoints (startSealbox). */
  fixture?: Fixture;
  /** Start from this in-memory state (a snapshot or a loaded archive). */
  image?: KmsImage;
  /** The sandbox's fault rules (shared with S3); a KMS of its own has its own. */
  faults?: FaultRules;
  /** Request quotas (off by default). */
  quotas?: KmsQuotaConfig;
  /** How many recent requests /_sealbox/requests and /_sealbox/decisions keep (10,000). */
  requestLogSize?: number;
  /** The request log to keep requests in (a sandbox's, which outlives a snapshot restore). */
  requests?: RequestLog;
}

export interface KmsService {
  app: Express;
  /** What the server listens with: `app`, with KMS API calls taken straight to their handler. */
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  core: KmsCore;
  /** The recent requests and their decision records. */
  requests: RequestLog;
  close(): void;
  errorResponse(kind: ClientErrorKind): ErrorResponse;
}

const KMS_TARGET_PREFIX = 'TrentService.';
const OPERATIONS = new Set<string>(KMS_OPERATIONS);
/** KMS's front end allows 5 minutes of clock skew ("... (<now> - 5 min.)"). */
const KMS_MAX_SKEW_MS = 5 * 60 * 1000;
const DEFAULT_MAX_BODY = 1024 * 1024;
/** Which API a target names: KMS itself, or CloudTrail's LookupEvents (served here too). */
function resolveTarget(target: string | string[] | undefined): { service: 'kms' | 'cloudtrail'; operation: string } {
  if (typeof target === 'string') {
    if (target.startsWith(KMS_TARGET_PREFIX) && OPERATIONS.has(target.slice(KMS_TARGET_PREFIX.length))) {
      return { service: 'kms', operation: target.slice(KMS_TARGET_PREFIX.length) };
    }
    if (target === `${CLOUDTRAIL_TARGET_PREFIX}LookupEvents`) return { service: 'cloudtrail', operation: 'LookupEvents' };
  }
  throw new UnknownOperationException();
}

/** The header with which a Sealbox service names the caller it acts for. */
export const ON_BEHALF_OF = 'x-sealbox-on-behalf-of';

/**
 * Whose call this is. A request signed with a service credential (S3's) acts for the caller
 * named in x-sealbox-on-behalf-of, as AWS services call KMS on their callers' behalf; the header
 * means nothing on any other request.
 */
function actingFor(signer: Credentials, onBehalfOf: string | string[] | undefined, provider: CredentialProvider): { credentials: Credentials; invokedBy?: string } {
  if (!signer.service || typeof onBehalfOf !== 'string') return { credentials: signer };
  const caller = provider.get(onBehalfOf);
  if (!caller || caller.service) throw new UnrecognizedClientException('The security token included in the request is invalid.');
  return { credentials: caller, invokedBy: `${signer.service}.amazonaws.com` };
}

/** The KMS service: the AWS JSON 1.1 protocol on POST /, plus Sealbox's admin endpoints. */
export function createKmsService(options: KmsServiceOptions): KmsService {
  const core = new KmsCore({ clock: options.clock, dataDir: options.dataDir, onDemandRotationLimit: options.onDemandRotationLimit, image: options.image });
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const faults = options.faults ?? new FaultRules({ kms: kmsFaultErrors });
  const quotas = new KmsQuotas(options.quotas, options.clock);
  const requests = options.requests ?? new RequestLog(options.requestLogSize);
  app.use(
    adminRouter({
      service: 'kms',
      clock: options.clock,
      hosts: options.adminHosts,
      fixture: options.fixture,
      faults,
      requests: () => requests,
      simulate: (input) => simulateKms(core, options.credentials, options.clock.now(), input),
    }),
  );
  // A lone call's record is flushed on the event loop: nothing else is in flight (but, for a
  // call S3 makes, the S3 request waiting for it) that the thread pool's round trip would let run.
  // Only a call S3 makes may have one other request beside it: "at most two" for every call let a
  // direct call's flush block an unrelated request (two clients took turns flushing on the loop,
  // each waiting out the other's flush, where the thread pool would have let them share flushes).
  let serviceCallsInFlight = 0;
  core.trail.flushOnLoop = (calls) => calls === 1 && requestsInFlight() <= 1 + Math.min(1, serviceCallsInFlight);
  const signingKeys = new SigningKeyCache();
  const accessLog = options.accessLog ?? silentAccessLog;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const principalExists = (arn: string) => options.credentials.principalExists?.(arn) ?? false;

  // Work that falls due (deletions, rotations) runs when the clock is advanced and once a second.
  const runDue = () => {
    try {
      core.processDue();
    } catch (err) {
      (options.onInternalError ?? defaultReport)(err);
    }
  };
  // An advance is answered once what it did (keys deleted, rotated) is on disk, as a call is.
  const unsubscribe = options.clock.onAdvance(async () => {
    runDue();
    try {
      await core.trail.settled();
    } catch (err) {
      // A full disk: the event log reports it (once) and retries.
      if (!(err instanceof EventLogUnavailableError)) (options.onInternalError ?? defaultReport)(err);
    }
  });
  const timer = setInterval(runDue, 1000);
  timer.unref();
  runDue();

  // POST /_sealbox/seed: a seed's keys (as @sealbox/cli's `sealbox seed` sends them), applied
  // idempotently. Admin only: accepted from the loopback interface alone, since it creates keys
  // with chosen material in any account without a signature.
  app.post('/_sealbox/seed', (req, res) => {
    if (!isLoopback(req.socket.remoteAddress)) {
      req.resume();
      res.status(403).json({ error: 'loopback: POST /_sealbox/seed is accepted only from the loopback interface', rule: 'loopback' });
      return;
    }
    // A web page on this machine is a loopback client too: only application/json from Sealbox's
    // own Host and no Origin, so no page can plant keys of known material in a developer's Sealbox.
    const refusal = checkAdminRequest(req, { hosts: options.adminHosts, changesState: true });
    if (refusal) {
      sendAdminRefusal(req, res, refusal);
      return;
    }
    readBody(req, 16 * 1024 * 1024)
      .then(async (body) => {
        const document: unknown = JSON.parse(body.toString('utf8'));
        // `null`, a number or a list is not a seed: refused as one, not read as one.
        if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new KmsSeedError('the body must be a JSON object: {"keys": [...]}');
        const keys = seedKeysFromJson((document as { keys?: unknown }).keys ?? []);
        // Everything is checked against a throwaway KMS first, so a bad seed changes nothing.
        const scratch = new KmsCore({ clock: options.clock });
        try {
          await applyKmsSeed(scratch, keys, { principalExists });
        } finally {
          scratch.close();
        }
        const report = await applyKmsSeed(core, keys, { principalExists });
        // Answered once the seeded keys are on disk (no call's record flushes kms.db for them).
        await core.trail.settled();
        res.json(report);
      })
      .catch((err: unknown) => {
        if (err instanceof KmsSeedError || err instanceof SyntaxError || err instanceof BodyTooLargeError) res.status(400).json({ error: err.message });
        else {
          (options.onInternalError ?? defaultReport)(err);
          res.status(500).json({ error: 'internal error' });
        }
      });
  });

  const api = (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const requestId = jsonRequestId();
    let operation = 'Unknown';
    let accessKeyId: string | undefined;
    let record: ((error?: KmsError) => Promise<void>) | undefined;
    let principal: string | null = null;
    let decisions: LazyDecision[] | undefined;
    let time: Date | undefined;
    const finish = (status: number, errorCode?: string, message?: string) => {
      // The request log: references only (the decisions explain themselves when asked).
      requests.add({ requestId, service: 'kms', time: time ?? options.clock.now(), operation, principal, accessKeyId, status, errorCode, message, decisions });
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
    };

    const run = async () => {
      if (req.method !== 'POST' || (req.url !== '/' && !req.url?.startsWith('/?'))) {
        req.resume();
        throw new UnknownOperationException();
      }
      // KMS signs the body's hash, so nothing but its size can be checked before it is read: a
      // client waiting for 100 Continue gets it unless the declared size is already too large.
      if (!(Number(req.headers['content-length']) > maxBody)) acceptBody(req, res);
      const body = await readBody(req, maxBody);
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (contentType !== JSON_11) throw new UnknownOperationException();
      const input = parseJson(body);
      const target = resolveTarget(req.headers['x-amz-target']);
      operation = target.operation;

      const now = options.clock.now();
      time = now;
      let verified: VerifiedRequest | null;
      try {
        verified = verifyRequest(signedRequestFromNode(req), {
          service: target.service,
          now,
          clientTime: (t) => options.clock.fromWallClock(t),
          clientTimeLatest: (t) => options.clock.fromWallClockLatest(t),
          credentials: options.credentials,
          bodySha256: createHash('sha256').update(body).digest('hex'),
          signingKeys,
          maxSkewMs: KMS_MAX_SKEW_MS,
        });
      } catch (err) {
        if (err instanceof SigV4Error) {
          // The access key the request named (not verified; never the secret), for the request log.
          const named = (err.failure as { accessKeyId?: unknown }).accessKeyId;
          if (typeof named === 'string') accessKeyId = named;
          const refused = kmsAuthError(err);
          decisions = [signatureDecision(`kms:${operation}`, '*', `${refused.code}: ${refused.message}`)];
          throw refused;
        }
        throw err;
      }
      if (!verified) throw new MissingAuthenticationTokenException('Missing Authentication Token');
      accessKeyId = verified.credentials.accessKeyId;
      const { credentials, invokedBy } = actingFor(verified.credentials, req.headers[ON_BEHALF_OF], options.credentials);
      if (invokedBy) {
        // A call S3 makes for a request of its own, which is in flight too (flushOnLoop).
        serviceCallsInFlight++;
        whenExchangeEnds(req, res, () => serviceCallsInFlight--);
      }
      principal = credentials.principalArn;
      if (target.service === 'cloudtrail') return lookupEvents(core, input, credentials.accountId, verified.scope.region);

      // The request is checked against the model before anything reads its members (condition
      // keys, handlers); a request that fails is still recorded, with what it sent.
      let validated: JsonInput | undefined;
      let invalid: unknown;
      try {
        validated = validateInput(operation, input);
      } catch (err) {
        invalid = err;
      }
      const sourceIp = req.socket.remoteAddress ?? '127.0.0.1';
      const region = verified.scope.region;
      // S3's calls (invokedBy) reach KMS over TLS in AWS, whatever the caller used to reach S3;
      // in one Sealbox they come over plain HTTP on this machine (sandbox.ts says why).
      const ctx: OperationContext = {
        core,
        credentials,
        invokedBy,
        accountId: credentials.accountId,
        region,
        requestId,
        now,
        sourceIp,
        userAgent: req.headers['user-agent'] ?? '',
        audit: { keys: [] },
        enforcePolicies: options.enforcePolicies ?? true,
        conditionKeys: {
          ...globalConditionKeys({ credentials, region, now, sourceIp, secureTransport: isTls(req) || invokedBy !== undefined, invokedBy }),
          ...requestConditionKeys(operation, validated ?? {}),
          ...(operation === 'CreateGrant' ? { 'kms:GrantIsForAWSResource': String(invokedBy !== undefined) } : {}),
        },
        principalExists,
        decisions: (decisions = []),
      };
      // Every authenticated call is recorded, successful or not.
      record = (error) => core.trail.commit(auditEvent(ctx, operation, input, error));
      const handler = IMPLEMENTED[operation as KmsOperationName];
      if (!handler) throw new UnsupportedOperationException(`${operation} is not supported by Sealbox yet.`);
      if (!validated) throw invalid;
      if (operation !== 'CreateGrant') checkGrantTokens(validated);
      await beforeDispatch({ faults, quotas }, ctx, operation, validated, () => res.destroy());
      return handler(validated, ctx);
    };

    // The answer is serialized, then the call's event is written (group commit, Trail.commit), and
    // only then sent: an acknowledged call always has its record on disk. Whatever fails on the
    // way (serializing the answer, building or writing the record) stays with this request:
    // reported once, answered with KMSInternalException, never an unhandled rejection that ends
    // the process.
    const settle = (status: number, body: unknown, error?: KmsError) => {
      const report = options.onInternalError ?? defaultReport;
      const internal = () => {
        error = new KMSInternalException('An internal error occurred.');
        status = error.status;
        return errorBody(error);
      };
      let payload: string;
      try {
        payload = JSON.stringify(body ?? {});
      } catch (err) {
        report(err);
        payload = JSON.stringify(internal());
      }
      const send = () => {
        try {
          if (!res.headersSent && !res.destroyed) sendPayload(res, requestId, options.clock.wallNow(), status, payload);
        } catch (err) {
          report(err);
          if (res.headersSent) res.destroy();
          else sendError(res, requestId, options.clock.wallNow(), new KMSInternalException('An internal error occurred.'));
          status = 500;
        }
        try {
          finish(status, error?.code, error?.hasMessage ? error.message : undefined);
        } catch (err) {
          report(err);
        }
      };
      if (!record) return send();
      let durable: Promise<void>;
      try {
        durable = record(error);
      } catch (err) {
        durable = Promise.reject(err);
      }
      durable.then(send, (err: unknown) => {
        // Not acknowledged: the record is not on disk (it is kept and written once it can be). The
        // trail reported the failure once already.
        if (!(err instanceof EventLogUnavailableError)) report(err);
        payload = JSON.stringify(internal());
        send();
      });
    };
    run().then(
      (output) => settle(200, output),
      (err: unknown) => {
        const kmsError = toKmsError(err, options.onInternalError);
        // A client that went quiet was answered by the server already; one that left, by nobody
        // (send skips both).
        settle(kmsError.status, errorBody(kmsError), kmsError);
      },
    );
  };

  app.use(api);

  return {
    app,
    // moto's reset path has no "sealbox" in it: sent to the admin routes by name.
    listener: options.fixture ? apiFastPath(app, api, (req) => !isMotoReset(req.url)) : apiFastPath(app, api),
    core,
    requests,
    errorResponse: (kind) => clientErrorResponse(kind, options.clock.wallNow()),
    close() {
      clearInterval(timer);
      unsubscribe();
      core.close();
    },
  };
}

/**
 * The CloudTrail record of one call: the request (apiCallEvent leaves out its secrets, plaintext
 * and ciphertext), the keys it touched, the outcome.
 */
function auditEvent(ctx: OperationContext, operation: string, input: JsonInput, error: KmsError | undefined) {
  const { audit } = ctx;
  return apiCallEvent({
    credentials: ctx.credentials,
    eventName: operation,
    region: ctx.region,
    time: ctx.now.getTime(),
    sourceIp: ctx.sourceIp,
    userAgent: ctx.userAgent,
    requestId: ctx.requestId,
    readOnly: READ_ONLY.test(operation),
    request: input,
    requestParameters: audit.requestParameters,
    responseElements: error ? null : (audit.responseElements ?? null),
    // An injected failure is marked as such (additionalEventData.sealboxInjectedFault).
    additionalEventData: error ? (audit.additionalEventData?.sealboxInjectedFault ? { sealboxInjectedFault: audit.additionalEventData.sealboxInjectedFault } : undefined) : audit.additionalEventData,
    resources: audit.keys.map((k) => ({ arn: k.arn, accountId: k.accountId })),
    // CloudTrail names KMS's AccessDeniedException AccessDenied.
    errorCode: error?.code === 'AccessDeniedException' ? 'AccessDenied' : error?.code,
    errorMessage: error?.hasMessage ? error.message : undefined,
    invokedBy: ctx.invokedBy,
  });
}

const isLoopback = (address: string | undefined) => address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';

const isTls = (req: IncomingMessage) => (req.socket as { encrypted?: boolean }).encrypted === true;

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

/**
 * What a client that left mid-request is logged as: nobody receives it. Not an internal error:
 * the server did nothing wrong, and the client already knows.
 */
class ClientDisconnected extends KmsError {
  constructor() {
    super('ClientDisconnected', 'The client closed the connection before its request was complete.', 499);
  }
}

/** The client went quiet (the idle timer or the body-rate rule answered it) or went away. */
function clientGone(err: unknown): KmsError | undefined {
  if (err instanceof RequestTimeoutError) return new KmsError('RequestTimeoutException', err.message, 408);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE') return new ClientDisconnected();
  return undefined;
}

/**
 * KMS's answers to requests Node refuses before the service sees them, to clients that go quiet
 * or too slow, and to connections past the cap, in the JSON protocol's error shape. AWS documents
 * none of these for KMS: the codes are the JSON protocol's common ones where one fits
 * (ThrottlingException, with KMS's own throttling message, so SDKs back off and retry).
 * https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html
 */
function clientErrorResponse(kind: ClientErrorKind, date: Date): ErrorResponse {
  const [status, type, message] = CLIENT_ERRORS[kind];
  return {
    status,
    headers: { 'x-amzn-RequestId': jsonRequestId(), Date: httpDate(date), 'Content-Type': JSON_11 },
    body: JSON.stringify({ __type: type, message }),
  };
}

const CLIENT_ERRORS: Record<ClientErrorKind, [number, string, string]> = {
  HeaderTooLarge: [431, 'RequestHeaderSectionTooLarge', 'Your request header section exceeds the maximum allowed size.'],
  RequestTimeout: [408, 'RequestTimeoutException', 'The client sent nothing, or too little, within the timeout period; the connection is closed.'],
  BadRequest: [400, 'BadRequestException', 'The request is not valid HTTP/1.1.'],
  TooManyConnections: [400, 'ThrottlingException', 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.'],
};

function toKmsError(err: unknown, report?: (err: unknown) => void): KmsError {
  if (err instanceof KmsError) return err;
  const gone = clientGone(err);
  if (gone) return gone;
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
  /** Serve HTTPS with this key and certificate. */
  tls?: { key: string; cert: string };
}

/** Starts the KMS service; closing the server also closes its store. */
export async function startKmsServer(options: KmsServerOptions): Promise<RunningServer & { core: KmsCore }> {
  const service = createKmsService(options);
  return { ...(await listenService(service, options.host, options.port, options.tls)), core: service.core };
}
