/**
 * `npm start` as a user runs it from a clone (scripts/run.mjs): warm, it is ready in about a
 * second without reinstalling; stdout carries only sealbox's output; SIGINT and SIGTERM to npm stop
 * the server and leave no process behind; relative paths resolve where the user ran it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

interface Started {
  npm: ChildProcess;
  ready: { kms: string; s3: string; dataDir: string | null };
  stdout: () => string;
  ms: number;
}

/** A user's environment: none of the npm_* variables of the `npm test` running this. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_|^INIT_CWD$/i.test(k)));
}

/** `npm --prefix ROOT start -s -- ARGS` from `cwd`, in its own process group. */
function npmStart(cwd: string, args: string[]): Promise<Started> {
  const started = performance.now();
  const npm = spawn('npm', ['--prefix', ROOT, 'start', '-s', '--', '--json', '--quiet', '--kms-port', '0', '--s3-port', '0', '--no-console', ...args], { cwd, env: userEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  npm.stderr!.on('data', (d: Buffer) => (err += d));
  return new Promise((resolve, reject) => {
    npm.stdout!.on('data', (d: Buffer) => {
      const first = out === '' || !out.includes('\n');
      out += d;
      if (first && out.includes('\n')) resolve({ npm, ready: JSON.parse(out.slice(0, out.indexOf('\n'))) as Started['ready'], stdout: () => out, ms: performance.now() - started });
    });
    npm.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${err}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}

async function gone(started: Started): Promise<void> {
  const deadline = Date.now() + 5000;
  while (groupAlive(started.npm.pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(groupAlive(started.npm.pid!)).toBe(false);
  expect(await refused(started.ready.kms)).toBe(true);
  expect(await refused(started.ready.s3)).toBe(true);
}

describe('npm start', () => {
  let dir: string;
  const leftover: ChildProcess[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealbox-npm-start-'));
    // The first run may install or build; the runs below are warm.
    const first = await npmStart(dir, ['--in-memory']);
    first.npm.kill('SIGTERM');
    await exited(first.npm);
  }, 300_000);
  afterAll(() => {
    for (const child of leftover) if (groupAlive(child.pid!)) process.kill(-child.pid!, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('warm: ready in about a second, stdout only the JSON line; %s stops it, leaving nothing behind', async (signal) => {
    const started = await npmStart(dir, ['--in-memory']);
    leftover.push(started.npm);
    process.stdout.write(`warm npm start ready in ${Math.round(started.ms)} ms\n`);
    expect(started.ms).toBeLessThan(5000); // about a second here; a reinstall alone takes longer
    expect(started.ready.kms).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/); // HTTPS (and HTTP) by default
    started.npm.kill(signal); // npm's pid only, as a supervisor sends it: not the process group
    await exited(started.npm);
    await gone(started);
    expect(started.stdout().trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('stops the server when npm itself is killed (SIGKILL: it cannot pass anything on)', async () => {
    const started = await npmStart(dir, ['--in-memory']);
    leftover.push(started.npm);
    started.npm.kill('SIGKILL');
    await gone(started);
  }, 60_000);

  it('resolves relative paths against the directory npm start was run in', async () => {
    const started = await npmStart(dir, ['--data-dir', 'relative-state']);
    leftover.push(started.npm);
    expect(started.ready.dataDir).toBe(join(dir, 'relative-state'));
    started.npm.kill('SIGTERM');
    await exited(started.npm);
    await gone(started);
  }, 60_000);
});
