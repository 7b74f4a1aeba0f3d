/**
 * The rough edges of `sealbox start`, as users meet them through the built command: help that
 * agrees with itself, every busy port in one message, a failed start that leaves nothing behind,
 * --host 0.0.0.0 printing an address clients can reach, a stale data-directory lock whose pid was
 * reused, and npx's process tree when npx itself is killed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
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

  it('--port, as moto and most servers spell it, names every port option', async () => {
    const r = await sealbox('start', '--port', '5000');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--port' (did you mean --kms-port, --s3-port or --console-port?)");
    expect((await sealbox('start', '--endpoint', 'http://x')).stderr).toContain('(did you mean --kms-endpoint?)');
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

const linux = existsSync('/proc/self/stat');

/** Field 22 of /proc/PID/stat, the start time, as the lock records it with the boot id. */
function identity(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}:${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
}

(linux ? describe : describe.skip)('the data-directory lock', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sealbox-stale-lock-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // After a reboot, or when a killed container starts again, the pid in a lock left by kill -9
  // names another live process, often the new Sealbox itself: the start time tells them apart.
  it('takes over a lock whose pid now belongs to another process', async () => {
    writeFileSync(join(dir, 'sealbox.lock'), `${process.pid}\n${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}:1\n`);
    const child = spawn(process.execPath, [BIN, 'start', '--json', '--quiet', '--data-dir', dir, '--kms-port', '0', '--s3-port', '0', '--no-console']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    try {
      const ready = await new Promise<{ dataDir: string }>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as { dataDir: string }));
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
      });
      expect(ready.dataDir).toBe(dir);
      expect(readFileSync(join(dir, 'sealbox.lock'), 'utf8')).toBe(`${child.pid}\n${identity(child.pid!)}\n`);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('still refuses a lock held by the process it names', async () => {
    writeFileSync(join(dir, 'sealbox.lock'), `${process.pid}\n${identity(process.pid)}\n`);
    const r = await sealbox('start', '--data-dir', dir, '--kms-port', '0', '--s3-port', '0', '--no-console');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`sealbox: data directory ${dir} is in use by another Sealbox (pid ${process.pid}); stop it or choose another --data-dir\n`);
  });
});

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

(linux ? describe : describe.skip)('started the way npx starts it', () => {
  // npx runs `sh -c 'sealbox' start ...`, and Debian's dash does not exec the command: npm, a
  // shell, then Sealbox. SIGKILL to npx (a harness giving up on it) passes nothing on and leaves
  // the shell alive, so Sealbox's own parent does not change. The outer sh stands for npm here.
  it('stops when npm is killed and the shell between them lives on', async () => {
    const inner = `${process.execPath} ${BIN} start --json --quiet --in-memory --kms-port 0 --s3-port 0 --no-console; exit $?`;
    const npm = spawn('sh', ['-c', `sh -c '${inner}'; exit $?`], { env: { ...process.env, npm_command: 'exec' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const ready = await new Promise<{ kms: string }>((resolve, reject) => {
        createInterface({ input: npm.stdout! }).once('line', (line) => resolve(JSON.parse(line) as { kms: string }));
        npm.once('exit', (code) => reject(new Error(`exited with ${code}`)));
      });
      npm.kill('SIGKILL');
      const deadline = Date.now() + 10_000;
      while (groupAlive(npm.pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(groupAlive(npm.pid!)).toBe(false);
      const { hostname, port } = new URL(ready.kms);
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect(Number(port), hostname);
        socket.once('connect', () => (socket.destroy(), resolve(false)));
        socket.once('error', () => resolve(true));
      });
      expect(refused).toBe(true);
    } finally {
      if (groupAlive(npm.pid!)) process.kill(-npm.pid!, 'SIGKILL');
    }
  }, 30_000);
});
