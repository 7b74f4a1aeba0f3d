import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Credentials, Endpoint } from './client';

export type TargetName = 'sealbox' | 'moto' | 'ceiling';

/** A server under test, running in its own process (never in the client's event loop). */
export interface Target {
  name: TargetName;
  kms: Endpoint;
  s3: Endpoint;
  credentials: Credentials;
  region: string;
  pid: number;
  /** Version of the server, when known. */
  version: string | null;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/** The built `sealbox` command (packages/cli/dist/bin.js). */
export function sealboxBin(): string {
  return join(dirname(require.resolve('@sealbox/cli/package.json')), 'dist', 'bin.js');
}

/** Where the Sealbox under test keeps its state. */
export type SealboxStorage = 'data-dir' | 'in-memory';

/**
 * Starts the built CLI as a child process: free ports, no access log, SSE-KMS over plain HTTP
 * (the bench does not pay for TLS). By default its state is on disk in a fresh data directory,
 * as `sealbox start` keeps it (objects in files, metadata and the KMS event log in SQLite), removed
 * when it stops; `in-memory` runs it with --in-memory. Resolves with the endpoints of its --json line.
 */
export async function startSealbox(storage: SealboxStorage = 'data-dir'): Promise<Target> {
  const bin = sealboxBin();
  const version = (JSON.parse(readFileSync(join(dirname(bin), '..', 'package.json'), 'utf8')) as { version: string }).version;
  // SEALBOX_BENCH_NODE_OPTIONS adds Node flags to the server only (e.g. "--cpu-prof
  // --cpu-prof-dir=prof" to profile it under load); the client is not affected.
  const nodeFlags = (process.env.SEALBOX_BENCH_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean);
  const dataDir = storage === 'data-dir' ? mkdtempSync(join(tmpdir(), 'sealbox-bench-data-')) : undefined;
  const where = dataDir ? ['--data-dir', dataDir] : ['--in-memory'];
  const child = spawn(
    process.execPath,
    [...nodeFlags, bin, 'start', '--json', ...where, '--kms-port', '0', '--s3-port', '0', '--no-console', '--quiet', '--allow-http-sse-kms'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const cleanup = () => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  let line: string;
  try {
    line = await firstLine(child, 30_000, () => stderr);
  } catch (err) {
    cleanup();
    throw err;
  }
  const ready = JSON.parse(line) as { kms: string; s3: string; region: string; accessKeyId: string; secretAccessKey: string };
  return {
    name: 'sealbox',
    kms: endpointOf(ready.kms),
    s3: endpointOf(ready.s3),
    credentials: { accessKeyId: ready.accessKeyId, secretAccessKey: ready.secretAccessKey },
    region: ready.region,
    pid: child.pid!,
    version,
    stop: () => stopChild(child).finally(cleanup),
  };
}

/**
 * Starts `moto_server` on a free port and waits until it answers HTTP. KMS and S3 share its port
 * (moto routes by the service in the credential scope). Its request log goes to a temporary
 * file, read back only if it fails to start, so the client does not pay for reading it.
 */
export async function startMoto(command = 'moto_server'): Promise<Target> {
  const port = await freePort();
  const logDir = mkdtempSync(join(tmpdir(), 'sealbox-bench-moto-'));
  const logPath = join(logDir, 'moto.log');
  const log = openSync(logPath, 'w');
  const child = spawn(command, ['-H', HOST, '-p', String(port)], { stdio: ['ignore', log, log] });
  closeSync(log);
  const cleanup = () => rmSync(logDir, { recursive: true, force: true });
  let failed = false;
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        failed = true;
        reject(err);
      };
      child.once('error', (err) => fail(new Error(`cannot run ${command}: ${err.message} (is moto installed? pip install 'moto[server]', or pass --no-moto)`)));
      child.once('exit', (code) => fail(new Error(`${command} exited (code ${code}) before answering (pass --no-moto to run without it):\n${tail(logPath)}`)));
      waitForHttp(port, 60_000, () => failed).then(resolve, (err: Error) => fail(new Error(`${err.message}\n${tail(logPath)}`)));
    });
  } catch (err) {
    child.kill('SIGKILL');
    cleanup();
    throw err;
  }
  child.removeAllListeners('exit');
  child.removeAllListeners('error');
  const endpoint = { host: HOST, port };
  return {
    name: 'moto',
    kms: endpoint,
    s3: endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    region: 'us-east-1',
    pid: child.pid!,
    version: motoVersion(),
    stop: () => stopChild(child).finally(cleanup),
  };
}

/** moto's version, from the Python that has it installed (null when it cannot be asked). */
function motoVersion(): string | null {
  for (const python of ['python3', 'python']) {
    const probe = spawnSync(python, ['-c', 'import moto; print(moto.__version__)'], { encoding: 'utf8', timeout: 20_000 });
    if (probe.status === 0) return probe.stdout.trim();
  }
  return null;
}

/**
 * The ceiling: a bare Node HTTP server in its own process that reads each request and answers
 * 200 with an empty body. The same client drives it with the same requests, so its figures are
 * what this machine, this client and HTTP/1.1 keep-alive allow at best.
 */
export const CEILING_SERVER_SOURCE = `
const http = require('node:http');
const server = http.createServer({ keepAliveTimeout: 60000 }, (req, res) => {
  req.on('end', () => { res.writeHead(200, { 'content-length': '0' }); res.end(); });
  req.resume();
});
server.listen(0, '${HOST}', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

export async function startCeiling(): Promise<Target> {
  const child = spawn(process.execPath, ['-e', CEILING_SERVER_SOURCE], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const { port } = JSON.parse(await firstLine(child, 10_000, () => stderr)) as { port: number };
  const endpoint = { host: HOST, port };
  return {
    name: 'ceiling',
    kms: endpoint,
    s3: endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    region: 'us-east-1',
    pid: child.pid!,
    version: process.version,
    stop: () => stopChild(child),
  };
}

function endpointOf(url: string): Endpoint {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}

/** The first line a child prints on stdout (its readiness line). */
function firstLine(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => fail(new Error(`no readiness line after ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n${stderr()}`.trim()));
    };
    const onData = (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      child.stdout!.resume(); // anything later is drained, not buffered
      resolve(buffered.slice(0, nl));
    };
    const onExit = (code: number | null) => fail(new Error(`exited (code ${code}) before it was ready`));
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.once('exit', onExit);
    child.once('error', fail);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls until something answers HTTP on the port (any status). */
async function waitForHttp(port: number, timeoutMs: number, abandoned: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!abandoned()) {
    const answered = await new Promise<boolean>((resolve) => {
      const req = httpRequest({ host: HOST, port, path: '/', method: 'GET', agent: false, timeout: 2_000 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
    if (answered) return;
    if (Date.now() > deadline) throw new Error(`nothing answered on port ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (null where there is no /proc). */
export function rssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export interface RssSummary {
  baselineMiB: number;
  peakMiB: number;
  /** Peak minus the RSS just before the upload started. */
  growthMiB: number;
  samples: number;
}

/** Samples a process's RSS every `intervalMs` until stopped; returns baseline, peak and growth. */
export function sampleRss(pid: number, intervalMs = 100): { stop(): RssSummary | null } {
  const baseline = rssBytes(pid);
  let peak = baseline ?? 0;
  let samples = baseline === null ? 0 : 1;
  const timer = setInterval(() => {
    const rss = rssBytes(pid);
    if (rss === null) return;
    samples++;
    if (rss > peak) peak = rss;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const last = rssBytes(pid);
      if (last !== null && last > peak) peak = last;
      if (baseline === null) return null;
      const mib = (b: number) => Math.round((b / (1024 * 1024)) * 10) / 10;
      return { baselineMiB: mib(baseline), peakMiB: mib(peak), growthMiB: mib(peak - baseline), samples };
    },
  };
}

let clockTicks: number | undefined;

/** Clock ticks per second, the unit of /proc/<pid>/stat's CPU times (100 on Linux, asked once). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const probe = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 });
    const n = Number(probe.stdout?.trim());
    clockTicks = probe.status === 0 && Number.isInteger(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/**
 * CPU time a process has used so far (user + system, all its threads), in milliseconds, from
 * /proc/<pid>/stat; null where there is no /proc or the process is gone.
 */
export function processCpuMs(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return ((utime + stime) * 1000) / ticksPerSecond();
}
