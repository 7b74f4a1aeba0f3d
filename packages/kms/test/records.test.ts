import { randomUUID } from 'node:crypto';
import type { Credentials } from '@sealbox/sigv4';
import { operationShapes, recordedErrorMessage, recordedRequest, withoutHidden } from '../src/trail/hidden-members';
import { apiCallEvent, trailTime, userIdentity, type ApiCall } from '../src/trail/records';

/**
 * The record as the object JSON.stringify used to serialize (before apiCallEvent wrote its JSON
 * field by field, each field serialized once): the reference the new text must equal, byte for byte.
 */
function referenceRecord(call: ApiCall): string {
  const MAX_RECORD_DEPTH = 32;
  const MAX_FIELD_CHARS = 100 * 1024;
  const nestsDeeper = (value: unknown, max: number): boolean => {
    const stack: [unknown, number][] = [[value, 0]];
    while (stack.length > 0) {
      const [v, depth] = stack.pop()!;
      if (typeof v !== 'object' || v === null) continue;
      if (depth > max) return true;
      for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
    }
    return false;
  };
  const cut = (value: unknown, max: number): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    if (max === 0) return '(nested too deeply to record)';
    if (Array.isArray(value)) return value.map((v) => cut(v, max - 1));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cut(v, max - 1)]));
  };
  const bounded = (field: Record<string, unknown> | null): unknown => {
    if (field === null) return null;
    const shallow = nestsDeeper(field, MAX_RECORD_DEPTH - 1) ? cut(field, MAX_RECORD_DEPTH - 1) : field;
    return JSON.stringify(shallow).length > MAX_FIELD_CHARS ? { omitted: true } : shallow;
  };
  const { identity } = userIdentity(call.credentials);
  const shapes = operationShapes(call.eventName);
  const params = call.requestParameters ? withoutHidden(shapes.input, call.requestParameters) : recordedRequest(call.eventName, call.request);
  const requestParameters = bounded(Object.keys(params).length > 0 ? params : null);
  const responseElements = bounded(call.responseElements ? withoutHidden(shapes.output, call.responseElements) : null);
  const recordedMessage = recordedErrorMessage(call.eventName, call.request, call.errorMessage);
  const errorMessage = recordedMessage && recordedMessage.length > MAX_FIELD_CHARS ? recordedMessage.slice(0, MAX_FIELD_CHARS) : recordedMessage;
  if (call.invokedBy) identity.invokedBy = call.invokedBy;
  const record = {
    eventVersion: '1.11',
    userIdentity: identity,
    eventTime: new Date(call.time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: 'kms.amazonaws.com',
    eventName: call.eventName,
    awsRegion: call.region,
    sourceIPAddress: call.invokedBy ?? call.sourceIp,
    userAgent: call.invokedBy ?? call.userAgent,
    ...(call.errorCode ? { errorCode: call.errorCode, ...(errorMessage ? { errorMessage } : {}) } : {}),
    requestParameters,
    responseElements,
    ...(call.additionalEventData ? { additionalEventData: call.additionalEventData } : {}),
    requestID: call.requestId,
    eventID: 'EVENT-ID',
    readOnly: call.readOnly,
    resources: call.resources.map((r) => ({ accountId: r.accountId, type: 'AWS::KMS::Key', ARN: r.arn })),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: call.resources[0]?.accountId ?? call.credentials.accountId,
    eventCategory: 'Management',
  };
  return JSON.stringify(nestsDeeper(record, MAX_RECORD_DEPTH) ? cut(record, MAX_RECORD_DEPTH) : record);
}

const root: Credentials = { accessKeyId: 'test', secretAccessKey: 'test', accountId: '000000000000', principalArn: 'arn:aws:iam::000000000000:root' } as Credentials;
const user: Credentials = { accessKeyId: 'AKIAUSER', secretAccessKey: 's', accountId: '111122223333', principalArn: 'arn:aws:iam::111122223333:user/team/al"ice' } as Credentials;
const role: Credentials = { accessKeyId: 'ASIAROLE', secretAccessKey: 's', accountId: '111122223333', principalArn: 'arn:aws:sts::111122223333:assumed-role/Admin/session-1' } as Credentials;
const deep = (n: number): unknown => (n === 0 ? 'leaf' : { a: deep(n - 1), list: [n] });
const key = { arn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', accountId: '111122223333' };

const calls: [string, ApiCall][] = [
  ['Encrypt by root', { credentials: root, eventName: 'Encrypt', region: 'us-east-1', time: 1_764_000_000_123, sourceIp: '127.0.0.1', userAgent: 'aws-sdk-js/3 ua "quoted"', requestId: randomUUID(), readOnly: true, request: { KeyId: 'alias/x', Plaintext: 'c2VjcmV0' }, requestParameters: { keyId: 'alias/x', encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: { 'aws:s3:arn': 'arn:aws:s3:::b/k' } }, responseElements: null, resources: [key] }],
  ['a failure with its message', { credentials: user, eventName: 'Decrypt', region: 'eu-west-1', time: 0, sourceIp: '::1', userAgent: '', requestId: 'r-1', readOnly: true, request: { CiphertextBlob: 'AAAA' }, responseElements: null, resources: [], errorCode: 'InvalidCiphertextException', errorMessage: 'bad ciphertext' }],
  ['an error code without a message', { credentials: user, eventName: 'DescribeKey', region: 'us-east-1', time: 1500, sourceIp: '::1', userAgent: 'x', requestId: 'r-2', readOnly: true, request: { KeyId: 'k' }, responseElements: null, resources: [], errorCode: 'NotFoundException', errorMessage: '' }],
  ['S3 on a role session\'s behalf, with additional data and a response', { credentials: role, eventName: 'GenerateDataKey', region: 'us-west-2', time: -1500, sourceIp: '10.0.0.1', userAgent: 'boto3', requestId: 'r-3', readOnly: true, request: { KeyId: 'k', KeySpec: 'AES_256' }, responseElements: { keyId: key.arn, when: 'x' }, additionalEventData: { sealboxInjectedFault: { rule: 'r1', nested: deep(40) }, skipped: undefined }, resources: [key, { arn: 'arn:2', accountId: '444455556666' }], invokedBy: 's3.amazonaws.com' }],
  ['a request nested far too deeply (validation failure)', { credentials: root, eventName: 'CreateKey', region: 'us-east-1', time: 5, sourceIp: '127.0.0.1', userAgent: 'x', requestId: 'r-4', readOnly: false, request: { Description: deep(5000), Tags: [deep(31), deep(32), deep(33)] }, responseElements: null, resources: [], errorCode: 'ValidationException', errorMessage: 'x'.repeat(200_000) }],
  ['fields past their size', { credentials: root, eventName: 'PutKeyPolicy', region: 'us-east-1', time: 5, sourceIp: '127.0.0.1', userAgent: 'x', requestId: 'r-5', readOnly: false, request: {}, requestParameters: { policy: 'p'.repeat(120_000), keyId: 'k' }, responseElements: { big: 'r'.repeat(120_000) }, resources: [key] }],
  ['no parameters at all', { credentials: root, eventName: 'ListKeys', region: 'us-east-1', time: 5, sourceIp: '127.0.0.1', userAgent: 'x', requestId: 'r-6', readOnly: true, request: {}, responseElements: null, resources: [] }],
];

describe('the CloudTrail record, written field by field, is the JSON of the record object', () => {
  it.each(calls)('%s', (_name, call) => {
    const event = apiCallEvent(call);
    expect(event.record.replace(`"eventID":"${event.eventId}"`, '"eventID":"EVENT-ID"')).toBe(referenceRecord(call));
    // Twice: the identity worked out once per principal gives the same text again.
    const again = apiCallEvent(call);
    expect(again.record.replace(`"eventID":"${again.eventId}"`, '"eventID":"EVENT-ID"')).toBe(referenceRecord(call));
    expect(again.username).toBe(userIdentity(call.credentials).username);
  });

  it('trailTime formats to the second, across seconds and before 1970', () => {
    for (const ms of [0, 999, 1000, 1_764_000_000_999, 1_764_000_001_000, -1, -1500, 253_402_300_799_000]) {
      expect(trailTime(ms)).toBe(new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    }
    expect(() => trailTime(NaN)).toThrow(RangeError);
  });
});
