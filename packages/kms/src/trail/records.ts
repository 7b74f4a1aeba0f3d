import { randomBytes } from 'node:crypto';
import type { Credentials } from '@sealbox/sigv4';
import type { KeyRecord } from '../model';
import type { StoredEvent } from '../store/kms-store';
import { operationShapes, recordedErrorMessage, recordedRequest, withoutHidden } from './hidden-members';

/** CloudTrail writes times to the second: 2026-11-27T10:00:00Z (formatted once a second, not once a record). */
export const trailTime = (ms: number): string => {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastTime = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    lastSecond = second;
  }
  return lastTime;
};
let lastSecond = NaN;
let lastTime = '';

const EVENT_VERSION = '1.11';

const JAVA_DATE = new Intl.DateTimeFormat('en-US', {
  timeZone: 'UTC',
  month: 'short',
  day: 'numeric',
  year: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  second: '2-digit',
  hour12: true,
});

/** Dates inside responseElements are written the Java way: "Aug 10, 2022, 10:38:27 PM". */
export const javaDate = (ms: number) => JAVA_DATE.format(new Date(ms)).replace(' at ', ', ');

export type UserIdentity = Record<string, unknown>;

/** userIdentity of a caller: Root, IAMUser or AssumedRole, from its principal ARN. */
export function userIdentity(credentials: Credentials): { identity: UserIdentity; username: string } {
  return identityOf(credentials.principalArn, credentials.accountId, credentials.accessKeyId);
}

/**
 * userIdentity as JSON, worked out once per principal and access key (a pure function of the
 * two: nothing to invalidate; bounded, since seeds and tests may make many).
 */
function identityJson(credentials: Credentials): { json: string; username: string } {
  const id = `${credentials.principalArn}\n${credentials.accountId}\n${credentials.accessKeyId}`;
  let known = identities.get(id);
  if (!known) {
    const { identity, username } = userIdentity(credentials);
    known = { json: JSON.stringify(identity), username };
    if (identities.size >= IDENTITIES_MAX) identities.delete(identities.keys().next().value as string);
    identities.set(id, known);
  }
  return known;
}
const identities = new Map<string, { json: string; username: string }>();
const IDENTITIES_MAX = 4096;

function identityOf(principalArn: string, accountId: string, accessKeyId: string): { identity: UserIdentity; username: string } {
  const credentials = { principalArn, accountId, accessKeyId };
  const arn = credentials.principalArn;
  const base = { principalId: credentials.accountId, arn, accountId: credentials.accountId, accessKeyId: credentials.accessKeyId };
  if (/^arn:aws:iam::\d{12}:root$/.test(arn)) return { identity: { type: 'Root', ...base }, username: 'root' };
  const user = /^arn:aws:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (user) return { identity: { type: 'IAMUser', ...base, principalId: credentials.accessKeyId, userName: user[1] }, username: user[1]! };
  const role = /^arn:aws:sts::\d{12}:assumed-role\/([^/]+)\/(.+)$/.exec(arn);
  if (role) {
    // A role session names the role that issued it. Sealbox has no role ids: the role's principal
    // id is derived from its access key, as the session's is.
    const roleId = `AROA${credentials.accessKeyId.toUpperCase().replace(/[^A-Z0-9]/g, '')}`.slice(0, 21);
    const sessionIssuer = { type: 'Role', principalId: roleId, arn: `arn:aws:iam::${credentials.accountId}:role/${role[1]}`, accountId: credentials.accountId, userName: role[1] };
    return {
      identity: { type: 'AssumedRole', ...base, principalId: `${roleId}:${role[2]}`, sessionContext: { sessionIssuer } },
      username: role[2]!,
    };
  }
  return { identity: { type: 'Unknown', ...base }, username: arn };
}

export interface ApiCall {
  credentials: Credentials;
  eventName: string;
  region: string;
  time: number;
  sourceIp: string;
  userAgent: string;
  requestId: string;
  readOnly: boolean;
  /** The request as it arrived (parsed JSON, not yet validated). */
  request: Record<string, unknown>;
  /** What the operation recorded in place of the request's members (CloudTrail's names). */
  requestParameters?: Record<string, unknown>;
  responseElements: Record<string, unknown> | null;
  additionalEventData?: Record<string, unknown>;
  /** Keys the call concerned: their ARNs and owning accounts. */
  resources: { arn: string; accountId: string }[];
  errorCode?: string;
  errorMessage?: string;
  /** A service acting for the caller (S3 with SSE-KMS): recorded as invokedBy. */
  invokedBy?: string;
}

/**
 * How many levels of a call's parameters a record keeps. A request that fails validation is
 * recorded with what it sent, which may nest as deep as its body allows; JSON.stringify recurses
 * and overflows the stack on a few thousand levels. No valid KMS request nests more than four.
 */
const MAX_RECORD_DEPTH = 32;
const TOO_DEEP = '(nested too deeply to record)';

/** Whether an object or array lies deeper than `max` levels (recursion at most max + 2 deep). */
function nestsDeeper(value: unknown, max: number, depth = 0): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (depth > max) return true;
  for (const child of Array.isArray(value) ? value : Object.values(value)) if (nestsDeeper(child, max, depth + 1)) return true;
  return false;
}

/** A copy cut at `max` levels (called only on values that nest deeper; recursion stays shallow). */
function cut(value: unknown, max: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (max === 0) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((v) => cut(v, max - 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cut(v, max - 1)]));
}

/**
 * The largest request parameters, response elements or error message a record keeps. A request
 * that fails validation is recorded with what it sent, up to the 1 MiB body (and its error message
 * echoes the value again): without a bound, one console or LookupEvents page of such records is
 * gigabytes. CloudTrail itself truncates a field past its maximum size and says so with
 * `"omitted": true`; its documented maximum for responseElements is 100 KB.
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 */
const MAX_FIELD_CHARS = 100 * 1024;

/**
 * A field's JSON as recorded: `{"omitted":true}` in place of one whose JSON is larger than
 * MAX_FIELD_CHARS. Serialized once, measured, and that text goes into the record.
 */
function boundedJson(field: Record<string, unknown> | null): string {
  if (field === null) return 'null';
  // Measured as it will be written: cut first when too deep (JSON.stringify would overflow). A
  // field is one level below the record, so it keeps one level fewer than a record does.
  const json = JSON.stringify(nestsDeeper(field, MAX_RECORD_DEPTH - 1) ? cut(field, MAX_RECORD_DEPTH - 1) : field);
  return json.length > MAX_FIELD_CHARS ? '{"omitted":true}' : json;
}

/** JSON of a record, with whatever a caller sent nested too deeply replaced by a note. */
export function recordJson(record: Record<string, unknown>): string {
  return JSON.stringify(nestsDeeper(record, MAX_RECORD_DEPTH) ? cut(record, MAX_RECORD_DEPTH) : record);
}

/**
 * The CloudTrail record of an API call, in CloudTrail's field order. Whatever the call recorded,
 * its hidden members (secrets, plaintext, ciphertext: see hidden-members.ts) are left out here,
 * from the request, from what the operation wrote, and from the error message.
 */
export function apiCallEvent(call: ApiCall): StoredEvent {
  const { json: identity, username } = identityJson(call.credentials);
  const shapes = operationShapes(call.eventName);
  const params = call.requestParameters ? withoutHidden(shapes.input, call.requestParameters) : recordedRequest(call.eventName, call.request);
  const requestParameters = boundedJson(Object.keys(params).length > 0 ? params : null);
  const responseElements = boundedJson(call.responseElements ? withoutHidden(shapes.output, call.responseElements) : null);
  const recordedMessage = recordedErrorMessage(call.eventName, call.request, call.errorMessage);
  const errorMessage = recordedMessage && recordedMessage.length > MAX_FIELD_CHARS ? recordedMessage.slice(0, MAX_FIELD_CHARS) : recordedMessage;
  const eventId = eventIdAt(call.time);
  const recipient = call.resources[0]?.accountId ?? call.credentials.accountId;
  const extra = call.additionalEventData;
  // The record's JSON in CloudTrail's field order, each field serialized once: the same text
  // JSON.stringify gives for the record object (records.test.ts holds the two side by side).
  // Only the caller's fields may nest deeply; each is cut on its own (boundedJson), as a cut of
  // the whole record at MAX_RECORD_DEPTH would cut them.
  const record =
    `{"eventVersion":"${EVENT_VERSION}","userIdentity":` +
    (call.invokedBy ? `${identity.slice(0, -1)},"invokedBy":${JSON.stringify(call.invokedBy)}}` : identity) +
    `,"eventTime":"${trailTime(call.time)}","eventSource":"kms.amazonaws.com","eventName":${JSON.stringify(call.eventName)}` +
    `,"awsRegion":${JSON.stringify(call.region)},"sourceIPAddress":${JSON.stringify(call.invokedBy ?? call.sourceIp)},"userAgent":${JSON.stringify(call.invokedBy ?? call.userAgent)}` +
    (call.errorCode ? `,"errorCode":${JSON.stringify(call.errorCode)}${errorMessage ? `,"errorMessage":${JSON.stringify(errorMessage)}` : ''}` : '') +
    `,"requestParameters":${requestParameters},"responseElements":${responseElements}` +
    (extra ? `,"additionalEventData":${JSON.stringify(nestsDeeper(extra, MAX_RECORD_DEPTH - 1) ? cut(extra, MAX_RECORD_DEPTH - 1) : extra)}` : '') +
    `,"requestID":${JSON.stringify(call.requestId)},"eventID":"${eventId}","readOnly":${call.readOnly}` +
    `,"resources":${JSON.stringify(call.resources.map((r) => ({ accountId: r.accountId, type: 'AWS::KMS::Key', ARN: r.arn })))}` +
    `,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":${JSON.stringify(recipient)},"eventCategory":"Management"}`;
  return {
    eventId,
    time: call.time,
    accountId: call.credentials.accountId,
    recipientAccountId: recipient,
    region: call.region,
    eventName: call.eventName,
    username,
    accessKeyId: call.credentials.accessKeyId,
    readOnly: call.readOnly,
    errorCode: call.errorCode,
    resources: call.resources.map((r) => r.arn),
    record,
  };
}

/** An event KMS performs itself (automatic rotation, deletion at the end of the waiting period). */
export function serviceEvent(key: KeyRecord, eventName: string, time: number, details: Record<string, unknown> | null): StoredEvent {
  const eventId = eventIdAt(time);
  const record = {
    eventVersion: EVENT_VERSION,
    userIdentity: { accountId: key.accountId, invokedBy: 'AWS Internal' },
    eventTime: trailTime(time),
    eventSource: 'kms.amazonaws.com',
    eventName,
    awsRegion: key.region,
    sourceIPAddress: 'AWS Internal',
    userAgent: 'AWS Internal',
    requestParameters: null,
    responseElements: null,
    eventID: eventId,
    readOnly: false,
    resources: [{ accountId: key.accountId, type: 'AWS::KMS::Key', ARN: key.arn }],
    eventType: 'AwsServiceEvent',
    managementEvent: true,
    recipientAccountId: key.accountId,
    ...(details ? { serviceEventDetails: details } : {}),
    eventCategory: 'Management',
  };
  return {
    eventId,
    time,
    accountId: key.accountId,
    recipientAccountId: key.accountId,
    region: key.region,
    eventName,
    username: 'AWS Internal',
    accessKeyId: '',
    readOnly: false,
    resources: [key.arn],
    record: JSON.stringify(record),
  };
}

/**
 * A record's eventID: a UUID (version 7, RFC 9562) whose first 48 bits are the event's time in
 * milliseconds and the rest random, so a record read back from cloudtrail.jsonl has its time to
 * the millisecond although its eventTime has whole seconds (storedEventFromRecord).
 */
export function eventIdAt(time: number): string {
  const b = randomBytes(16);
  const ms = Math.min(Math.max(0, Math.floor(time)), 2 ** 48 - 1);
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The time an eventID made by eventIdAt carries, when it lies in the record's whole second. */
function timeOfEventId(eventId: string, second: number): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(eventId)) return undefined;
  const ms = parseInt(eventId.slice(0, 8) + eventId.slice(9, 13), 16);
  return ms >= second && ms < second + 1000 ? ms : undefined;
}

/**
 * The columns of a record read back from cloudtrail.jsonl (a record the file has and kms.db
 * lacks, after a crash): what apiCallEvent and serviceEvent derive them from is in the record,
 * the time's milliseconds in its eventID (eventIdAt; eventTime has whole seconds, which is all a
 * record written by an older Sealbox has). Undefined for a line that is not a record.
 */
export function storedEventFromRecord(line: string): StoredEvent | undefined {
  let r: unknown;
  try {
    r = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return undefined;
  const rec = r as Record<string, unknown>;
  if (typeof rec.eventID !== 'string') return undefined;
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const identity = (typeof rec.userIdentity === 'object' && rec.userIdentity !== null ? rec.userIdentity : {}) as Record<string, unknown>;
  const accountId = text(identity.accountId) ?? text(rec.recipientAccountId) ?? '';
  const accessKeyId = text(identity.accessKeyId) ?? '';
  const username =
    rec.eventType === 'AwsServiceEvent' ? 'AWS Internal' : identityOf(text(identity.arn) ?? '', accountId, accessKeyId).username;
  const time = Date.parse(text(rec.eventTime) ?? '');
  const resources = Array.isArray(rec.resources) ? rec.resources.flatMap((x: unknown) => (typeof (x as { ARN?: unknown })?.ARN === 'string' ? [(x as { ARN: string }).ARN] : [])) : [];
  return {
    eventId: rec.eventID,
    time: Number.isFinite(time) ? (timeOfEventId(rec.eventID, time) ?? time) : 0,
    accountId,
    recipientAccountId: text(rec.recipientAccountId) ?? accountId,
    region: text(rec.awsRegion) ?? '',
    eventName: text(rec.eventName) ?? '',
    username,
    accessKeyId,
    readOnly: rec.readOnly === true,
    ...(text(rec.errorCode) !== undefined ? { errorCode: text(rec.errorCode) } : {}),
    resources,
    record: line,
  };
}
