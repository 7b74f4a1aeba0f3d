// The load generator's own SigV4 signer must sign exactly as aws4 does for the requests it takes.
import { createHash } from 'node:crypto';
import aws4 from 'aws4';
import { SigningKeys, amzDateAt, canSignFast, signFast } from '../src/sign';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const NOW = Date.UTC(2026, 10, 27, 11, 59, 58, 765);

function viaAws4(method: string, path: string, service: string, headers: Record<string, string | number>, body?: Buffer) {
  jest.useFakeTimers({ now: NOW });
  try {
    return aws4.sign({ host: '127.0.0.1', port: 4566, method, path, service, region: 'eu-west-1', headers: { ...headers }, body }, credentials).headers as Record<string, string>;
  } finally {
    jest.useRealTimers();
  }
}

function viaFast(method: string, path: string, service: string, headers: Record<string, string | number>, payloadHash: string, keys = new SigningKeys()) {
  return signFast({ method, path, host: '127.0.0.1:4566', service, region: 'eu-west-1', headers, payloadHash, ...credentials, now: NOW }, keys);
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('bench signFast', () => {
  it('signs a KMS request as aws4 does', () => {
    const body = Buffer.from('{"KeyId":"alias/bench","Plaintext":"AAAA"}');
    const headers = { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.Encrypt', 'Content-Length': body.length };
    const a = viaAws4('POST', '/', 'kms', headers, body);
    const f = viaFast('POST', '/', 'kms', headers, sha(body));
    expect(f.Authorization).toBe(a.Authorization);
    expect(f['X-Amz-Date']).toBe(a['X-Amz-Date']);
    expect(f.Host).toBe(a.Host);
  });

  it('signs S3 PUT and GET requests as aws4 does', () => {
    const body = Buffer.alloc(4096, 7);
    const put = { 'Content-Type': 'application/octet-stream', 'x-amz-server-side-encryption': 'aws:kms', 'X-Amz-Content-Sha256': sha(body), 'Content-Length': body.length };
    expect(viaFast('PUT', '/bench-bucket/obj-1.bin', 's3', put, sha(body)).Authorization).toBe(viaAws4('PUT', '/bench-bucket/obj-1.bin', 's3', put, body).Authorization);
    const get = { 'X-Amz-Content-Sha256': sha('') };
    expect(viaFast('GET', '/bench-bucket/obj-1', 's3', get, sha('')).Authorization).toBe(viaAws4('GET', '/bench-bucket/obj-1', 's3', get).Authorization);
  });

  it('derives the signing key once per date, region and service', () => {
    const keys = new SigningKeys();
    const h = { 'X-Amz-Content-Sha256': sha('') };
    viaFast('GET', '/b/k1', 's3', h, sha(''), keys);
    viaFast('GET', '/b/k2', 's3', h, sha(''), keys);
    expect(keys.size).toBe(1);
    viaFast('POST', '/', 'kms', {}, sha(''), keys);
    expect(keys.size).toBe(2);
  });

  it('leaves to aws4 what needs encoding, trimming or unsigned headers', () => {
    expect(canSignFast('/', { 'Content-Type': 'a' })).toBe(true);
    expect(canSignFast('/bucket/obj-1.bin', {})).toBe(true);
    expect(canSignFast('/bucket/key?uploads', {})).toBe(false);
    expect(canSignFast('/bucket/a%20b', {})).toBe(false);
    expect(canSignFast('/bucket/../x', {})).toBe(false);
    expect(canSignFast('/bucket/./x', {})).toBe(false);
    expect(canSignFast('/bucket//x', {})).toBe(false);
    expect(canSignFast('/bucket/..', {})).toBe(false);
    expect(canSignFast('/bucket/.', {})).toBe(false);
    expect(canSignFast('/bucket/.hidden/a..b', {})).toBe(true);
    expect(canSignFast('/bucket/dir/', {})).toBe(true);
    expect(canSignFast('b/k', {})).toBe(false);
    expect(canSignFast('/b/k', { 'X-Meta': ' padded' })).toBe(false);
    expect(canSignFast('/b/k', { 'X-Meta': 'two  spaces' })).toBe(false);
    expect(canSignFast('/b/k', { Range: 'bytes=0-1' })).toBe(false);
    expect(canSignFast('/b/k', { 'User-Agent': 'x' })).toBe(false);
  });

  it('checks a long path that fails at its end at once (no backtracking)', () => {
    const t0 = Date.now();
    expect(canSignFast(`/${'bench-multipart-test-19427-1-'.repeat(40)}/big?uploads`, {})).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('builds X-Amz-Date per second', () => {
    expect(amzDateAt(NOW)).toBe('20261127T115958Z');
    expect(amzDateAt(NOW + 200)).toBe('20261127T115958Z');
    expect(amzDateAt(NOW + 300)).toBe('20261127T115959Z');
  });
});
