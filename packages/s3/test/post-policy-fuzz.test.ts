/**
 * Grammar-based property test of the browser-form (POST) policy verifier: random valid forms
 * (fields, `${filename}`, eq / starts-with / simple conditions, content-length-range, SigV4 or
 * SigV2 signatures) whose policy covers every field must pass verifyPostSignature and
 * checkPostPolicy with the right credentials and size range; one targeted mutation (a signature
 * bit, a field value, an uncovered field, an expired policy, a broken document) must get S3's
 * exact error. Counters assert how many forms got through both checks.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 */
import { createHmac } from 'node:crypto';
import { StaticCredentialProvider, type Credentials } from '@sealbox/sigv4';
import { Counters, type Rng, cases, forCases } from '../../e2e/test/fuzz-random';
import { S3Error } from '../src/errors';
import { checkPostPolicy, verifyPostSignature, type PostForm } from '../src/post-policy';

const ALICE: Credentials = { accessKeyId: 'AKIAALICE', secretAccessKey: 'alice/secret+key', accountId: '111122223333', principalArn: 'arn:aws:iam::111122223333:user/alice' };
const provider = new StaticCredentialProvider([ALICE]);
const REGION = 'eu-west-1';
const BUCKET = 'uploads';
const NOW = new Date('2024-05-01T10:00:00Z');
const AMZ_DATE = '20240501T100000Z';

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

interface Generated {
  fields: Record<string, string>;
  conditions: unknown[];
  expiration: string;
  fileName?: string;
  range?: [number, number];
  v2: boolean;
}

function generate(rng: Rng): Generated {
  const v2 = rng.chance(0.2);
  const fields: Record<string, string> = {};
  const conditions: unknown[] = [rng.chance(0.5) ? { bucket: BUCKET } : ['eq', '$bucket', BUCKET]];
  const fileName = rng.chance(0.5) ? rng.pick(['photo.jpg', 'C:\\docs\\a b.txt', 'dir/ü.png', '']) : undefined;
  const key = `${rng.pick(['uploads/', 'user/alice/', ''])}${rng.chance(0.5) ? '${filename}' : rng.text('abc123-_. é', 1, 12)}`;
  fields.key = key;
  const keyPrefix = key.slice(0, rng.int(0, Math.min(8, key.indexOf('$') < 0 ? key.length : key.indexOf('$'))));
  conditions.push(rng.chance(0.5) ? ['starts-with', '$key', keyPrefix] : ['starts-with', rng.pick(['$key', '$Key', '$KEY']), keyPrefix]);
  const optional: Array<[string, () => string, 'eq' | 'starts-with' | 'simple']> = [
    ['acl', () => rng.pick(['private', 'public-read']), 'eq'],
    ['Content-Type', () => rng.pick(['image/jpeg', 'text/plain', 'image/png, image/gif']), 'starts-with'],
    ['success_action_status', () => rng.pick(['200', '201', '204']), 'simple'],
    ['x-amz-meta-tag', () => rng.text('abc 123', 0, 10), 'eq'],
    ['Cache-Control', () => 'max-age=60', 'starts-with'],
    ['x-amz-server-side-encryption', () => 'AES256', 'simple'],
  ];
  for (const [name, value, kind] of rng.subset(optional, 0, optional.length)) {
    const v = value();
    fields[name] = v;
    const condName = rng.chance(0.3) ? name.toLowerCase() : name;
    if (kind === 'simple' && !rng.chance(0.3)) conditions.push({ [condName]: v });
    else if (kind === 'starts-with' || rng.chance(0.3)) conditions.push(['starts-with', `$${condName}`, name === 'Content-Type' ? v.split(',').map((x) => x.trim())[0]!.slice(0, rng.int(0, 5)) : v.slice(0, rng.int(0, v.length))]);
    else conditions.push(['eq', `$${condName}`, v]);
  }
  if (rng.chance(0.2)) fields[`x-ignore-${rng.text('abc', 1, 4)}`] = 'anything';
  let range: [number, number] | undefined;
  if (rng.chance(0.5)) {
    range = [rng.int(0, 100), rng.int(100, 10_000)];
    conditions.push(['content-length-range', rng.chance(0.5) ? range[0] : String(range[0]), range[1]]);
  }
  if (!v2) {
    fields['x-amz-algorithm'] = 'AWS4-HMAC-SHA256';
    fields['x-amz-credential'] = `${ALICE.accessKeyId}/20240501/${REGION}/s3/aws4_request`;
    fields['x-amz-date'] = AMZ_DATE;
    for (const name of ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date']) conditions.push(rng.chance(0.5) ? { [name]: fields[name]! } : ['eq', `$${name}`, fields[name]!]);
  }
  rng.shuffle(conditions);
  const expiration = rng.pick(['2024-05-01T11:00:00.000Z', '2024-05-01T10:00:01Z', '2030-01-01T00:00:00.123456Z']);
  return { fields, conditions, expiration, fileName, range, v2 };
}

function sign(g: Generated, policyText?: string): PostForm {
  const policy = Buffer.from(policyText ?? JSON.stringify({ expiration: g.expiration, conditions: g.conditions })).toString('base64');
  const fields: Record<string, string> = { ...g.fields, policy };
  if (g.v2) {
    fields.AWSAccessKeyId = ALICE.accessKeyId;
    fields.signature = createHmac('sha1', ALICE.secretAccessKey).update(policy, 'utf8').digest('base64');
  } else {
    const key = hmac(hmac(hmac(hmac(`AWS4${ALICE.secretAccessKey}`, '20240501'), REGION), 's3'), 'aws4_request');
    fields['x-amz-signature'] = createHmac('sha256', key).update(policy, 'utf8').digest('hex');
  }
  return { fields: new Map(Object.entries(fields).map(([k, v]) => [k.toLowerCase(), v])), fileName: g.fileName };
}

function outcome(form: PostForm, now = NOW): string {
  try {
    const creds = verifyPostSignature(form, { credentials: provider, region: REGION, now });
    if (creds?.accessKeyId !== ALICE.accessKeyId) return 'no credentials';
    checkPostPolicy(form, BUCKET, now);
    return 'accepted';
  } catch (err) {
    if (!(err instanceof S3Error)) throw err;
    return err.code;
  }
}

describe('POST policy forms from a grammar', () => {
  it('valid forms are verified and return their size range; each mutation gets S3 exact error', () => {
    const counters = new Counters();
    forCases('post-policy', cases(800), (rng) => {
      const g = generate(rng);
      const mutation = rng.pick(['none', 'none', 'none', 'signature', 'field', 'extra-field', 'expired', 'bucket', 'bad-json', 'range-fraction', 'unknown-op', 'resigned-field']);
      if (mutation === 'none') {
        const form = sign(g);
        expect(outcome(form)).toBe('accepted');
        const range = checkPostPolicy(form, BUCKET, NOW);
        expect(range).toEqual(g.range ? { minLength: g.range[0], maxLength: g.range[1] } : undefined);
        counters.hit('accepted');
        return;
      }
      let form: PostForm;
      let expected: string;
      let now = NOW;
      switch (mutation) {
        case 'signature': {
          form = sign(g);
          const name = g.v2 ? 'signature' : 'x-amz-signature';
          const sig = form.fields.get(name)!;
          const i = rng.int(0, sig.length - 1);
          form.fields.set(name, sig.slice(0, i) + (sig[i] === 'a' ? 'b' : 'a') + sig.slice(i + 1));
          expected = 'SignatureDoesNotMatch';
          break;
        }
        case 'field': {
          // A form field changed after signing: the policy no longer holds for it.
          form = sign(g);
          form.fields.set('key', `zz-${form.fields.get('key')}`);
          expected = g.conditions.some((c) => Array.isArray(c) && String(c[1]).toLowerCase() === '$key' && c[2] === '') ? 'accepted' : 'AccessDenied';
          break;
        }
        case 'extra-field':
          form = sign(g);
          form.fields.set(rng.pick(['x-amz-meta-extra', 'content-disposition', 'expires']), 'x');
          expected = 'AccessDenied';
          break;
        case 'expired':
          form = sign(g);
          now = new Date(Date.parse(g.expiration) + rng.int(1, 86_400_000));
          expected = 'AccessDenied';
          break;
        case 'bucket':
          g.conditions = g.conditions.map((c) => (JSON.stringify(c).includes(BUCKET) ? ['eq', '$bucket', 'other-bucket'] : c));
          form = sign(g);
          expected = 'AccessDenied';
          break;
        case 'bad-json':
          form = sign(g, JSON.stringify({ expiration: g.expiration, conditions: g.conditions }).slice(0, -1));
          expected = 'InvalidPolicyDocument';
          break;
        case 'range-fraction':
          g.conditions.push(['content-length-range', 0, 1024.5]);
          form = sign(g);
          expected = 'InvalidPolicyDocument';
          break;
        case 'unknown-op':
          g.conditions.push(['ends-with', '$key', 'x']);
          form = sign(g);
          expected = 'InvalidPolicyDocument';
          break;
        default: {
          // The signer's own change to a value, with a valid signature, but the policy's eq condition fails.
          const eq = g.conditions.find((c) => Array.isArray(c) && c[0] === 'eq' && c[1] !== '$bucket' && !String(c[1]).startsWith('$x-amz-')) as string[] | undefined;
          if (!eq) return;
          const name = Object.keys(g.fields).find((k) => k.toLowerCase() === eq[1]!.slice(1).toLowerCase())!;
          g.fields[name] = `${g.fields[name]}!`;
          form = sign(g);
          expected = 'AccessDenied';
        }
      }
      const got = outcome(form, now);
      if (got !== expected) throw new Error(`mutation ${mutation}: expected ${expected}, got ${got}\n${JSON.stringify(g)}`);
      counters.hit(`refused ${mutation}`);
    });
    expect(counters.get('accepted')).toBeGreaterThanOrEqual(cases(800) / 5);
    for (const m of ['signature', 'field', 'extra-field', 'expired', 'bucket', 'bad-json', 'range-fraction', 'unknown-op']) expect(counters.get(`refused ${m}`)).toBeGreaterThanOrEqual(cases(800) / 30);
  });
});
