/**
 * The rough edges of `sealbox start`, as users meet them through the built command: help that
 * agrees with itself, every busy port in one message, a failed start that leaves nothing behind,
 * --host 0.0.0.0 printing an address clients can reach.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { GenerateRandomCommand, KMSClient } from '@aws-sdk/client-kms';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { runCommand } from './helpers';

const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
const sealbox = (...args: string[]) => runCommand(process.execPath, [BIN, ...args], {});

async function blocker(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

describe('sealbox help', () => {
  it('sealbox --help, sealbox help start and sealbox start --help agree', async () => {
    const [main, helpStart, startHelp] = await Promise.all([sealbox('--help'), sealbox('help', 'start'), sealbox('start', '--help')]);
    for (const r of [main, helpStart, startHelp]) expect(r.code).toBe(0);
    expect(helpStart.stdout).toBe(startHelp.stdout);
    expect(main.stdout).toContain(startHelp.stdout.slice(startHelp.stdout.indexOf('  --host HOST')));
    expect((await sealbox('help', 'seed')).stdout).toBe((await sealbox('seed', '--help')).stdout);
  });

  it('a mistyped option or command gets "did you mean", with exit status 2', async () => {
    const option = await sealbox('start', '--kms-prot', '1');
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("Unknown option '--kms-prot' (did you mean --kms-port?)");
    const command = await sealbox('strat');
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("unknown command 'strat' (did you mean start?)");
    expect((await sealbox('help', 'strat')).stderr).toContain('(did you mean start?)');
  });
});

describe('a start that cannot happen', () => {
  it('names every busy port in one message, and creates no data directory', async () => {
    const a = await blocker();
    const b = await blocker();
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-busy-'));
    const dataDir = join(dir, 'new', 'state');
    try {
      const r = await sealbox('start', '--data-dir', dataDir, '--kms-port', String(a.port), '--s3-port', String(b.port), '--console-port', '0');
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `sealbox: ports ${a.port} and ${b.port} on 127.0.0.1 are already in use (by another Sealbox or another program): pass --kms-port 0 --s3-port 0 to pick free ports, or other ports\n`,
      );
      expect(existsSync(join(dir, 'new'))).toBe(false);
    } finally {
      a.server.close();
      b.server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removes the data directory it made when it fails after making it (KMS and S3 given one port)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealbox-fail-'));
    const free = await blocker();
    free.server.close(); // a port nobody holds: KMS takes it, then S3 finds it taken
    try {
      const r = await sealbox('start', '--data-dir', join(dir, 'state'), '--kms-port', String(free.port), '--s3-port', String(free.port), '--no-console');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`port ${free.port} on 127.0.0.1 is already in use`);
      expect(existsSync(join(dir, 'state'))).toBe(false);
      // A data directory that existed stays, with what it held.
      const kept = await sealbox('start', '--data-dir', dir, '--kms-port', String(free.port), '--s3-port', String(free.port), '--no-console');
      expect(kept.code).toBe(1);
      expect(existsSync(dir)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sealbox start --host 0.0.0.0', () => {
  it('prints 127.0.0.1, an address clients reach, and serves there', async () => {
    const child = spawn(process.execPath, [BIN, 'start', '--host', '0.0.0.0', '--json', '--quiet', '--in-memory', '--kms-port', '0', '--s3-port', '0', '--console-port', '0']);
    try {
      type Ready = { kms: string; s3: string; console: string; http: { kms: string; s3: string } };
      const printed = await new Promise<Ready>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as Ready));
        child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
      });
      for (const url of [printed.kms, printed.s3]) expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      // The same ports over plain HTTP (the SDK here does not know the local CA).
      const ready = { ...printed.http, console: printed.console };
      for (const url of [ready.kms, ready.s3, ready.console]) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
      const kms = new KMSClient({ endpoint: ready.kms, region: 'us-east-1', credentials, maxAttempts: 1 });
      expect((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 8 }))).Plaintext).toHaveLength(8);
      const s3 = new S3Client({ endpoint: ready.s3, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1 });
      expect((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
      expect((await fetch(ready.console)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('prints AWS_DEFAULT_REGION beside AWS_REGION (the AWS CLI v1 and boto3 read only the former)', async () => {
    const child = spawn(process.execPath, [BIN, 'start', '--region', 'eu-west-3', '--quiet', '--in-memory', '--kms-port', '0', '--s3-port', '0', '--no-console']);
    let out = '';
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => ((out += d), out.includes('Ctrl+C') && resolve())));
    child.kill('SIGTERM');
    expect(out).toContain('  export AWS_REGION=eu-west-3\n  export AWS_DEFAULT_REGION=eu-west-3\n');
  });
});
