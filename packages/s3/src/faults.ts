import type { IncomingMessage } from 'node:http';
import { serverHolds, type FaultErrorCatalog, type FaultRules } from '@sealbox/runtime';
import type { S3Request } from './context';
import { S3Error } from './errors';
import { IMPLEMENTED } from './operations';

/**
 * The S3 errors a fault rule may inject, with the status and message S3 answers them with
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList). The S3
 * model lists almost no errors per operation, so these are the errors any request can meet
 * (load, internal failure, access, a vanished bucket), and NoSuchKey for requests on an object.
 */
const ERRORS: Record<string, { status: number; message: string; objectsOnly?: boolean }> = {
  SlowDown: { status: 503, message: 'Please reduce your request rate.' },
  ServiceUnavailable: { status: 503, message: 'Service is unable to handle request.' },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  RequestTimeout: { status: 400, message: 'Your socket connection to the server was not read from or written to within the timeout period.' },
  OperationAborted: { status: 409, message: 'A conflicting conditional operation is currently in progress against this resource. Try again.' },
  AccessDenied: { status: 403, message: 'Access Denied' },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.', objectsOnly: true },
};

const OPERATIONS = Object.keys(IMPLEMENTED);
const onObject = (operation: string) => /Object|Part|MultipartUpload/.test(operation) && operation !== 'ListObjects' && operation !== 'ListObjectsV2' && operation !== 'ListObjectVersions' && operation !== 'DeleteObjects' && operation !== 'ListMultipartUploads';

export const s3FaultErrors: FaultErrorCatalog = {
  operations: OPERATIONS,
  error(operation, code) {
    const info = ERRORS[code];
    if (!info) return `${code} is not an S3 error a rule can inject (${Object.keys(ERRORS).join(', ')})`;
    if (info.objectsOnly && operation !== undefined && !onObject(operation)) return `${operation} does not return ${code}: it is the answer to a request on an object`;
    return { status: info.status, message: info.message };
  },
};

/**
 * What runs as an S3 request is dispatched (authenticated and authorized, before its body is
 * accepted): the fault rules. An injected error carries `x-sealbox-injected-fault: <rule id>`,
 * so a test (and a person reading a trace) can tell it from a real one.
 */
export async function beforeDispatch(faults: FaultRules, request: S3Request, req: IncomingMessage, drop: () => void): Promise<void> {
  if (faults.size === 0) return;
  const fired = faults.match({ service: 's3', operation: request.operation, bucket: request.bucket, objectKey: request.key });
  if (!fired) return;
  const { action, ruleId } = fired;
  const wait = action.kind === 'latency' ? action.ms : (fired.latencyMs ?? 0);
  if (wait > 0) await serverHolds(req, faults.delay(ruleId, wait));
  if (action.kind === 'error') {
    const fields: [string, string][] = action.code === 'NoSuchKey' ? [['Key', request.key ?? '']] : action.code === 'NoSuchBucket' ? [['BucketName', request.bucket ?? '']] : [];
    throw new S3Error(action.code, action.status, action.message, fields, { 'x-sealbox-injected-fault': ruleId });
  }
  if (action.kind === 'drop') {
    drop();
    throw new S3Error('ConnectionDropped', 499, `Sealbox dropped the connection (fault rule ${ruleId})`);
  }
}
