/**
 * Grammar-based property test of the browser-form (POST) policy verifier: random valid forms
 * (fields, `${filename}`, eq / starts-with / simple conditions, content-length-range, SigV4 or
 * SigV2 signatures) whose policy covers every field must pass verifyPostSignature and
 * checkPostPolicy with the right credentials and size range; one targeted mutation (a signature
 * bit, a field value, an uncovered field, an expired policy, a broken document, a Content-Type
 * outside its `eq` or `starts-with` condition) must get S3's exact error. Counters assert how
 * many forms got through both checks, with each kind of Content-Type condition, and how many
 * of each mutation were refused.
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
  /** The policy's condition on Content-Type, if the form has that field. */
  contentType?: 'eq' | 'starts-with';
}

const CONTENT_TYPES = ['image/jpeg', 'text/plain', 'image/png, image/gif'];

/**
 * A condition on $Content-Type that `value` meets: `eq` (as an array or the `{ "Content-Type": v }`
 * form) or `starts-with` a prefix of the first type, which every type of a list must start with.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html#sigv4-ConditionMatching
 */
function contentTypeCondition(rng: Rng, op: 'eq' | 'starts-with', value: string, minPrefix = 0): unknown {
  const name = rng.pick(['Content-Type', 'content-type', 'Content-type']);
  if (op === 'eq') return rng.chance(0.3) ? { [name]: value } : ['eq', `$${name}`, value];
  return ['starts-with', `$${name}`, value.split(',')[0]!.trim().slice(0, rng.int(minPrefix, 5))];
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
    ['Content-Type', () => rng.pick(CONTENT_TYPES), 'starts-with'],
    ['success_action_status', () => rng.pick(['200', '201', '204']), 'simple'],
    ['x-amz-meta-tag', () => rng.text('abc 123', 0, 10), 'eq'],
    ['Cache-Control', () => 'max-age=60', 'starts-with'],
    ['x-amz-server-side-encryption', () => 'AES256', 'simple'],
  ];
  let contentType: Generated['contentType'];
  for (const [name, value, kind] of rng.subset(optional, 0, optional.length)) {
    const v = value();
    fields[name] = v;
    if (name === 'Content-Type') {
      contentType = rng.pick(['eq', 'starts-with'] as const);
      conditions.push(contentTypeCondition(rng, contentType, v));
      continue;
    }
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
  return { fields, conditions, expiration, fileName, range, v2, contentType };
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
      const mutation = rng.pick(['none', 'none', 'none', 'signature', 'field', 'extra-field', 'expired', 'bucket', 'bad-json', 'range-fraction', 'unknown-op', 'content-type', 'resigned-field']);
      if (mutation === 'none') {
        const form = sign(g);
        expect(outcome(form)).toBe('accepted');
        const range = checkPostPolicy(form, BUCKET, NOW);
        expect(range).toEqual(g.range ? { minLength: g.range[0], maxLength: g.range[1] } : undefined);
        counters.hit('accepted');
        if (g.contentType) counters.hit(`accepted content-type ${g.contentType}`);
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
        case 'content-type': {
          // A Content-Type the signer sent outside the policy's condition on it (signed as sent):
          // not the value of an eq, or a type (alone or in a list) that does not start with the prefix.
          const op = rng.pick(['eq', 'starts-with'] as const);
          const allowed = rng.pick(CONTENT_TYPES);
          g.conditions = g.conditions.filter((c) => !JSON.stringify(c).toLowerCase().includes('content-type'));
          g.conditions.splice(rng.int(0, g.conditions.length), 0, contentTypeCondition(rng, op, allowed, 1));
          delete g.fields['Content-Type'];
          const sent =
            op === 'eq'
              ? rng.pick([`${allowed};charset=utf-8`, allowed.toUpperCase(), `${allowed} `, 'application/octet-stream', ''])
              : rng.pick(['application/octet-stream', `${allowed}, application/octet-stream`, `application/json, ${allowed}`]);
          g.fields[rng.pick(['Content-Type', 'content-type'])] = sent;
          form = sign(g);
          expected = 'AccessDenied';
          counters.hit(`content-type ${op}`);
          break;
        }
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
    for (const m of ['signature', 'field', 'extra-field', 'expired', 'bucket', 'bad-json', 'range-fraction', 'unknown-op', 'content-type']) expect(counters.get(`refused ${m}`)).toBeGreaterThanOrEqual(cases(800) / 30);
    // Each kind of Content-Type condition, met and not met.
    for (const op of ['eq', 'starts-with']) {
      expect(counters.get(`accepted content-type ${op}`)).toBeGreaterThanOrEqual(cases(800) / 30);
      expect(counters.get(`content-type ${op}`)).toBeGreaterThanOrEqual(cases(800) / 80);
    }
  });
});
