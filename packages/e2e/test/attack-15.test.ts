/**
 * What an outsider's attack on a running Sealbox found after issue 15's hardening, one case per
 * finding, each with the request that showed it: a request must never leave either service
 * failing, answer 5xx for bad input, or answer outside the service's format. Bounded in time;
 * the random parts are seeded (SEALBOX_ATTACK_SEED).
 */
import aws4 from 'aws4';
import { CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { ListBucketsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import { VirtualClock } from '@sealbox/runtime';
import { kmsClient, s3Client, startTestSealbox, TEST_CREDENTIALS } from './helpers';

let sealbox: Sealbox;
let kms: KMSClient;
let s3: S3Client;

beforeAll(async () => {
  sealbox = await startTestSealbox();
  kms = kmsClient(sealbox);
  s3 = s3Client(sealbox);
});
afterAll(async () => {
  kms.destroy();
  s3.destroy();
  await sealbox.stop();
});

interface Answer {
  status: number;
  type: string;
  text: string;
}

async function call(url: string, init: RequestInit): Promise<Answer> {
  const res = await fetch(url, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** A signed KMS call with a body exactly as given (the SDK would refuse to send most of these). */
function kmsCall(operation: string, body: string): Promise<Answer> {
  const url = new URL(sealbox.kms!.url);
  const signed = aws4.sign(
    { host: url.host, path: '/', method: 'POST', service: 'kms', region: 'us-east-1', body, headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `TrentService.${operation}` } },
    TEST_CREDENTIALS,
  );
  return call(`${sealbox.kms!.url}/`, { method: 'POST', headers: signed.headers as Record<string, string>, body });
}

const admin = (base: string, path: string, body: string | undefined, method = 'POST') =>
  call(`${base}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body });

/** Both services still answer an ordinary call. */
async function bothServicesAnswer(): Promise<void> {
  const key = await kms.send(new CreateKeyCommand({}));
  expect(key.KeyMetadata?.KeyId).toBeDefined();
  await expect(s3.send(new ListBucketsCommand({}))).resolves.toBeDefined();
}

describe('the admin clock cannot be moved past what a date can say', () => {
  // Found: POST /_sealbox/clock {"advanceSeconds": 1e308} was accepted; the clock became an
  // invalid Date and every later KMS and S3 request answered 500 until a restart.
  test.each([1e308, 3e11, 8.64e12])('advanceSeconds %p is refused with 400, and both services keep answering', async (advance) => {
    for (const base of [sealbox.kms!.url, sealbox.s3!.url]) {
      const refused = await admin(base, '/_sealbox/clock', JSON.stringify({ advanceSeconds: advance }));
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.text).error).toMatch(/^advanceSeconds must be at most \d+: the clock cannot pass 9999-12-31T23:59:59Z$/);
    }
    const clock = await call(`${sealbox.kms!.url}/_sealbox/clock`, {});
    expect(clock.status).toBe(200);
    expect(JSON.parse(clock.text).offsetSeconds).toBe(0);
    await bothServicesAnswer();
  });

  test('VirtualClock.advance refuses it too, and concurrent advances never pass the limit', async () => {
    let wall = Date.UTC(2026, 0, 1);
    const clock = new VirtualClock(
      () => wall,
      async (ms) => {
        wall += ms;
      },
    );
    await expect(clock.advance(1e308)).rejects.toThrow(RangeError);
    const most = clock.maxAdvanceSeconds() - 10;
    await Promise.all([clock.advance(most), clock.advance(most)]);
    expect(Number.isNaN(clock.now().getTime())).toBe(false);
    expect(clock.now().getTime()).toBeLessThanOrEqual(Date.UTC(9999, 11, 31, 23, 59, 59));
  });
});

describe('KMS validation of very long lists', () => {
  // Found: GrantTokens of 200,000 nulls (1 MB) answered 500 KMSInternalException:
  // `messages.push(...itemMessages)` passed 200,000 arguments and overflowed the stack.
  test('GrantTokens of 200,000 nulls is a ValidationException, not a 500', async () => {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
    const nulls = new Array(200_000).fill('null').join(',');
    const answer = await kmsCall('Encrypt', `{"KeyId":"${KeyMetadata!.KeyId}","Plaintext":"aGk=","GrantTokens":[${nulls}]}`);
    expect(answer.status).toBe(400);
    const body = JSON.parse(answer.text) as { __type: string; message: string };
    expect(body.__type).toBe('ValidationException');
    expect(body.message).toMatch(/^200001 validation errors detected: /);
    expect(body.message).toContain("Value null at 'grantTokens.200000.member' failed to satisfy constraint: Member must not be null");
    await bothServicesAnswer();
  });
});

describe('POST /_sealbox/seed takes a JSON object only', () => {
  // Found: a body of `null` answered 500 {"error":"internal error"} (null.keys).
  test.each(['null', '[]', '5', '"keys"', 'true'])('body %s is a 400', async (body) => {
    const answer = await admin(sealbox.kms!.url, '/_sealbox/seed', body);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toEqual({ error: 'the body must be a JSON object: {"keys": [...]}' });
  });
});

describe('admin paths that are not valid percent-encoding', () => {
  // Found: POST /_sealbox/snapshots/%ff answered express's HTML error page, with the stack
  // (the server's file paths) in it.
  test.each([
    ['POST', '/_sealbox/snapshots/%ff'],
    ['POST', '/_sealbox/snapshots/%E0%A4%A/restore'],
    ['DELETE', '/_sealbox/snapshots/%ff'],
  ])('%s %s is a JSON 400 on both services, without a stack', async (method, path) => {
    for (const base of [sealbox.kms!.url, sealbox.s3!.url]) {
      const answer = await admin(base, path, undefined, method);
      expect(answer.status).toBe(400);
      expect(answer.type).toMatch(/^application\/json/);
      expect(answer.text).not.toMatch(/node_modules|<html|at /i);
      expect(JSON.parse(answer.text).error).toMatch(/the path is not valid percent-encoding$/);
    }
  });
});

describe('event records are bounded in size', () => {
  /** CloudTrail's LookupEvents on the KMS port, signed for cloudtrail. */
  async function lookupEvents(input: Record<string, unknown>): Promise<{ Events: { EventName: string; CloudTrailEvent: string }[] }> {
    const url = new URL(sealbox.kms!.url);
    const body = JSON.stringify(input);
    const signed = aws4.sign(
      {
        host: url.host,
        path: '/',
        method: 'POST',
        service: 'cloudtrail',
        region: 'us-east-1',
        body,
        headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents' },
      },
      TEST_CREDENTIALS,
    );
    const answer = await call(`${sealbox.kms!.url}/`, { method: 'POST', headers: signed.headers as Record<string, string>, body });
    expect(answer.status).toBe(200);
    return JSON.parse(answer.text);
  }

  // Found: CreateKey with a 1 MB Description (refused by validation) was recorded with the whole
  // request and the whole error message echoing it (3 MB of JSON per event): 62 such calls made
  // one GET of the console's /api/events?limit=1000 a 186 MB answer and took the process from
  // 285 MB to 980 MB; 1,000 of them, past V8's largest string, and the page fails.
  test('a 1 MB refused request is recorded with requestParameters {"omitted": true} and a cut error message', async () => {
    const description = 'd'.repeat(1_000_000);
    const answer = await kmsCall('CreateKey', JSON.stringify({ Description: description }));
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text).__type).toBe('ValidationException');
    const { Events } = await lookupEvents({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateKey' }], MaxResults: 1 });
    const record = Events[0]!.CloudTrailEvent;
    expect(record.length).toBeLessThan(210 * 1024);
    const event = JSON.parse(record) as { requestParameters: unknown; errorCode: string; errorMessage: string };
    expect(event.requestParameters).toEqual({ omitted: true });
    expect(event.errorCode).toBe('ValidationException');
    expect(event.errorMessage.length).toBe(100 * 1024);
  });

  test('an ordinary request keeps its parameters', async () => {
    await kms.send(new CreateKeyCommand({ Description: 'kept' }));
    const { Events } = await lookupEvents({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateKey' }], MaxResults: 1 });
    expect(JSON.parse(Events[0]!.CloudTrailEvent).requestParameters).toMatchObject({ description: 'kept' });
  });
});
