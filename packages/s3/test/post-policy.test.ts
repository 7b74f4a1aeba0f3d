import { createHmac } from 'node:crypto';
import { StaticCredentialProvider, type Credentials } from '@sealbox/sigv4';
import { S3Error } from '../src/errors';
import {
  MAX_POST_PRE_DATA_LENGTH,
  checkPostFileCount,
  checkPostLength,
  checkPostPolicy,
  postFieldValue,
  postObjectKey,
  postPreDataTooLarge,
  postSuccess,
  verifyPostSignature,
  type PostForm,
} from '../src/post-policy';

const ALICE: Credentials = {
  accessKeyId: 'AKIAALICE',
  secretAccessKey: 'alice/secret+key',
  accountId: '111122223333',
  principalArn: 'arn:aws:iam::111122223333:user/alice',
};
const TEMP: Credentials = {
  accessKeyId: 'ASIATEMP',
  secretAccessKey: 'temp-secret',
  accountId: '111122223333',
  principalArn: 'arn:aws:sts::111122223333:assumed-role/r/s',
  sessionToken: 'session-token-value',
};
const provider = new StaticCredentialProvider([ALICE, TEMP]);

const REGION = 'eu-west-1';
const BUCKET = 'uploads';
const NOW = new Date('2024-05-01T10:00:00Z');
const AMZ_DATE = '20240501T100000Z';
const EXPIRES = '2024-05-01T11:00:00.000Z';

// ---------------------------------------------------------------------------------------------
// Form building: signatures computed here, independently of the module under test.

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

function sigV4(policyB64: string, secret: string, date: string, region: string, service = 's3'): string {
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return createHmac('sha256', key).update(policyB64, 'utf8').digest('hex');
}

function sigV2(policyB64: string, secret: string): string {
  return createHmac('sha1', secret).update(policyB64, 'utf8').digest('base64');
}

const encodePolicy = (policy: unknown) => Buffer.from(typeof policy === 'string' ? policy : JSON.stringify(policy), 'utf8').toString('base64');

/** Lower-cases names as the operation does when it collects the fields. */
function form(fields: Record<string, string>, fileName?: string, contentType?: string): PostForm {
  return { fields: new Map(Object.entries(fields).map(([name, value]) => [name.toLowerCase(), value])), fileName, contentType };
}

interface V4Options {
  credentials?: Credentials;
  region?: string;
  date?: string;
  expiration?: string;
  /** Conditions besides the ones every signed form needs (bucket, algorithm, credential, date). */
  conditions?: unknown[];
  /** Replaces the whole policy document (object or raw JSON text). */
  policy?: unknown;
  fileName?: string;
  token?: string;
}

/** A SigV4-signed form: the fields given plus x-amz-*, policy and signature. */
function v4Form(fields: Record<string, string>, opts: V4Options = {}): PostForm {
  const creds = opts.credentials ?? ALICE;
  const date = opts.date ?? AMZ_DATE;
  const credential = `${creds.accessKeyId}/${date.slice(0, 8)}/${opts.region ?? REGION}/s3/aws4_request`;
  const auth: Record<string, string> = { 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': date };
  if (opts.token !== undefined) auth['x-amz-security-token'] = opts.token;
  const policy = opts.policy ?? {
    expiration: opts.expiration ?? EXPIRES,
    conditions: [{ bucket: BUCKET }, ...(opts.conditions ?? []), ...Object.entries(auth).map(([k, v]) => ({ [k]: v }))],
  };
  const policyB64 = encodePolicy(policy);
  return form(
    { ...fields, ...auth, policy: policyB64, 'x-amz-signature': sigV4(policyB64, creds.secretAccessKey, date.slice(0, 8), opts.region ?? REGION) },
    opts.fileName,
  );
}

/** A SigV2-signed form. */
function v2Form(fields: Record<string, string>, conditions: unknown[], creds: Credentials = ALICE, fileName?: string): PostForm {
  const policyB64 = encodePolicy({ expiration: EXPIRES, conditions: [{ bucket: BUCKET }, ...conditions] });
  return form({ ...fields, AWSAccessKeyId: creds.accessKeyId, policy: policyB64, signature: sigV2(policyB64, creds.secretAccessKey) }, fileName);
}

const verify = (f: PostForm, region = REGION) => verifyPostSignature(f, { credentials: provider, region, now: NOW });

/** The S3Error a call throws (fails the test if it returns or throws something else). */
function thrown(fn: () => unknown): S3Error {
  try {
    fn();
  } catch (err) {
    if (err instanceof S3Error) return err;
    throw err;
  }
  throw new Error('expected an S3Error to be thrown');
}

function expectError(fn: () => unknown, code: string, status: number, message: string, fields?: [string, string][]): void {
  const err = thrown(fn);
  expect({ code: err.code, status: err.status, message: err.message }).toEqual({ code, status, message });
  if (fields) expect(err.fields).toEqual(fields);
}

const expectDenied = (fn: () => unknown, detail: string) => expectError(fn, 'AccessDenied', 403, `Invalid according to Policy: ${detail}`);
const expectInvalidPolicy = (fn: () => unknown, detail: string) => expectError(fn, 'InvalidPolicyDocument', 400, `Invalid Policy: ${detail}`);

// ---------------------------------------------------------------------------------------------

describe("AWS's SigV4 POST example (sigv4-post-example)", () => {
  const EXAMPLE: Credentials = {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    accountId: '123456789012',
    principalArn: 'arn:aws:iam::123456789012:root',
  };
  // The policy exactly as the page gives it (CRLF line ends), and the signature it states.
  const POLICY =
    'eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9';
  const SIGNATURE = '8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e';
  const example = () =>
    form(
      {
        key: 'user/user1/${filename}',
        acl: 'public-read',
        success_action_redirect: 'http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html',
        'Content-Type': 'image/jpeg',
        'x-amz-meta-uuid': '14365123651274',
        'x-amz-server-side-encryption': 'AES256',
        'X-Amz-Credential': 'AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request',
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Date': '20151229T000000Z',
        'x-amz-meta-tag': '',
        Policy: POLICY,
        'X-Amz-Signature': SIGNATURE,
      },
      'photo.jpg',
      'image/jpeg',
    );

  it('our signing reproduces the stated signature', () => {
    expect(sigV4(POLICY, EXAMPLE.secretAccessKey, '20151229', 'us-east-1')).toBe(SIGNATURE);
  });

  it('verifies, passes the policy, and redirects', () => {
    const f = example();
    const opts = { credentials: new StaticCredentialProvider([EXAMPLE]), region: 'us-east-1', now: new Date('2015-12-29T00:05:00Z') };
    expect(verifyPostSignature(f, opts)).toBe(EXAMPLE);
    expect(checkPostPolicy(f, 'sigv4examplebucket', opts.now)).toBeUndefined();
    expect(postObjectKey(f)).toBe('user/user1/photo.jpg');
    expect(postSuccess(f, { bucket: 'sigv4examplebucket', key: 'user/user1/photo.jpg', etag: '"abc"', location: 'x' })).toEqual({
      status: 303,
      headers: {
        Location: 'http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html?bucket=sigv4examplebucket&key=user%2Fuser1%2Fphoto.jpg&etag=%22abc%22',
      },
    });
  });

  it('is expired after its expiration', () => {
    expectDenied(() => checkPostPolicy(example(), 'sigv4examplebucket', new Date('2015-12-30T12:00:00.001Z')), 'Policy expired.');
    expect(checkPostPolicy(example(), 'sigv4examplebucket', new Date('2015-12-30T12:00:00.000Z'))).toBeUndefined();
  });
});

describe('verifyPostSignature', () => {
  it('returns the signer of a valid SigV4 form', () => {
    expect(verify(v4Form({ key: 'a.txt' }))).toBe(ALICE);
  });

  it('accepts field names in any case', () => {
    const f = v4Form({ key: 'a.txt' });
    const upper = form(Object.fromEntries([...f.fields].map(([k, v]) => [k.toUpperCase(), v])));
    expect(verify(upper)).toBe(ALICE);
  });

  it('returns the signer of a valid SigV2 form', () => {
    expect(verify(v2Form({ key: 'a.txt' }, [{ key: 'a.txt' }]))).toBe(ALICE);
  });

  it('returns undefined for an anonymous form, with or without a policy', () => {
    expect(verify(form({ key: 'a.txt', acl: 'public-read' }))).toBeUndefined();
    expect(verify(form({ key: 'a.txt', policy: encodePolicy({ expiration: EXPIRES, conditions: [] }) }))).toBeUndefined();
  });

  it('rejects a wrong SigV4 signature with the policy as the string to sign', () => {
    const f = v4Form({ key: 'a.txt' });
    const policy = f.fields.get('policy')!;
    f.fields.set('x-amz-signature', '0'.repeat(64));
    expectError(() => verify(f), 'SignatureDoesNotMatch', 403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', [
      ['AWSAccessKeyId', ALICE.accessKeyId],
      ['StringToSign', policy],
      ['SignatureProvided', '0'.repeat(64)],
      ['StringToSignBytes', Buffer.from(policy).toString('hex').match(/../g)!.join(' ')],
    ]);
  });

  it('rejects a policy changed after signing', () => {
    const f = v4Form({ key: 'a.txt' });
    f.fields.set('policy', f.fields.get('policy')!.slice(0, -2));
    expect(thrown(() => verify(f)).code).toBe('SignatureDoesNotMatch');
  });

  it('rejects a signature made with another secret, or for another region or service', () => {
    const f = v4Form({ key: 'a.txt' });
    const policy = f.fields.get('policy')!;
    for (const signature of [sigV4(policy, 'wrong', '20240501', REGION), sigV4(policy, ALICE.secretAccessKey, '20240501', REGION, 'kms')]) {
      f.fields.set('x-amz-signature', signature);
      expect(thrown(() => verify(f)).code).toBe('SignatureDoesNotMatch');
    }
  });

  it('rejects a wrong SigV2 signature', () => {
    const f = v2Form({ key: 'a.txt' }, [{ key: 'a.txt' }]);
    f.fields.set('signature', sigV2(f.fields.get('policy')!, 'wrong'));
    const err = thrown(() => verify(f));
    expect(err.code).toBe('SignatureDoesNotMatch');
    expect(err.fields.slice(0, 2)).toEqual([
      ['AWSAccessKeyId', ALICE.accessKeyId],
      ['StringToSign', f.fields.get('policy')],
    ]);
  });

  it('rejects an unknown access key (SigV4 and SigV2)', () => {
    const unknown = { ...ALICE, accessKeyId: 'AKIANOBODY' };
    const message = 'The AWS Access Key Id you provided does not exist in our records.';
    expectError(() => verify(v4Form({ key: 'a.txt' }, { credentials: unknown })), 'InvalidAccessKeyId', 403, message, [['AWSAccessKeyId', 'AKIANOBODY']]);
    expectError(() => verify(v2Form({ key: 'a.txt' }, [], unknown)), 'InvalidAccessKeyId', 403, message, [['AWSAccessKeyId', 'AKIANOBODY']]);
  });

  it('names the first missing signature field', () => {
    const missing = (name: string) => `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`;
    const drop = (f: PostForm, ...names: string[]) => {
      for (const name of names) f.fields.delete(name);
      return f;
    };
    expectError(() => verify(drop(v4Form({ key: 'a' }), 'x-amz-signature')), 'InvalidArgument', 400, missing('X-Amz-Signature'), [
      ['ArgumentName', 'X-Amz-Signature'],
      ['ArgumentValue', ''],
    ]);
    expectError(() => verify(drop(v4Form({ key: 'a' }), 'x-amz-algorithm', 'x-amz-credential')), 'InvalidArgument', 400, missing('X-Amz-Algorithm'));
    expectError(() => verify(drop(v4Form({ key: 'a' }), 'policy')), 'InvalidArgument', 400, missing('Policy'));
    expectError(() => verify(drop(v2Form({ key: 'a' }, []), 'awsaccesskeyid')), 'InvalidArgument', 400, missing('AWSAccessKeyId'));
    expectError(() => verify(drop(v2Form({ key: 'a' }, []), 'signature')), 'InvalidArgument', 400, missing('Signature'));
  });

  it('rejects a credential scope for another region', () => {
    const f = v4Form({ key: 'a.txt' }, { region: 'us-east-1' });
    const credential = f.fields.get('x-amz-credential')!;
    expectError(() => verify(f), 'InvalidArgument', 400, "the region 'us-east-1' is wrong; expecting 'eu-west-1'", [
      ['ArgumentName', 'X-Amz-Credential'],
      ['ArgumentValue', credential],
      ['Region', 'eu-west-1'],
    ]);
    // The same form is fine for a bucket in us-east-1.
    expect(verify(f, 'us-east-1')).toBe(ALICE);
  });

  it('rejects malformed credentials', () => {
    const withCredential = (credential: string) => {
      const f = v4Form({ key: 'a.txt' });
      f.fields.set('x-amz-credential', credential);
      return f;
    };
    const cases: [string, string][] = [
      ['AKIAALICE/20240501/eu-west-1/s3', 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'],
      ['/20240501/eu-west-1/s3/aws4_request', 'a non-empty Access Key (AKID) must be provided in the credential.'],
      ['AKIAALICE/2024-05-01/eu-west-1/s3/aws4_request', 'incorrect date format "2024-05-01". This date in the credential must be in the format "yyyyMMdd".'],
      ['AKIAALICE/20240501/eu-west-1/kms/aws4_request', 'incorrect service "kms". This endpoint belongs to "s3".'],
      ['AKIAALICE/20240501/eu-west-1/s3/aws4_req', 'incorrect terminal "aws4_req". This endpoint uses "aws4_request".'],
    ];
    for (const [credential, message] of cases) {
      expectError(() => verify(withCredential(credential)), 'InvalidArgument', 400, message, [
        ['ArgumentName', 'X-Amz-Credential'],
        ['ArgumentValue', credential],
      ]);
    }
  });

  it('rejects a malformed x-amz-date and another algorithm', () => {
    const f = v4Form({ key: 'a.txt' });
    f.fields.set('x-amz-date', '2024-05-01T10:00:00Z');
    expectError(() => verify(f), 'InvalidArgument', 400, 'X-Amz-Date must be formated via ISO8601 Long format', [
      ['ArgumentName', 'X-Amz-Date'],
      ['ArgumentValue', '2024-05-01T10:00:00Z'],
    ]);
    const g = v4Form({ key: 'a.txt' });
    g.fields.set('x-amz-algorithm', 'AWS4-HMAC-SHA1');
    expect(thrown(() => verify(g)).fields).toEqual([
      ['ArgumentName', 'X-Amz-Algorithm'],
      ['ArgumentValue', 'AWS4-HMAC-SHA1'],
    ]);
  });

  it('requires the session token of temporary credentials, and refuses one for permanent credentials', () => {
    expect(verify(v4Form({ key: 'a.txt' }, { credentials: TEMP, token: TEMP.sessionToken }))).toBe(TEMP);
    expect(thrown(() => verify(v4Form({ key: 'a.txt' }, { credentials: TEMP }))).code).toBe('InvalidToken');
    expect(thrown(() => verify(v4Form({ key: 'a.txt' }, { credentials: TEMP, token: 'other' }))).code).toBe('InvalidToken');
    expect(thrown(() => verify(v4Form({ key: 'a.txt' }, { token: 'stray' }))).code).toBe('InvalidToken');
  });
});

describe('checkPostPolicy', () => {
  it('accepts a form that meets every condition and returns the size range', () => {
    const f = v4Form(
      { key: 'user/42/a.txt', 'Content-Type': 'text/plain', 'x-amz-meta-note': 'hi', success_action_status: '201' },
      {
        conditions: [
          ['starts-with', '$key', 'user/42/'],
          ['eq', '$Content-Type', 'text/plain'],
          ['starts-with', '$x-amz-meta-note', ''],
          { success_action_status: '201' },
          ['content-length-range', 1, 1024],
        ],
      },
    );
    expect(checkPostPolicy(f, BUCKET, NOW)).toEqual({ minLength: 1, maxLength: 1024 });
  });

  it('returns undefined without a content-length-range, or without a policy (anonymous)', () => {
    expect(checkPostPolicy(v4Form({ key: 'a' }, { conditions: [{ key: 'a' }] }), BUCKET, NOW)).toBeUndefined();
    expect(checkPostPolicy(form({ key: 'a', acl: 'public-read' }), BUCKET, NOW)).toBeUndefined();
  });

  it('accepts a SigV2 form, whose AWSAccessKeyId and signature need no condition', () => {
    expect(checkPostPolicy(v2Form({ key: 'a' }, [{ key: 'a' }, ['content-length-range', '0', '10']]), BUCKET, NOW)).toEqual({ minLength: 0, maxLength: 10 });
  });

  it('rejects an expired policy', () => {
    const f = v4Form({ key: 'a' }, { conditions: [{ key: 'a' }], expiration: '2024-05-01T09:59:59Z' });
    expectError(() => checkPostPolicy(f, BUCKET, NOW), 'AccessDenied', 403, 'Invalid according to Policy: Policy expired.');
  });

  it('rejects a failed eq condition, printed as S3 prints it', () => {
    const f = v4Form({ key: 'a', 'Content-Type': 'text/html' }, { conditions: [{ key: 'a' }, ['eq', '$Content-Type', 'text/plain']] });
    expectDenied(() => checkPostPolicy(f, BUCKET, NOW), 'Policy Condition failed: ["eq", "$Content-Type", "text/plain"]');
  });

  it('prints a failed simple condition as the eq it stands for, escaping quotes', () => {
    const f = v4Form({ key: 'a', 'Content-Disposition': 'inline' }, { conditions: [{ key: 'a' }, { 'Content-Disposition': 'filename="test.png"' }] });
    expectDenied(() => checkPostPolicy(f, BUCKET, NOW), 'Policy Condition failed: ["eq", "$Content-Disposition", "filename=\\"test.png\\""]');
  });

  it('rejects a bucket other than the one in the policy', () => {
    const f = v4Form({ key: 'a' }, { conditions: [{ key: 'a' }] });
    expectDenied(() => checkPostPolicy(f, 'other-bucket', NOW), `Policy Condition failed: ["eq", "$bucket", "${BUCKET}"]`);
  });

  it('rejects a failed starts-with condition; values are case-sensitive', () => {
    const cond = ['starts-with', '$key', 'user/42/'];
    expectDenied(() => checkPostPolicy(v4Form({ key: 'user/43/a' }, { conditions: [cond] }), BUCKET, NOW), 'Policy Condition failed: ["starts-with", "$key", "user/42/"]');
    expectDenied(() => checkPostPolicy(v4Form({ key: 'USER/42/a' }, { conditions: [cond] }), BUCKET, NOW), 'Policy Condition failed: ["starts-with", "$key", "user/42/"]');
  });

  it('fails a condition on an absent field, even starts-with ""', () => {
    const f = v4Form({ key: 'a' }, { conditions: [{ key: 'a' }, ['starts-with', '$Content-Type', '']] });
    expectDenied(() => checkPostPolicy(f, BUCKET, NOW), 'Policy Condition failed: ["starts-with", "$Content-Type", ""]');
  });

  it('fails a condition whose field is not written with $', () => {
    const f = v4Form({ key: 'a' }, { conditions: [['eq', 'key', 'a']] });
    expectDenied(() => checkPostPolicy(f, BUCKET, NOW), 'Policy Condition failed: ["eq", "key", "a"]');
  });

  it('matches field names and operators case-insensitively', () => {
    const f = v4Form(
      { KEY: 'foo.txt', 'x-amz-meta-TEST-2': 'v', Success_Action_Redirect: 'https://example.com/' },
      { conditions: [['StArTs-WiTh', '$KeY', 'foo'], { 'X-Amz-Meta-Test-2': 'v' }, ['eq', '$success_Action_REDIRECT', 'https://example.com/']] },
    );
    expect(checkPostPolicy(f, BUCKET, NOW)).toBeUndefined();
  });

  it('treats a comma-separated Content-Type as a list for starts-with', () => {
    const withType = (type: string) => v4Form({ key: 'a', 'Content-Type': type }, { conditions: [{ key: 'a' }, ['starts-with', '$Content-Type', 'image/']] });
    expect(checkPostPolicy(withType('image/jpg,image/png, image/gif'), BUCKET, NOW)).toBeUndefined();
    expectDenied(() => checkPostPolicy(withType('image/jpg,text/plain'), BUCKET, NOW), 'Policy Condition failed: ["starts-with", "$Content-Type", "image/"]');
  });

  it('expands ${filename} before matching', () => {
    const f = v4Form({ key: 'user/42/${filename}' }, { conditions: [['eq', '$key', 'user/42/cv.pdf']], fileName: 'C:\\Users\\me\\cv.pdf' });
    expect(checkPostPolicy(f, BUCKET, NOW)).toBeUndefined();
  });

  it('rejects a field no condition covers', () => {
    const f = v4Form({ key: 'a', 'x-amz-meta-foo': 'bar' }, { conditions: [{ key: 'a' }] });
    expectDenied(() => checkPostPolicy(f, BUCKET, NOW), 'Extra input fields: x-amz-meta-foo');
    const g = v4Form({ key: 'a', 'Content-Type': 'text/plain', acl: 'private' }, { conditions: [{ key: 'a' }] });
    expectDenied(() => checkPostPolicy(g, BUCKET, NOW), 'Extra input fields: content-type, acl');
  });

  it('requires conditions on the x-amz-* signing fields of a SigV4 form', () => {
    const f = v4Form({ key: 'a' }, { policy: { expiration: EXPIRES, conditions: [{ bucket: BUCKET }, { key: 'a' }] } });
    expectDenied(() => checkPostPolicy(f, BUCKET, NOW), 'Extra input fields: x-amz-algorithm, x-amz-credential, x-amz-date');
  });

  it('ignores x-ignore-* fields, and covers a bucket field with the bucket condition', () => {
    const f = v4Form({ key: 'a', 'x-ignore-flash': '1', bucket: BUCKET }, { conditions: [{ key: 'a' }] });
    expect(checkPostPolicy(f, BUCKET, NOW)).toBeUndefined();
  });

  it('takes content-length-range bounds as integers or digit strings', () => {
    expect(checkPostPolicy(v4Form({ key: 'a' }, { conditions: [{ key: 'a' }, ['content-length-range', '5', '10']] }), BUCKET, NOW)).toEqual({ minLength: 5, maxLength: 10 });
    expectDenied(
      () => checkPostPolicy(v4Form({ key: 'a' }, { conditions: [{ key: 'a' }, ['content-length-range', 'test', '10']] }), BUCKET, NOW),
      'Policy Condition failed: ["content-length-range", "test", "10"]',
    );
  });

  describe('malformed policies', () => {
    const withPolicy = (policy: unknown) => v4Form({ key: 'a' }, { policy });

    it('is not JSON', () => {
      expectInvalidPolicy(() => checkPostPolicy(withPolicy('{"expiration": '), BUCKET, NOW), 'Invalid JSON.');
      expectInvalidPolicy(() => checkPostPolicy(withPolicy('[1, 2]'), BUCKET, NOW), 'Invalid JSON.');
    });

    it('has a fractional or negative content-length-range bound', () => {
      const text = `{"expiration": "${EXPIRES}", "conditions": [["content-length-range", 0, 512.0]]}`;
      expectInvalidPolicy(() => checkPostPolicy(withPolicy(text), BUCKET, NOW), 'Invalid JSON.');
      expectInvalidPolicy(() => checkPostPolicy(withPolicy({ expiration: EXPIRES, conditions: [['content-length-range', -1, 0]] }), BUCKET, NOW), 'Invalid JSON.');
    });

    it('lacks or misspells expiration and conditions', () => {
      expectInvalidPolicy(() => checkPostPolicy(withPolicy({ conditions: [] }), BUCKET, NOW), 'Policy missing expiration.');
      expectInvalidPolicy(() => checkPostPolicy(withPolicy({ expiration: EXPIRES }), BUCKET, NOW), 'Policy missing conditions.');
      expectInvalidPolicy(() => checkPostPolicy(withPolicy({ EXPIRATION: EXPIRES, conditions: [] }), BUCKET, NOW), "Unexpected: 'expiration'");
      expectInvalidPolicy(() => checkPostPolicy(withPolicy({ expiration: EXPIRES, conditions: {} }), BUCKET, NOW), "Invalid 'conditions' value: must be a List.");
    });

    it('has an expiration that is not ISO 8601 UTC', () => {
      for (const expiration of ['2024-05-01T11:00:00+02:00', '2024-05-01 11:00:00 UTC', '2024-13-01T11:00:00Z']) {
        expectInvalidPolicy(() => checkPostPolicy(withPolicy({ expiration, conditions: [] }), BUCKET, NOW), `Invalid 'expiration' value: '${expiration}'`);
      }
    });

    it('has malformed conditions', () => {
      const check = (condition: unknown) => () => checkPostPolicy(withPolicy({ expiration: EXPIRES, conditions: [condition] }), BUCKET, NOW);
      expectInvalidPolicy(check({ bucket: BUCKET, key: 'a' }), 'Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
      expectInvalidPolicy(check({}), 'Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
      expectInvalidPolicy(check({ 'Content-Length': 6199034 }), 'Invalid Simple-Condition: value must be a string.');
      expectInvalidPolicy(check({ success_action_redirect: null }), 'Invalid JSON.');
      expectInvalidPolicy(check([]), 'Invalid Condition: missing operation identifier.');
      expectInvalidPolicy(check(['matches', '$key', 'a']), "Invalid Condition: unknown operation 'matches'.");
      expectInvalidPolicy(check(['content-length-range', 0]), 'Invalid content-length-range: wrong number of arguments.');
      expectInvalidPolicy(check(['eq', '$key', 5]), 'Invalid JSON.');
      expectInvalidPolicy(check('key'), 'Invalid condition test: must be a List or Object.');
    });
  });
});

describe('checkPostLength', () => {
  const range = { minLength: 5, maxLength: 10 };

  it('accepts sizes within the inclusive bounds, and anything without a range', () => {
    expect(() => checkPostLength(range, 5)).not.toThrow();
    expect(() => checkPostLength(range, 10)).not.toThrow();
    expect(() => checkPostLength(undefined, 1e12)).not.toThrow();
    expect(() => checkPostLength({ maxLength: 3 }, 0)).not.toThrow();
  });

  it('rejects an upload that is too large', () => {
    expectError(() => checkPostLength(range, 12), 'EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size', [
      ['ProposedSize', '12'],
      ['MaxSizeAllowed', '10'],
    ]);
  });

  it('rejects an upload that is too small', () => {
    expectError(() => checkPostLength(range, 1), 'EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed size', [
      ['ProposedSize', '1'],
      ['MinSizeAllowed', '5'],
    ]);
  });
});

describe('postObjectKey', () => {
  it('substitutes ${filename}, keeping only the name after the last slash or backslash', () => {
    expect(postObjectKey(form({ key: 'uploads/${filename}' }, 'report.pdf'))).toBe('uploads/report.pdf');
    expect(postObjectKey(form({ key: 'u/${filename}' }, 'C:\\Program Files\\directory1\\file.txt'))).toBe('u/file.txt');
    expect(postObjectKey(form({ key: 'u/${filename}' }, '/home/me/a b.txt'))).toBe('u/a b.txt');
    expect(postObjectKey(form({ key: '${filename}/${filename}' }, 'x'))).toBe('x/x');
    expect(postObjectKey(form({ key: 'plain.txt' }, 'ignored.txt'))).toBe('plain.txt');
  });

  it('keeps ${filename} when the file part has no filename', () => {
    expect(postObjectKey(form({ key: 'file-as-field-${filename}' }))).toBe('file-as-field-${filename}');
  });

  it('requires a key field', () => {
    const message = "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.";
    const fields: [string, string][] = [
      ['ArgumentName', 'key'],
      ['ArgumentValue', ''],
    ];
    expectError(() => postObjectKey(form({ acl: 'private' }, 'a.txt')), 'InvalidArgument', 400, message, fields);
    expectError(() => postObjectKey(form({ key: '' }, 'a.txt')), 'InvalidArgument', 400, message, fields);
  });

  it('expands other fields the same way', () => {
    expect(postFieldValue(form({ 'X-Amz-Meta-Name': 'orig-${filename}' }, 'a.txt'), 'x-amz-meta-name')).toBe('orig-a.txt');
    expect(postFieldValue(form({}), 'absent')).toBeUndefined();
  });
});

describe('postSuccess', () => {
  const result = { bucket: BUCKET, key: 'user/42/a b.txt', etag: '"9b2cf535f27731c974343645a3985328"', location: 'http://localhost:4566/uploads/user/42/a%20b.txt' };

  it('answers 204 by default, and for a status it does not know', () => {
    for (const f of [form({ key: 'k' }), form({ key: 'k', success_action_status: '404' }), form({ key: 'k', success_action_status: '204' })]) {
      expect(postSuccess(f, result)).toEqual({ status: 204, headers: { ETag: result.etag, Location: result.location } });
    }
  });

  it('answers 200 with an empty body', () => {
    expect(postSuccess(form({ success_action_status: '200' }), result)).toEqual({ status: 200, headers: { ETag: result.etag, Location: result.location } });
  });

  it('answers 201 with a PostResponse document', () => {
    const response = postSuccess(form({ success_action_status: '201' }), { ...result, key: 'a&b<c>.txt' });
    expect(response.status).toBe(201);
    expect(response.headers).toEqual({ ETag: result.etag, Location: result.location, 'Content-Type': 'application/xml' });
    expect(response.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>' +
        `<Location>${result.location}</Location><Bucket>uploads</Bucket><Key>a&amp;b&lt;c&gt;.txt</Key>` +
        '<ETag>"9b2cf535f27731c974343645a3985328"</ETag></PostResponse>',
    );
  });

  it('redirects with 303, appending bucket, key and etag to the query', () => {
    expect(postSuccess(form({ success_action_redirect: 'https://app.example.com/done', success_action_status: '201' }), result)).toEqual({
      status: 303,
      headers: { Location: 'https://app.example.com/done?bucket=uploads&key=user%2F42%2Fa+b.txt&etag=%229b2cf535f27731c974343645a3985328%22' },
    });
    expect(postSuccess(form({ success_action_redirect: 'https://app.example.com/done?x=1#top' }), result).headers.Location).toBe(
      'https://app.example.com/done?x=1&bucket=uploads&key=user%2F42%2Fa+b.txt&etag=%229b2cf535f27731c974343645a3985328%22#top',
    );
  });

  it('honours the deprecated redirect field', () => {
    expect(postSuccess(form({ redirect: 'http://localhost/ok' }), result).status).toBe(303);
  });

  it('ignores a redirect it cannot interpret', () => {
    expect(postSuccess(form({ success_action_redirect: '/wrong/redirect/relative' }), result).status).toBe(204);
    expect(postSuccess(form({ success_action_redirect: '/relative', success_action_status: '201' }), result).status).toBe(201);
  });
});

describe('form limits', () => {
  it('requires exactly one file', () => {
    expect(() => checkPostFileCount(1)).not.toThrow();
    expectError(() => checkPostFileCount(0), 'InvalidArgument', 400, 'POST requires exactly one file upload per request.', [
      ['ArgumentName', 'file'],
      ['ArgumentValue', '0'],
    ]);
  });

  it('reports fields before the file that are too large', () => {
    const err = postPreDataTooLarge();
    expect({ code: err.code, status: err.status, fields: err.fields }).toEqual({
      code: 'MaxPostPreDataLengthExceeded',
      status: 400,
      fields: [['MaxPostPreDataLengthBytes', String(MAX_POST_PRE_DATA_LENGTH)]],
    });
  });
});
