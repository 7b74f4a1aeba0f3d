/**
 * Sealbox as a user installs it: every package packed (pnpm pack turns workspace:* into versions),
 * the tarballs installed into a new project in a temporary directory outside the repository, and
 * from there `npx sealbox start` with the AWS CLI, a jest project of four files in parallel workers
 * using the README's jest pattern, a node:test project, and the type declarations.
 *
 * The install uses the pinned pnpm and its store, warm in CI, as scripts/run.mjs does. The one
 * native dependency, better-sqlite3, is not compiled again: its dependencies are pinned to the
 * versions of the repository's lockfile, so pnpm's side-effects cache (keyed by that dependency
 * tree) hands over the binary the repository's own install built.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { runCommand } from './helpers';

/**
 * The files of the jest block in docs/testing.md: the first ```js block with a `// global-setup.js`
 * line, cut at each `// <file name>` line (the text after the name is a comment on the file).
 */
export function jestFilesFromDocs(markdown: string): Record<string, string> {
  const block = [...markdown.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => /^\/\/ global-setup\.js/m.test(b));
  if (block === undefined) throw new Error('docs/testing.md has no jest block with a // global-setup.js line');
  const files: Record<string, string> = {};
  let current: string | undefined;
  for (const line of block.split('\n')) {
    const name = /^\/\/ ([\w.-]+\.js)\b/.exec(line)?.[1];
    if (name !== undefined) current = name;
    else if (/^\/\/ any test file/.test(line)) current = undefined;
    else if (current !== undefined) files[current] = (files[current] ?? '') + line + '\n';
  }
  return Object.fromEntries(Object.entries(files).map(([name, text]) => [name, text.trim() + '\n']));
}

const ROOT = join(__dirname, '..', '..', '..');
const PNPM_VERSION = '12.4.2';

const version = (path: string) => (JSON.parse(readFileSync(join(ROOT, path, 'package.json'), 'utf8')) as { version: string }).version;
const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

function pnpmCommand(): string[] {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  return !probe.error && probe.status === 0 && probe.stdout.trim() === PNPM_VERSION ? ['pnpm'] : ['npx', '--yes', `pnpm@${PNPM_VERSION}`];
}

/** node-gyp needs Node's headers: npm hands its nodedir setting to the scripts it runs. */
function nodedir(): string | undefined {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const r = spawnSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' });
  const value = r.stdout?.trim();
  return value && value !== 'undefined' && value !== 'null' ? value : undefined;
}

function exec(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeout = 240_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * better-sqlite3 and everything under it, at the versions the repository's lockfile holds
 * (`name: version` lines of its snapshots section).
 */
function betterSqliteClosure(): Record<string, string> {
  const lock = readFileSync(join(ROOT, 'pnpm-lock.yaml'), 'utf8');
  const snapshots = lock.slice(lock.indexOf('\nsnapshots:\n'));
  const deps = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const line of snapshots.split('\n')) {
    const entry = /^ {2}'?([^\s']+)'?:( \{\})?$/.exec(line);
    if (entry) deps.set(entry[1]!, (current = {}));
    const dep = /^ {6}'?([^\s']+)'?: (\S+)$/.exec(line);
    if (dep && current) current[dep[1]!] = dep[2]!;
  }
  const root = [...deps.keys()].find((k) => k.startsWith('better-sqlite3@'));
  if (!root) throw new Error('better-sqlite3 is not in pnpm-lock.yaml');
  const pins: Record<string, string> = {};
  const stack = [root];
  while (stack.length > 0) {
    const key = stack.pop()!;
    const at = key.lastIndexOf('@');
    const [name, v] = [key.slice(0, at), key.slice(at + 1)];
    if (pins[name] !== undefined) continue;
    pins[name] = v;
    for (const [dep, depVersion] of Object.entries(deps.get(key) ?? {})) stack.push(`${dep}@${depVersion}`);
  }
  return pins;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('installed from the packed tarballs, outside the repository', () => {
  let dir: string;
  let project: string;
  const tarballs: Record<string, string> = {};
  const userEnv = () => ({ PATH: process.env.PATH ?? '', HOME: dir, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealbox-install-'));
    project = join(dir, 'project');
    mkdirSync(project);
    const pnpm = pnpmCommand();
    let since = performance.now();
    const pack = await exec(pnpm[0]!, [...pnpm.slice(1), '--filter', '@sealbox/testing...', 'pack', '--pack-destination', join(dir, 'tarballs')], ROOT);
    if (pack.code !== 0) throw new Error(`pnpm pack failed: ${pack.stderr}${pack.stdout}`);
    for (const file of readdirSync(join(dir, 'tarballs'))) {
      const manifest = JSON.parse((await exec('tar', ['-xzOf', join(dir, 'tarballs', file), 'package/package.json'], dir)).stdout) as { name: string };
      tarballs[manifest.name] = join(dir, 'tarballs', file);
    }
    process.stderr.write(`packed ${Object.keys(tarballs).length} packages in ${elapsed(since)}\n`);

    const tarball = (name: string) => `file:${tarballs[name]}`;
    const installed = (path: string) => version(path);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'uses-sealbox',
        private: true,
        devDependencies: {
          '@aws-sdk/client-kms': installed('packages/e2e/node_modules/@aws-sdk/client-kms'),
          '@aws-sdk/client-s3': installed('packages/e2e/node_modules/@aws-sdk/client-s3'),
          '@sealbox/testing': tarball('@sealbox/testing'),
          '@types/node': installed('node_modules/@types/node'),
          jest: installed('node_modules/jest'),
          sealbox: tarball('sealbox'),
          typescript: installed('node_modules/typescript'),
        },
      }),
    );
    // The @sealbox/* dependencies of the tarballs are versions no registry has yet: the tarballs.
    const overrides = { ...Object.fromEntries(Object.keys(tarballs).map((name) => [name, tarball(name)])), ...betterSqliteClosure() };
    writeFileSync(
      join(project, 'pnpm-workspace.yaml'),
      ['allowBuilds:', '  better-sqlite3: true', "  '@parcel/watcher': false", 'overrides:', ...Object.entries(overrides).map(([k, v]) => `  '${k}': '${v}'`), ''].join('\n'),
    );
    since = performance.now();
    // The user's own HOME here: pnpm's store (and its side-effects cache) lives under it.
    const env = { ...userEnv(), HOME: process.env.HOME ?? dir, ...(nodedir() ? { npm_config_nodedir: nodedir() } : {}) };
    const install = await exec(pnpm[0]!, [...pnpm.slice(1), 'install', '--prefer-offline', '--reporter=append-only'], project, env);
    if (install.code !== 0) throw new Error(`pnpm install failed: ${install.stderr}${install.stdout}`);
    process.stderr.write(`installed in ${elapsed(since)}${/node-gyp|gyp info/.test(install.stdout + install.stderr) ? ' (better-sqlite3 compiled)' : ''}\n`);
  }, 400_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('packs each package with its LICENSE, README, built JavaScript, declarations and run-time assets, and versions for workspace:*', async () => {
    expect(Object.keys(tarballs).sort()).toEqual(['@sealbox/kms', '@sealbox/policy', '@sealbox/runtime', '@sealbox/s3', '@sealbox/sigv4', '@sealbox/testing', 'sealbox']);
    for (const [name, file] of Object.entries(tarballs)) {
      const files = (await exec('tar', ['-tzf', file], dir)).stdout.split('\n');
      for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts']) expect([name, files.includes(`package/${f}`)]).toEqual([name, true]);
      expect(files.some((f) => f.includes('.test.') || f.endsWith('.tsbuildinfo'))).toBe(false);
      const manifest = (await exec('tar', ['-xzOf', file, 'package/package.json'], dir)).stdout;
      expect(manifest).not.toContain('workspace:');
      expect(JSON.parse(manifest)).not.toHaveProperty('private');
    }
    const cli = (await exec('tar', ['-tzf', tarballs.sealbox!], dir)).stdout;
    for (const f of ['dist/bin.js', 'assets/console/index.html', 'assets/console/console.js']) expect(cli).toContain(`package/${f}`);
    expect((await exec('tar', ['-tzf', tarballs['@sealbox/kms']!], dir)).stdout).toContain('package/dist/model/kms-model.json');
  });

  it('npx sealbox start --json serves both services, the AWS CLI talks to them, and the default data directory is the project\'s', async () => {
    const since = performance.now();
    const child: ChildProcess = spawn('npx', ['sealbox', 'start', '--json', '--kms-port', '0', '--s3-port', '0', '--console-port', '0'], { cwd: project, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    try {
      const ready = await new Promise<{ kms: string; s3: string; console: string; region: string; dataDir: string }>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as never));
        child.once('exit', (code) => reject(new Error(`npx sealbox start exited with ${code}: ${stderr}`)));
      });
      process.stderr.write(`npx sealbox start ready in ${elapsed(since)}\n`);
      expect(ready.dataDir).toBe(join(project, '.sealbox'));
      // HTTPS by default: the CLI trusts the local CA through the printed bundle.
      const env = { AWS_ENDPOINT_URL_KMS: ready.kms, AWS_ENDPOINT_URL_S3: ready.s3, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: ready.region, AWS_CA_BUNDLE: (ready as { caBundle?: string }).caBundle ?? '' };
      const key = await runCommand('aws', ['kms', 'create-key', '--query', 'KeyMetadata.KeyId', '--output', 'text'], env);
      expect(key).toMatchObject({ code: 0 });
      expect(key.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
      expect(await runCommand('aws', ['s3', 'mb', 's3://installed'], env)).toMatchObject({ code: 0 });
      writeFileSync(join(dir, 'note.txt'), 'from an installed sealbox\n');
      expect(await runCommand('aws', ['s3', 'cp', join(dir, 'note.txt'), 's3://installed/note.txt', '--sse', 'AES256'], env)).toMatchObject({ code: 0 });
      expect((await runCommand('aws', ['s3', 'cp', 's3://installed/note.txt', '-'], env)).stdout).toBe('from an installed sealbox\n');
      // The console's page and script come from the package's assets directory.
      const page = await fetch(ready.console);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
      // SIGTERM to npx alone (its shell does not pass it on): the server stops all the same.
      child.kill('SIGTERM');
      const deadline = Date.now() + 5000;
      while (groupAlive(child.pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(groupAlive(child.pid!)).toBe(false);
    } finally {
      if (groupAlive(child.pid!)) process.kill(-child.pid!, 'SIGKILL');
    }
  }, 60_000);

  it('a jest project: four test files in parallel workers, the README\'s globalSetup pattern, each with its own state', async () => {
    const jestDir = join(project, 'jest-suite');
    mkdirSync(jestDir);
    // The three files exactly as docs/testing.md writes them.
    const documented = jestFilesFromDocs(readFileSync(join(__dirname, '..', '..', '..', 'docs', 'testing.md'), 'utf8'));
    expect(Object.keys(documented)).toEqual(expect.arrayContaining(['jest.config.js', 'global-setup.js', 'global-teardown.js']));
    for (const name of ['jest.config.js', 'global-setup.js', 'global-teardown.js']) writeFileSync(join(jestDir, name), documented[name]!);
    for (let n = 1; n <= 4; n++) {
      writeFileSync(
        join(jestDir, `file-${n}.test.js`),
        `const { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } = require('@aws-sdk/client-kms');
const { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } = require('@aws-sdk/client-s3');
const { appendFileSync } = require('node:fs');

const kms = new KMSClient({});
const s3 = new S3Client({ forcePathStyle: true });
const bucket = 'suite-${n}';

test('file ${n} keeps to its own bucket and key', async () => {
  appendFileSync(${JSON.stringify(join(jestDir, 'workers.txt'))}, process.env.JEST_WORKER_ID + '\\n');
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'file ${n}' }));
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (let i = 0; i < 5; i++) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'object-' + i, Body: 'file ${n} object ' + i, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KeyMetadata.KeyId }));
  }
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  expect(listed.Contents.map((o) => o.Key)).toEqual([0, 1, 2, 3, 4].map((i) => 'object-' + i));
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'object-3' }));
  expect(await got.Body.transformToString()).toBe('file ${n} object 3');
  expect(got.SSEKMSKeyId).toBe(KeyMetadata.Arn);
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: KeyMetadata.KeyId, Plaintext: Buffer.from('${n}') }));
  expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext).toString()).toBe('${n}');
});
`,
      );
    }
    const since = performance.now();
    const r = await exec(join(project, 'node_modules', '.bin', 'jest'), ['--maxWorkers=4', '--ci'], jestDir, userEnv(), 120_000);
    process.stderr.write(`jest project passed in ${elapsed(since)}\n`);
    expect(r.stderr).toContain('Tests:       4 passed, 4 total');
    expect(r.code).toBe(0);
    const workers = new Set(readFileSync(join(jestDir, 'workers.txt'), 'utf8').trim().split('\n'));
    expect(workers.size).toBeGreaterThan(1); // files ran in parallel workers, not one after another in one
  }, 150_000);

  it('a node:test project: reset() between tests, as the README shows', async () => {
    writeFileSync(
      join(project, 'sealbox.test.mjs'),
      `import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { startSandbox } from '@sealbox/testing';

let sandbox, kms;
before(async () => { sandbox = await startSandbox(); kms = new KMSClient(sandbox.kmsConfig); });
beforeEach(() => sandbox.reset());
after(() => sandbox.stop());

test('encrypts and decrypts with a new key', async () => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: KeyMetadata.KeyId, Plaintext: Buffer.from('hello') }));
  const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob }));
  assert.equal(Buffer.from(Plaintext).toString(), 'hello');
});

test('starts from an empty sandbox', async () => {
  assert.deepEqual((await kms.send(new ListKeysCommand({}))).Keys, []);
});
`,
    );
    const r = await exec(process.execPath, ['--test', 'sealbox.test.mjs'], project, userEnv(), 60_000);
    expect(r.stdout).toContain('# pass 2');
    expect(r.code).toBe(0);
  }, 90_000);

  it('type-checks against the installed declarations', async () => {
    writeFileSync(
      join(project, 'check.ts'),
      `import { startSandbox, type Sandbox } from '@sealbox/testing';
import { startSealbox, type Sealbox } from 'sealbox';
export async function check(): Promise<[Sandbox, Sealbox]> {
  const sandbox = await startSandbox({ region: 'eu-west-1' });
  const sealbox = await startSealbox({ kmsPort: 0, s3Port: 0 });
  return [sandbox, sealbox];
}
`,
    );
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'node16', moduleResolution: 'node16', target: 'ES2022', types: ['node'] }, files: ['check.ts'] }));
    const r = await exec(join(project, 'node_modules', '.bin', 'tsc'), ['-p', '.'], project, userEnv(), 60_000);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 90_000);
});
