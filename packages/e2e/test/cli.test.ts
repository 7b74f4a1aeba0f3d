/**
 * The `sealbox` command as users run it (the built CLI in a child process), driven by the AWS CLI
 * and boto3 through the environment variables it prints.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { runCommand } from './helpers';

const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');

interface Started {
  child: ChildProcessWithoutNullStreams;
  ready: { kms: string; s3: string; console?: string; region: string; accessKeyId: string; secretAccessKey: string };
  stderr: string[];
}

function startCli(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [BIN, 'start', '--json', '--in-memory', '--kms-port', '0', '--s3-port', '0', '--console-port', '0', ...args]);
  const stderr: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (d: string) => stderr.push(d));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve({ child, ready: JSON.parse(line) as Started['ready'], stderr }));
    child.once('exit', (code) => reject(new Error(`sealbox exited with ${code}: ${stderr.join('')}`)));
  });
}

function exitOf(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

describe('sealbox command', () => {
  it('--help documents every option', async () => {
    const { stdout, code } = await runCommand(process.execPath, [BIN, 'start', '--help'], {});
    expect(code).toBe(0);
    for (const option of ['--host', '--kms-port', '--s3-port', '--console-port', '--no-console', '--data-dir', '--in-memory', '--region', '--only', '--kms-endpoint', '--user', '--on-demand-rotation-limit', '--json', '--quiet']) {
      expect(stdout).toContain(option);
    }
  });

  it.each([
    [['--bogus'], "Unknown option '--bogus'"],
    [['--only', 'ec2'], '--only must be kms or s3'],
    [['--kms-port', '70000'], '--kms-port must be a port number'],
    [['--in-memory', '--data-dir', 'x'], 'cannot be used together'],
    [['--user', 'nocolons'], '--user must be ACCESS_KEY:SECRET:ACCOUNT_ID'],
    [['--only', 'kms', '--kms-endpoint', 'http://localhost:1'], '--kms-endpoint is for S3'],
    [['--console-port', '0', '--no-console'], '--console-port and --no-console cannot be used together'],
    [['--console-port', '0', '--only', 'kms'], 'the console shows both services'],
    [['--console-port', 'x'], '--console-port must be a port number'],
  ])('refuses %j with a clear message and exit code 2', async (args, message) => {
    const { stderr, code } = await runCommand(process.execPath, [BIN, 'start', ...args], {});
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  it('locks its data directory against a second process, and takes over the lock of a killed one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-lock-'));
    const startOn = () => {
      const child = spawn(process.execPath, [BIN, 'start', '--json', '--quiet', '--data-dir', dir, '--kms-port', '0', '--s3-port', '0', '--no-console']);
      const ready = new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', () => resolve());
        child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
      });
      return { child, ready };
    };
    const first = startOn();
    await first.ready;
    const second = await runCommand(process.execPath, [BIN, 'start', '--data-dir', dir, '--kms-port', '0', '--s3-port', '0', '--no-console'], {});
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`data directory ${dir} is in use by another Sealbox (pid ${first.child.pid}); stop it or choose another --data-dir`);
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    expect(existsSync(join(dir, 'sealbox.lock'))).toBe(true);
    const third = startOn();
    await third.ready;
    third.child.kill('SIGTERM');
    expect(await exitOf(third.child)).toBe(0);
    expect(existsSync(join(dir, 'sealbox.lock'))).toBe(false);
  });

  it('prints the endpoints and export lines, and says when a port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const taken = await runCommand(process.execPath, [BIN, 'start', '--in-memory', '--kms-port', String(port), '--s3-port', '0', '--no-console'], {});
      expect(taken.code).toBe(1);
      expect(taken.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }

    const child = spawn(process.execPath, [BIN, 'start', '--in-memory', '--kms-port', '0', '--s3-port', '0', '--console-port', '0', '--quiet']);
    let out = '';
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => ((out += d), out.includes('Ctrl+C') && resolve())));
    // HTTPS by default (HTTP on the same ports), with the CA for the CLI, boto3, Go and Node.
    expect(out).toMatch(/export AWS_ENDPOINT_URL_KMS=https:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/export AWS_ENDPOINT_URL_S3=https:\/\/127\.0\.0\.1:\d+/);
    expect(out).toMatch(/export AWS_CA_BUNDLE=\/.*ca\.pem\n/);
    expect(out).toMatch(/export NODE_EXTRA_CA_CERTS=\/.*ca\.pem\n/);
    expect(out).toContain('export AWS_ACCESS_KEY_ID=test');
    expect(out).toContain('export AWS_SECRET_ACCESS_KEY=test');
    expect(out).toContain('export AWS_REGION=us-east-1');
    expect(out).toMatch(/console http:\/\/127\.0\.0\.1:\d+ /);
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(0);
  });
});

describe('AWS CLI and boto3 against a running sealbox', () => {
  let sealbox: Started;
  let env: Record<string, string>;

  beforeAll(async () => {
    // Plain HTTP only: these are about the CLI and boto3 themselves (TLS: tls.test.ts).
    sealbox = await startCli(['--no-tls', '--user', 'AKIDSECOND:second-secret:222222222222']);
    env = {
      AWS_ENDPOINT_URL_KMS: sealbox.ready.kms,
      AWS_ENDPOINT_URL_S3: sealbox.ready.s3,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_DEFAULT_REGION: 'us-east-1',
    };
  });

  afterAll(async () => {
    sealbox.child.kill('SIGTERM');
    expect(await exitOf(sealbox.child)).toBe(0);
  });

  it('names the console in its --json line and serves it there, read-only', async () => {
    expect(sealbox.ready.console).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await fetch(`${sealbox.ready.console}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Sealbox console</title>');
    expect((await fetch(`${sealbox.ready.console}/api/keys`, { method: 'POST' })).status).toBe(405);
  });

  it('serves health on both ports', async () => {
    for (const url of [sealbox.ready.kms, sealbox.ready.s3]) {
      expect((await fetch(`${url}/_sealbox/health`)).status).toBe(200);
    }
  });

  it('aws kms generate-random', async () => {
    const { code, stdout, stderr } = await runCommand('aws', ['kms', 'generate-random', '--number-of-bytes', '32'], env);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(Buffer.from((JSON.parse(stdout) as { Plaintext: string }).Plaintext, 'base64')).toHaveLength(32);
  });

  it('aws s3api list-buckets', async () => {
    const { code, stdout } = await runCommand('aws', ['s3api', 'list-buckets'], env);
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { Buckets: unknown[] }).Buckets).toEqual([]);
  });

  it('aws with a second account given by --user', async () => {
    const second = { ...env, AWS_ACCESS_KEY_ID: 'AKIDSECOND', AWS_SECRET_ACCESS_KEY: 'second-secret' };
    expect((await runCommand('aws', ['kms', 'generate-random', '--number-of-bytes', '8'], second)).code).toBe(0);
  });

  it.each([
    ['kms', 'InvalidSignatureException', ['kms', 'generate-random', '--number-of-bytes', '8']],
    ['s3', 'SignatureDoesNotMatch', ['s3api', 'list-buckets']],
  ])('aws %s with a wrong secret fails with %s', async (_service, code, args) => {
    const result = await runCommand('aws', args, { ...env, AWS_SECRET_ACCESS_KEY: 'wrong' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`(${code})`);
  });

  it.each([
    ['kms', 'UnrecognizedClientException', ['kms', 'generate-random', '--number-of-bytes', '8']],
    ['s3', 'InvalidAccessKeyId', ['s3api', 'list-buckets']],
  ])('aws %s with an unknown key fails with %s', async (_service, code, args) => {
    const result = await runCommand('aws', args, { ...env, AWS_ACCESS_KEY_ID: 'AKIDNOBODY' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`(${code})`);
  });

  const boto3 = (script: string, extraEnv: Record<string, string> = {}) =>
    runCommand('python3', ['-c', `import boto3, json, botocore\n${script}`], { ...env, ...extraEnv });

  it('boto3: generate_random and list_buckets', async () => {
    const { code, stdout, stderr } = await boto3(
      [
        "kms = boto3.client('kms')",
        "s3 = boto3.client('s3')",
        "out = {'random': len(kms.generate_random(NumberOfBytes=24)['Plaintext']), 'buckets': s3.list_buckets()['Buckets']}",
        'print(json.dumps(out))',
      ].join('\n'),
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ random: 24, buckets: [] });
  });

  it('boto3: a wrong secret and an unknown key fail with AWS error codes', async () => {
    const script = [
      'codes = []',
      "for client in (boto3.client('kms'), boto3.client('s3')):",
      '    try:',
      "        client.generate_random(NumberOfBytes=8) if client.meta.service_model.service_name == 'kms' else client.list_buckets()",
      '    except botocore.exceptions.ClientError as e:',
      "        codes.append(e.response['Error']['Code'])",
      'print(json.dumps(codes))',
    ].join('\n');
    const wrong = await boto3(script, { AWS_SECRET_ACCESS_KEY: 'wrong' });
    expect(JSON.parse(wrong.stdout)).toEqual(['InvalidSignatureException', 'SignatureDoesNotMatch']);
    const unknown = await boto3(script, { AWS_ACCESS_KEY_ID: 'AKIDNOBODY' });
    expect(JSON.parse(unknown.stdout)).toEqual(['UnrecognizedClientException', 'InvalidAccessKeyId']);
  });

  /** The AWS CLI (its own driver) with botocore's clock set 20 minutes behind. */
  const skewedAws = (args: string[]) =>
    runCommand(
      'python3',
      [
        '-c',
        [
          'import sys, datetime, botocore.auth as auth',
          'real = auth.get_current_datetime',
          'auth.get_current_datetime = lambda *a, **k: real(*a, **k) - datetime.timedelta(minutes=20)',
          'from awscli.clidriver import main',
          'sys.exit(main())',
        ].join('\n'),
        ...args,
      ],
      env,
    );

  it('a client clock 20 minutes behind fails for the AWS CLI and boto3', async () => {
    const kms = await skewedAws(['kms', 'generate-random', '--number-of-bytes', '8']);
    expect(kms.stderr).toMatch(/\(InvalidSignatureException\).*Signature expired/);
    const s3 = await skewedAws(['s3api', 'list-buckets']);
    expect(s3.stderr).toContain('(RequestTimeTooSkewed)');
    const py = await boto3(
      [
        'import datetime, botocore.auth as auth',
        'real = auth.get_current_datetime',
        'auth.get_current_datetime = lambda *a, **k: real(*a, **k) - datetime.timedelta(minutes=20)',
        'try:',
        "    boto3.client('s3').list_buckets()",
        'except botocore.exceptions.ClientError as e:',
        "    print(e.response['Error']['Code'])",
      ].join('\n'),
    );
    expect(py.stdout.trim()).toBe('RequestTimeTooSkewed');
  });

  it('a presigned URL expires when the virtual clock passes its expiry; the CLI keeps working', async () => {
    // AWS CLI v1 presigns with SigV2 unless told otherwise; S3 wants SigV4 (see the README).
    const config = join(mkdtempSync(join(tmpdir(), 'sealbox-')), 'config');
    writeFileSync(config, '[default]\ns3 =\n    signature_version = s3v4\n');
    const presigned = await runCommand('aws', ['s3', 'presign', 's3://some-bucket/some-key', '--expires-in', '60'], { ...env, AWS_CONFIG_FILE: config });
    expect(presigned.code).toBe(0);
    const url = presigned.stdout.trim();
    // Valid now: the signature passes and S3 answers for the bucket.
    expect((await fetch(url)).status).toBe(404);

    // A timestamp from the second before an advance, or later, counts as after it (clients sign
    // up to a second behind); let two seconds pass.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const advanced = await fetch(`${sealbox.ready.kms}/_sealbox/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceSeconds: 20 * 60 }) });
    expect(advanced.status).toBe(200);

    const expired = await fetch(url);
    const xml = await expired.text();
    expect(expired.status).toBe(403);
    expect(xml).toContain('<Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>60</X-Amz-Expires>');
    expect((await runCommand('aws', ['kms', 'generate-random', '--number-of-bytes', '8'], env)).code).toBe(0);
  });
});
