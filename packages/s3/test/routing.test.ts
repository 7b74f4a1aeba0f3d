import { resolveAddress } from '../src/addressing';
import { matchRoute, ROUTES } from '../src/routes';

const route = (method: string, level: 'service' | 'bucket' | 'object', query: Record<string, string> = {}, headers: string[] = []) =>
  matchRoute(method, level, new Map(Object.entries(query)), (h) => headers.includes(h))?.operation;

describe('route table', () => {
  it.each([
    ['GET', 'service', {}, [], 'ListBuckets'],
    ['PUT', 'bucket', {}, [], 'CreateBucket'],
    ['PUT', 'bucket', { versioning: '' }, [], 'PutBucketVersioning'],
    ['GET', 'bucket', { 'list-type': '2', prefix: 'a' }, [], 'ListObjectsV2'],
    ['GET', 'bucket', { 'list-type': '1' }, [], 'ListObjects'],
    ['GET', 'bucket', { location: '' }, [], 'GetBucketLocation'],
    ['GET', 'bucket', { uploads: '' }, [], 'ListMultipartUploads'],
    ['DELETE', 'bucket', { cors: '' }, [], 'DeleteBucketCors'],
    ['POST', 'bucket', { delete: '' }, [], 'DeleteObjects'],
    ['POST', 'bucket', {}, [], 'PostObject'],
    ['PUT', 'object', {}, [], 'PutObject'],
    ['PUT', 'object', {}, ['x-amz-copy-source'], 'CopyObject'],
    ['PUT', 'object', { partNumber: '1', uploadId: 'u' }, [], 'UploadPart'],
    ['PUT', 'object', { partNumber: '1', uploadId: 'u' }, ['x-amz-copy-source'], 'UploadPartCopy'],
    ['GET', 'object', { uploadId: 'u' }, [], 'ListParts'],
    ['GET', 'object', { versionId: 'v', partNumber: '2' }, [], 'GetObject'],
    ['POST', 'object', { uploads: '' }, [], 'CreateMultipartUpload'],
    ['POST', 'object', { uploadId: 'u' }, [], 'CompleteMultipartUpload'],
    ['DELETE', 'object', { uploadId: 'u' }, [], 'AbortMultipartUpload'],
    ['HEAD', 'object', {}, [], 'HeadObject'],
  ] as const)('%s %s %j %j -> %s', (method, level, query, headers, operation) => {
    expect(route(method, level, query, [...headers])).toBe(operation);
  });

  it('has no method S3 lacks', () => {
    expect(route('PATCH', 'object')).toBeUndefined();
    expect(new Set(ROUTES.map((r) => r.method))).toEqual(new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS']));
  });
});

describe('addressing', () => {
  const suffixes = ['s3.localhost', 'localhost'];
  it.each([
    ['127.0.0.1:4572', '/', { level: 'service', style: 'path' }],
    ['127.0.0.1:4572', '/bucket', { level: 'bucket', bucket: 'bucket', style: 'path' }],
    ['127.0.0.1:4572', '/bucket/', { level: 'bucket', bucket: 'bucket', style: 'path' }],
    ['localhost:4572', '/bucket/a%2Fb/c%20d', { level: 'object', bucket: 'bucket', key: 'a/b/c d', style: 'path' }],
    ['127.0.0.1', '/bucket//double//slash/', { level: 'object', bucket: 'bucket', key: '/double//slash/', style: 'path' }],
    ['my.bucket.localhost:4572', '/', { level: 'bucket', bucket: 'my.bucket', style: 'virtual-hosted' }],
    ['b.s3.localhost:4572', '/k/%E2%9C%93', { level: 'object', bucket: 'b', key: 'k/✓', style: 'virtual-hosted' }],
    ['s3.localhost:4572', '/b/k', { level: 'object', bucket: 'b', key: 'k', style: 'path' }],
  ])('%s %s', (host, path, address) => {
    expect(resolveAddress(host, path, suffixes)).toEqual(address);
  });

  it('a malformed escape is InvalidURI', () => {
    expect(() => resolveAddress('127.0.0.1', '/b/%E2%9C', suffixes)).toThrow(expect.objectContaining({ code: 'InvalidURI' }));
  });
});
