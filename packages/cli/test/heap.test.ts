import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEAP_GROWING_PERCENT } from '../src/heap';

const HEAP = join(__dirname, '..', 'dist', 'heap.js');

/**
 * A process that allocates slowly, as a server answering one request at a time does, with a full
 * collection every 100 ms. V8 prints the old generation's next limit after each one, with the
 * factor it used (--trace-gc-verbose): the factor of the last one is returned.
 */
function lastGrowingFactor(tuned: boolean): Promise<number> {
  const script = `
    if (process.argv[1] === 'tuned') require(${JSON.stringify(HEAP)}).tuneHeapForServing();
    const keep = [];
    for (let i = 0; i < 300000; i++) keep.push({ i });
    let n = 0;
    const timer = setInterval(() => {
      keep.push({ n });
      if (++n % 20 === 0) gc();
      if (n === 300) clearInterval(timer);
    }, 5);`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--trace-gc-verbose', '--expose-gc', '-e', script, tuned ? 'tuned' : 'default'], { timeout: 20_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(err);
      const limits = [...stdout.matchAll(/\[HeapController\] Limit: .*\((\d+\.\d)\)$/gm)];
      if (limits.length === 0) return reject(new Error(`no limit lines in:\n${stdout.slice(0, 2000)}`));
      resolve(Number(limits[limits.length - 1]![1]));
    });
  });
}

describe('the sealbox start process heap', () => {
  it('grows the old generation 4x what is live even when allocation is slow (V8 alone: 1.1x)', async () => {
    const [tuned, untuned] = await Promise.all([lastGrowingFactor(true), lastGrowingFactor(false)]);
    expect(tuned).toBe(1 + HEAP_GROWING_PERCENT / 100);
    // The control: without the setting, V8 picks a factor barely above 1 for this process, so
    // the assertion above would fail if tuneHeapForServing set nothing.
    expect(untuned).toBeLessThan(2);
  });
});

/**
 * The wiring: which processes get the setting. Each child loads a probe (-r) that, when the
 * process exits, allocates slowly with a full collection every 100 ms, as lastGrowingFactor's
 * script does, so the factor of its last limit line is V8's choice (1.1) unless the flag is set.
 * The flag is process-wide and stays set, so the probe sees what the process ran before it.
 */
const PROBE = `
process.on('exit', () => {
  const keep = [];
  for (let i = 0; i < 300000; i++) keep.push({ i });
  for (let n = 1; n <= 300; n++) {
    keep.push({ n });
    const until = Date.now() + 5;
    while (Date.now() < until);
    if (n % 20 === 0) gc();
  }
});`;

function factorAtExit(probe: string, args: string[], stopWhenReady: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--trace-gc-verbose', '--expose-gc', '-r', probe, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      // sealbox start --json prints its endpoints as one line once it listens.
      if (stopWhenReady && /^\{"kms"/m.test(stdout)) child.kill('SIGTERM');
    });
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const limits = [...stdout.matchAll(/\[HeapController\] Limit: .*\((\d+\.\d)\)$/gm)];
      if (limits.length === 0) return reject(new Error(`no limit lines; stderr:\n${stderr.slice(0, 2000)}`));
      resolve(Number(limits[limits.length - 1]![1]));
    });
  });
}

describe('which processes get the setting', () => {
  const BIN = join(__dirname, '..', 'dist', 'bin.js');
  const INDEX = join(__dirname, '..', 'dist', 'index.js');
  let dir: string;
  let probe: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sealbox-heap-'));
    probe = join(dir, 'probe.js');
    writeFileSync(probe, PROBE);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sealbox start: 4x; another command and a process running startSealbox() in process: V8 alone', async () => {
    const inProcess = `
      const { startSealbox } = require(${JSON.stringify(INDEX)});
      startSealbox({ kmsPort: 0, s3Port: 0 }).then((sb) => sb.stop());`;
    const startArgs = [BIN, 'start', '--in-memory', '--kms-port', '0', '--s3-port', '0', '--no-console', '--json', '--quiet'];
    const [start, chosen, chosenSnake, version, embedded] = await Promise.all([
      factorAtExit(probe, startArgs, true),
      // A factor the user gave Node stays theirs (V8 takes - or _ in a flag's name).
      factorAtExit(probe, ['--heap-growing-percent=50', ...startArgs], true),
      factorAtExit(probe, ['--heap_growing_percent=70', ...startArgs], true),
      factorAtExit(probe, [BIN, '--version'], false),
      factorAtExit(probe, ['-e', inProcess], false),
    ]);
    expect(start).toBe(1 + HEAP_GROWING_PERCENT / 100);
    expect(chosen).toBe(1.5);
    expect(chosenSnake).toBe(1.7);
    expect(version).toBeLessThan(2);
    expect(embedded).toBeLessThan(2);
  }, 60_000);
});
