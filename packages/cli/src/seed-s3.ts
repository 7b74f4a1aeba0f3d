import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Credentials } from '@sealbox/sigv4';
import { Progress, type ProgressSink } from './progress';
import aws4 from 'aws4';
import type { SeedBucket, SeedReport } from './seed';
import { SeedError } from './seed';

/**
 * Applies a seed's buckets through the S3 REST API, signed (SigV4, aws4) as the root of each
 * bucket's account, so every setting is validated exactly as S3 validates a client's request,
 * encryption goes through the KMS as it does for any object, and nothing here reaches into S3's
 * storage. Existing buckets and objects are skipped, never changed.
 */
export async function applyS3Seed(
  endpoint: string,
  buckets: SeedBucket[],
  credentialsFor: (accountId: string) => Credentials,
  options: { region: string; ca?: string; progress?: ProgressSink },
): Promise<SeedReport> {
  const report: SeedReport = { created: [], skipped: [] };
  const objects = buckets.flatMap((b) => b.objects ?? []);
  const progress = new Progress('seeding', 'objects', objects.length, objects.reduce((sum, o) => sum + o.body.length, 0), options.progress);
  const url = new URL(endpoint);
  for (const b of buckets) {
    const creds = credentialsFor(b.account);
    const region = b.region ?? options.region;
    const send = (method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}) =>
      s3Call(url, region, creds, method, `/${b.name}${path}`, body, headers, options.ca);
    const fail = (at: string, res: S3Response): never => {
      throw new SeedError(`${at}: S3 refused it: ${res.status} ${res.code ?? ''} ${res.message ?? ''}`.trimEnd());
    };
    const head = await send('HEAD', '');
    let bucketCreated = false;
    if (head.status === 200) {
      report.skipped.push(`bucket ${b.name}`);
    } else if (head.status === 404) {
      const config = region === 'us-east-1' ? undefined : xml('CreateBucketConfiguration', [el('LocationConstraint', region)]);
      const res = await send('PUT', '', config);
      if (res.status !== 200) fail(b.at, res);
      bucketCreated = true;
      report.created.push(`bucket ${b.name}`);
    } else {
      fail(b.at, head.status === 403 ? { ...head, code: 'AccessDenied', message: `bucket ${b.name} exists and belongs to another account` } : head);
    }
    if (bucketCreated) {
      // A new bucket gets its configuration; an existing one is left as it is.
      if (b.versioning) {
        const res = await send('PUT', '?versioning', xml('VersioningConfiguration', [el('Status', b.versioning)]));
        if (res.status !== 200) fail(`${b.at}.versioning`, res);
      }
      if (b.encryption) {
        const e = b.encryption;
        const body = xml('ServerSideEncryptionConfiguration', [
          el('Rule', [
            el('ApplyServerSideEncryptionByDefault', [el('SSEAlgorithm', e.algorithm), e.kmsKeyId ? el('KMSMasterKeyID', e.kmsKeyId) : '']),
            e.bucketKey !== undefined ? el('BucketKeyEnabled', String(e.bucketKey)) : '',
          ]),
        ]);
        const res = await send('PUT', '?encryption', body);
        if (res.status !== 200) fail(`${b.at}.encryption`, res);
      }
      if (b.policy) {
        const res = await send('PUT', '?policy', b.policy, { 'content-type': 'application/json' });
        if (res.status !== 204 && res.status !== 200) fail(`${b.at}.policy`, res);
      }
      if (b.cors?.length) {
        const rules = b.cors.map((r) =>
          el('CORSRule', [
            r.id ? el('ID', r.id) : '',
            ...r.allowedOrigins.map((o) => el('AllowedOrigin', o)),
            ...r.allowedMethods.map((m) => el('AllowedMethod', m)),
            ...(r.allowedHeaders ?? []).map((h) => el('AllowedHeader', h)),
            ...(r.exposeHeaders ?? []).map((h) => el('ExposeHeader', h)),
            r.maxAgeSeconds !== undefined ? el('MaxAgeSeconds', String(r.maxAgeSeconds)) : '',
          ]),
        );
        const res = await send('PUT', '?cors', xml('CORSConfiguration', rules));
        if (res.status !== 200) fail(`${b.at}.cors`, res);
      }
      if (b.tags && Object.keys(b.tags).length) {
        const tags = Object.entries(b.tags).map(([k, v]) => el('Tag', [el('Key', k), el('Value', v)]));
        const res = await send('PUT', '?tagging', xml('Tagging', [el('TagSet', tags)]));
        if (res.status !== 200 && res.status !== 204) fail(`${b.at}.tags`, res);
      }
    }
    for (const o of b.objects ?? []) {
      const path = '/' + o.key.split('/').map(encodeURIComponent).join('/');
      const exists = await send('HEAD', path);
      if (exists.status === 200) {
        report.skipped.push(`object ${b.name}/${o.key}`);
        progress.add(1, o.body.length);
        continue;
      }
      if (exists.status !== 404 && exists.status !== 400) fail(o.at, exists);
      // S3's default type for an object stored without one.
      const headers: Record<string, string> = { 'content-type': o.contentType ?? 'binary/octet-stream' };
      for (const [k, v] of Object.entries(o.metadata ?? {})) headers[`x-amz-meta-${k.toLowerCase()}`] = v;
      if (o.sse) {
        headers['x-amz-server-side-encryption'] = o.sse.algorithm;
        if (o.sse.kmsKeyId) headers['x-amz-server-side-encryption-aws-kms-key-id'] = o.sse.kmsKeyId;
        if (o.sse.context) headers['x-amz-server-side-encryption-context'] = Buffer.from(JSON.stringify(o.sse.context)).toString('base64');
        if (o.sse.bucketKey !== undefined) headers['x-amz-server-side-encryption-bucket-key-enabled'] = String(o.sse.bucketKey);
      }
      const res = await send('PUT', path, o.body, headers);
      if (res.status !== 200) fail(o.at, res);
      report.created.push(`object ${b.name}/${o.key}`);
      progress.add(1, o.body.length);
    }
  }
  progress.done();
  return report;
}

interface S3Response {
  status: number;
  code?: string;
  message?: string;
}

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const el = (name: string, content: string | string[]) => `<${name}>${Array.isArray(content) ? content.join('') : escape(content)}</${name}>`;
const xml = (root: string, children: string[]) => `<?xml version="1.0" encoding="UTF-8"?><${root} xmlns="${XMLNS}">${children.join('')}</${root}>`;

function s3Call(
  url: URL,
  region: string,
  creds: Credentials,
  method: string,
  path: string,
  body: Buffer | string | undefined,
  headers: Record<string, string>,
  ca: string | undefined,
): Promise<S3Response> {
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  const all: Record<string, string> = {
    ...(path.includes('?') || method !== 'PUT' ? { 'content-type': path.endsWith('?policy') ? 'application/json' : 'application/xml' } : {}),
    ...headers,
    'x-amz-content-sha256': createHash('sha256').update(payload).digest('hex'),
    ...(payload.length || method === 'PUT' ? { 'content-length': String(payload.length) } : {}),
    ...(method === 'PUT' && path.includes('?') ? { 'content-md5': createHash('md5').update(payload).digest('base64') } : {}),
  };
  const signed = aws4.sign(
    { host: url.host, path, method, service: 's3', region, headers: all, body: payload },
    { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken },
  );
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      { protocol: url.protocol, hostname: url.hostname, port: url.port, method, path, headers: signed.headers as Record<string, string>, ...(ca ? { ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1], message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1] });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
