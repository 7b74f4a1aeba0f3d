// The harness measures and reports: it drives a started Sealbox (the built CLI in a child
// process) and the bare server, counts operations, bytes and errors, and writes its table and
// JSON. No figure is asserted beyond "something was measured": performance is read from
// `npm run bench`, not checked by timed tests that would flake on a busy machine.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SignedClient,
  TABLE_COLUMNS,
  createBucket,
  createKey,
  formatCpu,
  formatRatio,
  markdownReport,
  parseOptions,
  percentile,
  processCpuMs,
  runBench,
  runLoad,
  runMultipart,
  sseKmsHeaders,
  startMoto,
  startSealbox,
  writeReport,
  type BenchReport,
  type Target,
} from '../src/index';

const MiB = 1024 * 1024;

let out: string;
beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'sealbox-bench-test-'));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

test('percentile is nearest-rank over an ascending array', () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  expect(percentile(sorted, 0.5)).toBe(50);
  expect(percentile(sorted, 0.99)).toBe(99);
  expect(percentile([7], 0.99)).toBe(7);
  expect(percentile([], 0.5)).toBeNull();
});

test('ratios keep two significant digits when small', () => {
  expect(formatRatio(14.46)).toBe('14.5×');
  expect(formatRatio(0.913)).toBe('0.91×');
  expect(formatRatio(0.0043)).toBe('0.0043×');
  expect(formatRatio(null)).toBe('–');
});

test('CPU per operation: three significant figures, thousands grouped', () => {
  expect(formatCpu(412.34)).toBe('412');
  expect(formatCpu(38.26)).toBe('38.3');
  expect(formatCpu(10_181.6)).toBe('10,182');
  expect(formatCpu(null)).toBe('–');
});

test("a process's CPU time comes from /proc and grows as it works; a missing process has none", () => {
  const before = processCpuMs(process.pid)!;
  const until = Date.now() + 60;
  while (Date.now() < until) Math.sqrt(Math.random());
  expect(before).toBeGreaterThan(0);
  expect(processCpuMs(process.pid)!).toBeGreaterThan(before);
  expect(processCpuMs(2 ** 22 + 17)).toBeNull();
});

test('options: defaults, --quick, explicit values over --quick, unknown scenarios refused', () => {
  expect(parseOptions([])).toMatchObject({ durationSeconds: 10, warmupSeconds: 2, quick: false, moto: true, concurrency: [1, 16], outDir: 'bench-results' });
  expect(parseOptions(['--quick', '--no-moto', '--duration', '0.5'])).toMatchObject({ durationSeconds: 0.5, warmupSeconds: 0.5, quick: true, moto: false });
  expect(parseOptions(['--only', 'kms-encrypt,s3-get-4k'])).toMatchObject({ only: ['kms-encrypt', 's3-get-4k'] });
  expect(parseOptions([])).toMatchObject({ storage: 'data-dir' });
  expect(parseOptions(['--in-memory'])).toMatchObject({ storage: 'in-memory' });
  expect(() => parseOptions(['--only', 'kms-nope'])).toThrow(/unknown scenario kms-nope/);
  expect(() => parseOptions(['--concurrency', '0'])).toThrow(/--concurrency/);
});

describe('the load loop against a server that fails', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'application/xml' });
        res.end('<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('counts every non-2xx answer as an error, with what failed, and no operations', async () => {
    const client = new SignedClient({ host: '127.0.0.1', port }, { accessKeyId: 'test', secretAccessKey: 'test' }, 'us-east-1', 2);
    const stats = await runLoad(client, () => ({ spec: { service: 's3', method: 'GET', path: '/b/k' } }), {
      concurrency: 2,
      warmupSeconds: 0.05,
      durationSeconds: 0.3,
      payload: true,
      verify: true,
    });
    client.close();
    expect(stats.errors).toBeGreaterThan(0);
    expect(stats.ops).toBe(0);
    expect(stats.p50Ms).toBeNull();
    expect(stats.errorSamples).toEqual(['503 SlowDown Please reduce your request rate.']);
  });
});

test('a server slower than the window: the window is extended until each worker completed one operation', async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.end(), 300));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const client = new SignedClient({ host: '127.0.0.1', port }, { accessKeyId: 'test', secretAccessKey: 'test' }, 'us-east-1', 2);
  try {
    const stats = await runLoad(client, () => ({ spec: { service: 'kms', method: 'POST', path: '/', body: Buffer.from('{}') } }), {
      concurrency: 2,
      warmupSeconds: 0,
      durationSeconds: 0.1,
      payload: false,
      verify: true,
    });
    expect(stats.ops).toBeGreaterThanOrEqual(2);
    expect(stats.seconds).toBeGreaterThan(0.1);
    expect(stats.opsPerSec).toBeGreaterThan(0);
  } finally {
    client.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('moto that cannot start says so and points to --no-moto', async () => {
  await expect(startMoto('/nonexistent/moto_server')).rejects.toThrow(/--no-moto/);
});

describe('against a started Sealbox', () => {
  let report: BenchReport;
  beforeAll(async () => {
    report = await runBench({
      durationSeconds: 0.25,
      warmupSeconds: 0.05,
      only: ['kms-encrypt', 's3-get-4k'],
      quick: true,
      moto: false,
      concurrency: [1, 4],
      command: 'test',
    });
  }, 60_000);

  test('measures each scenario at each concurrency on Sealbox and on the bare server', () => {
    expect(report.results.map((r) => [r.scenario, r.concurrency])).toEqual([
      ['kms-encrypt', 1],
      ['kms-encrypt', 4],
      ['s3-get-4k', 1],
      ['s3-get-4k', 4],
    ]);
    for (const r of report.results) {
      expect(r.sealbox.errors).toBe(0);
      expect(r.sealbox.ops).toBeGreaterThan(0);
      expect(r.sealbox.p50Ms).toBeGreaterThan(0);
      expect(r.sealbox.p99Ms!).toBeGreaterThanOrEqual(r.sealbox.p50Ms!);
      expect(r.ceiling.ops).toBeGreaterThan(0);
      expect(r.sealboxToCeiling).toBeGreaterThan(0);
      // Each server's CPU per operation, read from /proc over the measured window.
      expect(r.sealbox.serverCpuUsPerOp).toBeGreaterThan(0);
      expect(r.ceiling.serverCpuUsPerOp).toBeGreaterThan(0);
      expect(r.moto).toBeNull();
      expect(r.sealboxToMoto).toBeNull();
    }
    const get = report.results.find((r) => r.scenario === 's3-get-4k')!;
    expect(get.sealbox.bytes).toBe(get.sealbox.ops * 4096); // every GET brought the whole object
    expect(get.sealbox.mibPerSec).toBeGreaterThan(0);
    expect(report.results[0].sealbox.mibPerSec).toBeNull(); // KMS moves no object data
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.versions.sealbox).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('writes the JSON and the markdown table, timestamped and as latest', () => {
    const files = writeReport(report, out);
    for (const file of Object.values(files)) expect(existsSync(file)).toBe(true);
    expect(JSON.parse(readFileSync(files.latestJson, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
    const md = readFileSync(files.latestMarkdown, 'utf8');
    expect(md).toBe(markdownReport(report));
    expect(md).toContain(`| ${TABLE_COLUMNS.join(' | ')} |`);
    expect(md).toContain('| KMS Encrypt (1 KiB) | 4 |');
    expect(md).toContain('| S3 GetObject 4 KiB | 1 |');
    expect(md).toContain('moto not run (--no-moto)');
  });
});

describe('multipart upload', () => {
  let sealbox: Target;
  beforeAll(async () => {
    sealbox = await startSealbox();
  });
  afterAll(() => sealbox.stop());

  test('uploads in parallel parts with SSE-KMS, checks the object, samples the server RSS', async () => {
    const kms = new SignedClient(sealbox.kms, sealbox.credentials, sealbox.region, 1);
    const s3 = new SignedClient(sealbox.s3, sealbox.credentials, sealbox.region, 2);
    const keyId = await createKey(kms);
    const bucket = await createBucket(s3, 'multipart-test');
    // 12 MiB in 5 MiB parts: two full parts and a shorter last one.
    const stats = await runMultipart(s3, { bucket, key: 'big', createHeaders: sseKmsHeaders(keyId) }, {
      totalBytes: 12 * MiB,
      partBytes: 5 * MiB,
      concurrency: 2,
      verify: true,
      rssPid: sealbox.pid,
    });
    kms.close();
    s3.close();
    expect(stats.errorSamples).toEqual([]);
    expect(stats.parts).toBe(3);
    expect(stats.ops).toBe(3);
    expect(stats.bytes).toBe(12 * MiB);
    expect(stats.totalSeconds).toBeGreaterThan(0);
    expect(stats.mibPerSec).toBeGreaterThan(0);
    if (process.platform === 'linux') expect(stats.rss!.peakMiB).toBeGreaterThan(0);
  }, 30_000);
});

test('npm run bench -- --quick --only kms-encrypt --no-moto prints the table', () => {
  const result = spawnSync(
    process.execPath,
    [join(__dirname, '..', 'dist', 'main.js'), '--quick', '--only', 'kms-encrypt', '--no-moto', '--duration', '0.25', '--warmup', '0.05', '--concurrency', '2', '--out', join(out, 'cli')],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(result.stderr).toContain('[kms-encrypt c=2] sealbox');
  expect(result.status).toBe(0);
  expect(result.stdout).toContain('| KMS Encrypt (1 KiB) | 2 |');
  expect(existsSync(join(out, 'cli', 'latest.json'))).toBe(true);
}, 60_000);
