import type { KmsCore } from './core';
import { KmsError } from './errors';
import type { JsonInput } from './server';

/**
 * CloudTrail's LookupEvents on the KMS port, over the records of the KMS event log, so
 * `aws cloudtrail lookup-events --endpoint-url <kms endpoint>` works.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
 */
export const CLOUDTRAIL_TARGET_PREFIX = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.';

const ATTRIBUTE_KEYS = ['EventId', 'EventName', 'ReadOnly', 'Username', 'ResourceType', 'ResourceName', 'EventSource', 'AccessKeyId'];

const cloudTrailError = (code: string, message: string) => new KmsError(code, message);

/**
 * Where the next page starts: after the last event shown, in the answer's order (time, then
 * sequence number, newest first). A token of an older Sealbox names the sequence number alone.
 */
function decodeToken(token: string): { beforeSeq: number } | { before: { time: number; seq: number } } {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const m = /^sealbox:(-?\d+):(\d+)$/.exec(text);
  if (m) return { before: { time: Number(m[1]), seq: Number(m[2]) } };
  const old = /^sealbox:(\d+)$/.exec(text);
  if (!old) throw cloudTrailError('InvalidNextTokenException', 'Invalid NextToken.');
  return { beforeSeq: Number(old[1]) };
}

export function lookupEvents(core: KmsCore, input: JsonInput, accountId: string, region: string) {
  const attributes = (input.LookupAttributes ?? []) as { AttributeKey?: unknown; AttributeValue?: unknown }[];
  if (!Array.isArray(attributes)) throw cloudTrailError('InvalidLookupAttributesException', 'LookupAttributes must be a list.');
  if (attributes.length > 1) throw cloudTrailError('InvalidLookupAttributesException', 'You cannot specify more than one lookup attribute.');
  const attribute = attributes[0];
  if (attribute && (typeof attribute.AttributeKey !== 'string' || !ATTRIBUTE_KEYS.includes(attribute.AttributeKey) || typeof attribute.AttributeValue !== 'string')) {
    throw cloudTrailError('InvalidLookupAttributesException', `AttributeKey must be one of ${ATTRIBUTE_KEYS.join(', ')}, with an AttributeValue.`);
  }
  const seconds = (name: string) => {
    const v = input[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number') throw cloudTrailError('SerializationException', `${name} must be a timestamp`);
    return Math.round(v * 1000);
  };
  const startTime = seconds('StartTime');
  const endTime = seconds('EndTime');
  if (startTime !== undefined && endTime !== undefined && startTime > endTime) {
    throw cloudTrailError('InvalidTimeRangeException', 'Start time must not be after end time.');
  }
  const max = input.MaxResults ?? 50;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 50) {
    throw cloudTrailError('InvalidMaxResultsException', 'MaxResults must be between 1 and 50.');
  }
  const after = typeof input.NextToken === 'string' ? decodeToken(input.NextToken) : {};

  core.trail.flush();
  const rows = core.store.lookupEvents({
    accountId,
    region,
    attribute: attribute ? { key: attribute.AttributeKey as string, value: attribute.AttributeValue as string } : undefined,
    startTime,
    endTime,
    ...after,
    limit: max + 1,
  });
  const shown = rows.slice(0, max);
  return {
    Events: shown.map(({ event }) => ({
      EventId: event.eventId,
      EventName: event.eventName,
      ReadOnly: String(event.readOnly),
      ...(event.accessKeyId ? { AccessKeyId: event.accessKeyId } : {}),
      EventTime: event.time / 1000,
      EventSource: 'kms.amazonaws.com',
      Username: event.username,
      Resources: event.resources.map((arn) => ({ ResourceType: 'AWS::KMS::Key', ResourceName: arn })),
      CloudTrailEvent: event.record,
    })),
    ...(rows.length > max ? { NextToken: Buffer.from(`sealbox:${shown[shown.length - 1]!.event.time}:${shown[shown.length - 1]!.seq}`).toString('base64url') } : {}),
  };
}
