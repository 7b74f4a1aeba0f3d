/**
 * S3 through the AWS CLI (`aws s3` high-level commands with files large enough for multipart)
 * and boto3, and the crash-safety of the store: killing the server during concurrent uploads
 * loses no acknowledged write and leaves nothing torn.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Sealbox } from '@sealbox/cli';
import { runCommand, s3Client, startTestSealbox } from './helpers';

const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('AWS CLI and boto3', () => {
  let sealbox: Sealbox;
  let env: Record<string, string>;
  const work = mkdtempSync(join(tmpdir(), 'sealbox-cli-'));

  beforeAll(async () => {
    sealbox = await startTestSealbox();
    env = { AWS_ENDPOINT_URL_S3: sealbox.s3!.url, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' };
  });
  afterAll(() => sealbox.stop());

  const aws = async (...args: string[]) => {
    const r = await runCommand('aws', args, env);
    if (r.code !== 0) throw new Error(`aws ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };

  it('aws s3 mb, cp (multipart), ls, sync, rm', async () => {
    await aws('s3', 'mb', 's3://cli-bucket');
    const big = randomBytes(20 * 1024 * 1024);
    writeFileSync(join(work, 'big.bin'), big);
    await aws('s3', 'cp', join(work, 'big.bin'), 's3://cli-bucket/data/big.bin');
    const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'data/big.bin')) as { ETag: string; ContentLength: number };
    expect(head.ContentLength).toBe(big.length);
    expect(head.ETag).toMatch(/-\d+"$/); // the CLI used multipart
    await aws('s3', 'cp', 's3://cli-bucket/data/big.bin', join(work, 'back.bin'));
    expect(sha(readFileSync(join(work, 'back.bin')))).toBe(sha(big));

    const dir = join(work, 'tree');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    for (const [name, content] of [['a.txt', 'a'], ['sub/b.txt', 'b'], ['sub/c d.txt', 'c']]) writeFileSync(join(dir, name!), content!);
    await aws('s3', 'sync', dir, 's3://cli-bucket/tree');
    const listing = await aws('s3', 'ls', '--recursive', 's3://cli-bucket/tree/');
    expect(listing).toContain('tree/a.txt');
    expect(listing).toContain('tree/sub/b.txt');
    expect(listing).toContain('tree/sub/c d.txt');
    const out = join(work, 'down');
    await aws('s3', 'sync', 's3://cli-bucket/tree', out);
    expect(readFileSync(join(out, 'sub', 'c d.txt'), 'utf8')).toBe('c');
    await aws('s3', 'rm', '--recursive', 's3://cli-bucket/tree');
    // `aws s3 ls` exits 1 when nothing matches.
    expect((await runCommand('aws', ['s3', 'ls', '--recursive', 's3://cli-bucket/tree/'], env)).stdout).toBe('');
    // A dozen AWS CLI processes: Python's start-up alone takes seconds on a busy 2-core machine.
  }, 90_000);

  it('boto3: upload_file (multipart), download, list, conditional errors', async () => {
    const file = join(work, 'boto.bin');
    const data = randomBytes(9 * 1024 * 1024);
    writeFileSync(file, data);
    const script = [
      'import boto3, json, botocore',
      'from boto3.s3.transfer import TransferConfig',
      "s3 = boto3.client('s3')",
      "s3.create_bucket(Bucket='boto-bucket')",
      `s3.upload_file(${JSON.stringify(file)}, 'boto-bucket', 'k/boto.bin', Config=TransferConfig(multipart_threshold=5*1024*1024, multipart_chunksize=5*1024*1024))`,
      `s3.download_file('boto-bucket', 'k/boto.bin', ${JSON.stringify(file + '.back')})`,
      "listed = [o['Key'] for o in s3.list_objects_v2(Bucket='boto-bucket', Prefix='k/')['Contents']]",
      'codes = []',
      'try:',
      "    s3.get_object(Bucket='boto-bucket', Key='missing')",
      'except botocore.exceptions.ClientError as e:',
      "    codes.append(e.response['Error']['Code'])",
      'try:',
      "    s3.put_object(Bucket='boto-bucket', Key='k/boto.bin', Body=b'x', IfNoneMatch='*')",
      'except botocore.exceptions.ClientError as e:',
      "    codes.append(e.response['Error']['Code'])",
      "print(json.dumps({'listed': listed, 'codes': codes, 'etag': s3.head_object(Bucket='boto-bucket', Key='k/boto.bin')['ETag']}))",
    ].join('\n');
    const r = await runCommand('python3', ['-c', script], env);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { listed: string[]; codes: string[]; etag: string };
    expect(out.listed).toEqual(['k/boto.bin']);
    expect(out.codes).toEqual(['NoSuchKey', 'PreconditionFailed']);
    expect(out.etag).toMatch(/-2"$/);
    expect(sha(readFileSync(file + '.back'))).toBe(sha(data));
  });
});

describe('crash safety', () => {
  function start(dataDir: string): Promise<{ child: ChildProcessWithoutNullStreams; s3: string }> {
    const child = spawn(process.execPath, [BIN, 'start', '--no-tls', '--json', '--quiet', '--data-dir', dataDir, '--kms-port', '0', '--s3-port', '0', '--no-console']);
    return new Promise((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (line) => resolve({ child, s3: (JSON.parse(line) as { s3: string }).s3 }));
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
  }

  it('kill -9 during concurrent uploads: every key holds its last acknowledged body (or the one in flight), nothing torn, no orphans', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sealbox-crash-'));
    const first = await start(dataDir);
    const client = s3Client({ s3: { url: first.s3 } } as never, { maxAttempts: 1 });
    await client.send(new CreateBucketCommand({ Bucket: 'crash' }));
    // Per key: the body acknowledged last, and the one a PUT in flight at the kill was sending.
    const acknowledged = new Map<string, string>();
    const inFlight = new Map<string, string>();
    const errors: string[] = [];
    let writes = 0;
    let killed = false;
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const key = `w${w}/obj-${i % 5}`;
        const body = randomBytes(64 * 1024 + Math.floor(Math.random() * 512 * 1024));
        inFlight.set(key, sha(body));
        try {
          await client.send(new PutObjectCommand({ Bucket: 'crash', Key: key, Body: body }));
        } catch (err) {
          // Before the kill, an error is a failure of the test, not the end of the workload.
          if (!killed) errors.push(`${key}: ${(err as Error).name}`);
          return;
        }
        acknowledged.set(key, sha(body));
        inFlight.delete(key);
        writes++;
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    // Enough acknowledged writes (overwrites among them: 5 keys a writer) before the kill.
    const deadline = Date.now() + 20_000;
    while (writes < 40 && errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 200)));
    killed = true;
    first.child.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    client.destroy();
    expect(errors).toEqual([]);
    expect(writes).toBeGreaterThanOrEqual(40);

    const second = await start(dataDir);
    const after = s3Client({ s3: { url: second.s3 } } as never);
    try {
      const listed = (await after.send(new ListObjectsV2Command({ Bucket: 'crash' }))).Contents ?? [];
      for (const o of listed) {
        const body = Buffer.from(await (await after.send(new GetObjectCommand({ Bucket: 'crash', Key: o.Key! }))).Body!.transformToByteArray());
        expect(body.length).toBe(o.Size);
        // Whole, and the latest: the body acknowledged last for this key, or the one in flight.
        expect([o.Key, [acknowledged.get(o.Key!), inFlight.get(o.Key!)].includes(sha(body))]).toEqual([o.Key, true]);
      }
      // Every acknowledged key is there.
      for (const key of acknowledged.keys()) expect(listed.map((o) => o.Key)).toContain(key);
      // No blob without a row: blob count equals the number of stored objects.
      const blobs = readdirSync(join(dataDir, 's3', 'blobs')).flatMap((d) => readdirSync(join(dataDir, 's3', 'blobs', d)));
      expect(blobs.length).toBe(listed.length);
      expect(readdirSync(join(dataDir, 's3', 'tmp'))).toEqual([]);
    } finally {
      after.destroy();
      second.child.kill('SIGTERM');
    }
  });
});
