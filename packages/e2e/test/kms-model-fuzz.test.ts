/**
 * A property test generated from the AWS KMS model (packages/kms/src/model/kms-model.json): every
 * member of every operation gets every wrong JSON type, null, `[null]`, `{"k": null}`, values
 * nested 5,000 levels, NUL bytes and 1 MB strings, beside valid values for the operation's other
 * required members (so the request reaches the handler when the member itself is acceptable),
 * through real HTTP against the real `sealbox start` in a child process.
 *
 * The property: an AWS-shaped 4xx (`__type`, and `message` unless AWS sends that error without
 * one) or a success; never a 5xx, a hang, an internal error on stderr, or the process ending.
 * Afterwards the health endpoint, LookupEvents and the console's event list still answer.
 *
 * The default run is seeded and takes some 10-20 seconds: 1 MB values go to a seeded sample of
 * members. SEALBOX_MODEL_FUZZ=full sends them to every member and adds, per operation, 1,000
 * requests with three bad members each (SEALBOX_MODEL_FUZZ_COMBINATIONS), about a minute;
 * SEALBOX_MODEL_FUZZ_SEED picks another seed.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import aws4 from 'aws4';
import { startKmsServer } from '@sealbox/kms';
import { VirtualClock } from '@sealbox/runtime';
import { StaticCredentialProvider } from '@sealbox/sigv4';
import { mulberry32 } from '@sealbox/runtime';

const BIN = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
const MODEL = JSON.parse(readFileSync(join(__dirname, '..', '..', 'kms', 'src', 'model', 'kms-model.json'), 'utf8')) as {
  operations: Record<string, { input: string }>;
  shapes: Record<string, Shape>;
};
const FULL = process.env.SEALBOX_MODEL_FUZZ === 'full';
const SEED = Number(process.env.SEALBOX_MODEL_FUZZ_SEED ?? 20261206);
/** Requests per operation with several bad members at once, in the full run. */
const COMBINATIONS = Number(process.env.SEALBOX_MODEL_FUZZ_COMBINATIONS ?? 1000);
const CLOUDTRAIL_TARGET = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents';
/** Errors AWS sends with no message (MalformedPolicyDocumentException for policy text that is not JSON). */
const MESSAGELESS = new Set(['SerializationException', 'MalformedPolicyDocumentException', 'InvalidCiphertextException', 'KMSInvalidSignatureException', 'KMSInvalidMacException', 'UnknownOperationException']);

interface Shape {
  type: string;
  members?: Record<string, { shape: string }>;
  required?: string[];
  member?: { shape: string };
  min?: number;
  max?: number;
  enum?: string[];
}

/** Seeded, so a failing run can be repeated exactly. */
const random = mulberry32;

const nested = (open: string, inner: string, close: string, levels: number) => open.repeat(levels) + inner + close.repeat(levels);
const DEEP_LIST = nested('[', '"x"', ']', 5000);
const DEEP_MAP = nested('{"a":', '"x"', '}', 5000);

/** Bad values as JSON text (deep nesting cannot go through JSON.stringify). */
const VARIANTS: Record<string, string> = {
  string: '"x"',
  'empty string': '""',
  integer: '7',
  negative: '-1',
  fraction: '1.5',
  'huge number': '1e400',
  true: 'true',
  false: 'false',
  object: '{}',
  array: '[]',
  null: 'null',
  '[null]': '[null]',
  '{"k": null}': '{"k":null}',
  'list of strings': '["x"]',
  'list of objects': '[{}]',
  'map of strings': '{"k":"v"}',
  'NUL in a string': '"a\\u0000b"',
  'NUL in a map': '{"\\u0000":"\\u0000"}',
  'NUL in a list': '["\\u0000"]',
  'list 5,000 deep': DEEP_LIST,
  'map 5,000 deep': DEEP_MAP,
  'map of a 5,000-deep list': `{"a":${DEEP_LIST}}`,
  'list of a 5,000-deep map': `[${DEEP_MAP}]`,
};
/** 1 MB strings: base64-valid, so blobs decode them; within the 1 MiB body limit. */
const HUGE: Record<string, string> = {
  '1 MB string': `"${'A'.repeat(1_000_000)}"`,
  '1 MB map value': `{"k":"${'A'.repeat(1_000_000)}"}`,
  '1 MB list element': `["${'A'.repeat(1_000_000)}"]`,
};

const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'kms:*', Resource: '*' }],
});

/** A valid value for a member, so that a request fails (or not) on the member under test. */
function validValue(name: string, shapeName: string, keyId: string): unknown {
  const shape = MODEL.shapes[shapeName]!;
  if (/KeyId$/.test(name)) return keyId;
  if (name === 'AliasName') return 'alias/model-fuzz';
  if (/Principal$/.test(name)) return 'arn:aws:iam::000000000000:root';
  if (/Region$/.test(name)) return 'us-west-2';
  if (name === 'Policy') return POLICY;
  if (name === 'Operations') return ['Decrypt'];
  if (name === 'Tags') return [{ TagKey: 'k', TagValue: 'v' }];
  switch (shape.type) {
    case 'string':
      return shape.enum ? shape.enum[0] : 'x'.repeat(Math.max(shape.min ?? 1, 1));
    case 'blob':
      return Buffer.alloc(Math.max(shape.min ?? 1, 1), 7).toString('base64');
    case 'integer':
    case 'long':
      return shape.min ?? 1;
    case 'boolean':
      return false;
    case 'timestamp':
      return Math.floor(Date.now() / 1000) + 3600;
    case 'list':
      return (shape.min ?? 0) > 0 ? [validValue('', shape.member!.shape, keyId)] : [];
    case 'map':
      return {};
    default:
      return Object.fromEntries((shape.required ?? []).map((m) => [m, validValue(m, shape.members![m]!.shape, keyId)]));
  }
}

/** A body of the operation's required members, valid, with `overrides` (JSON text) spliced in. */
function body(operation: string, keyId: string, overrides: Record<string, string>): string {
  const input = MODEL.shapes[MODEL.operations[operation]!.input]!;
  const parts = (input.required ?? []).filter((m) => !(m in overrides)).map((m) => `${JSON.stringify(m)}:${JSON.stringify(validValue(m, input.members![m]!.shape, keyId))}`);
  for (const [m, text] of Object.entries(overrides)) parts.push(`${JSON.stringify(m)}:${text}`);
  return `{${parts.join(',')}}`;
}

interface Answer {
  status: number;
  text: string;
}

interface Started {
  child: ChildProcessWithoutNullStreams;
  ready: { kms: string; s3: string; console: string };
  stderr: string[];
  dir: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function send(base: string, target: string, payload: string, credentials = { accessKeyId: 'test', secretAccessKey: 'test' }, service = 'kms'): Promise<Answer> {
  const url = new URL(base);
  const options = {
    host: url.hostname,
    port: Number(url.port),
    method: 'POST',
    path: '/',
    service,
    region: 'us-east-1',
    body: payload,
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': target } as Record<string, string>,
  };
  aws4.sign(options, credentials);
  return new Promise((resolve, reject) => {
    const req = request({ host: options.host, port: options.port, method: 'POST', path: '/', headers: options.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer in 10 s to ${target}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The property; a failure is kept with what was sent, so one run shows them all. */
function checkAnswer(res: Answer, what: string, failures: string[]): void {
  let json: { __type?: unknown; message?: unknown } | undefined;
  try {
    json = JSON.parse(res.text) as typeof json;
  } catch {
    json = undefined;
  }
  const ok =
    res.status < 500 &&
    json !== undefined &&
    (res.status === 200 || (typeof json.__type === 'string' && (typeof json.message === 'string' || MESSAGELESS.has(json.__type))));
  if (!ok) failures.push(`${what}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
}

function startCli(): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'sealbox-model-fuzz-'));
  // bob has no policy at all: the crash of issue 15 needed no permission.
  writeFileSync(
    join(dir, 'seed.yaml'),
    'accounts:\n  - id: "000000000000"\n    users:\n      - { name: bob, accessKeyId: BOB, secretAccessKey: bob-secret }\n',
  );
  const child = spawn(process.execPath, [BIN, 'start', '--no-tls', '--json', '--quiet', '--in-memory', '--kms-port', '0', '--s3-port', '0', '--console-port', '0', '--seed', join(dir, 'seed.yaml')]);
  const stderr: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (d: string) => stderr.push(d));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve({ child, ready: JSON.parse(line) as Started['ready'], stderr, dir }));
    child.once('exit', (code) => reject(new Error(`sealbox exited with ${code}: ${stderr.join('')}`)));
  });
}

let started: Started;

beforeAll(async () => {
  started = await startCli();
}, 30_000);

afterAll(() => {
  agent.destroy();
  started?.child.kill();
  if (started) rmSync(started.dir, { recursive: true, force: true });
});

/** The process is alive, healthy, its event log readable by LookupEvents and the console. */
async function expectAlive(): Promise<void> {
  expect(started.child.exitCode).toBeNull();
  expect(started.child.signalCode).toBeNull();
  expect((await fetch(`${started.ready.kms}/_sealbox/health`)).status).toBe(200);
  const lookup = await send(started.ready.kms, CLOUDTRAIL_TARGET, '{"MaxResults":50}', undefined, 'cloudtrail');
  expect(lookup.status).toBe(200);
  const { Events } = JSON.parse(lookup.text) as { Events: { CloudTrailEvent: string }[] };
  expect(Events.length).toBeGreaterThan(0);
  for (const e of Events) expect(() => JSON.parse(e.CloudTrailEvent) as unknown).not.toThrow();
  const consoleEvents = await fetch(`${started.ready.console}/api/events?limit=500`);
  expect(consoleEvents.status).toBe(200);
  expect(started.stderr.join('')).not.toContain('internal error');
}

describe('issue 15: one request must not end the process', () => {
  it('an Encrypt by a user with no permissions, with an EncryptionContext value nested 5,000 levels, is answered and the process lives on', async () => {
    const payload = `{"KeyId":"alias/anything","Plaintext":"aGk=","EncryptionContext":{"a":${nested('[', '', ']', 5000)}}}`;
    expect(payload.length).toBeGreaterThan(10_000);
    const res = await send(started.ready.kms, 'TrentService.Encrypt', payload, { accessKeyId: 'BOB', secretAccessKey: 'bob-secret' });
    expect(res.status).toBe(400);
    // A map's value must be a string: AWS's deserializer stops at the first '['.
    expect(JSON.parse(res.text)).toEqual({ __type: 'SerializationException', message: 'Start of list found where not expected' });
    // Recording the event is what used to overflow the stack, after the answer went out.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expectAlive();
    const lookup = await send(started.ready.kms, CLOUDTRAIL_TARGET, '{"LookupAttributes":[{"AttributeKey":"Username","AttributeValue":"bob"}]}', undefined, 'cloudtrail');
    const { Events } = JSON.parse(lookup.text) as { Events: { CloudTrailEvent: string }[] };
    const record = JSON.parse(Events[0]!.CloudTrailEvent) as { errorCode: string; requestParameters: { encryptionContext: unknown } };
    expect(record.errorCode).toBe('SerializationException');
    expect(JSON.stringify(record.requestParameters)).toContain('nested too deeply to record');
  });
});

describe('a failure after the answer is chosen', () => {
  it('(recording the event) is reported once and stays with its request: the call is answered (500: not acknowledged without its record), the next ones too', async () => {
    const reported: unknown[] = [];
    const server = await startKmsServer({ clock: new VirtualClock(), credentials: new StaticCredentialProvider(), host: '127.0.0.1', port: 0, onInternalError: (err) => reported.push(err) });
    try {
      const record = server.core.trail.record.bind(server.core.trail);
      server.core.trail.record = () => {
        throw new RangeError('Maximum call stack size exceeded');
      };
      const res = await send(server.url, 'TrentService.GenerateRandom', '{"NumberOfBytes":8}');
      // An acknowledged call always has its record (the group commit's contract): one whose record
      // cannot be made is answered KMSInternalException.
      expect(res.status).toBe(500);
      expect(JSON.parse(res.text)).toEqual({ __type: 'KMSInternalException', message: 'An internal error occurred.' });
      expect(reported).toEqual([new RangeError('Maximum call stack size exceeded')]);
      server.core.trail.record = record;
      expect((await send(server.url, 'TrentService.GenerateRandom', '{"NumberOfBytes":8}')).status).toBe(200);
      expect(reported).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe('model-driven property test: every member of every KMS operation', () => {
  it('answers every bad value with an AWS-shaped 4xx, and the process, its event log and its console live on', async () => {
    const started_ = Date.now();
    const next = random(SEED);
    const operations = Object.keys(MODEL.operations);
    const members = operations.flatMap((op) => Object.keys(MODEL.shapes[MODEL.operations[op]!.input]!.members ?? {}).map((m) => [op, m] as const));
    // Huge values go to a seeded sample of members (every member with SEALBOX_MODEL_FUZZ=full).
    const hugeFor = new Set(members.filter(() => FULL || next() < 0.06).map(([op, m]) => `${op}.${m}`));
    let sent = 0;
    const failures: string[] = [];
    for (const operation of operations) {
      // A fresh symmetric key per operation, so that one operation's success (ScheduleKeyDeletion,
      // DisableKey) leaves the next ones a usable key.
      const created = await send(started.ready.kms, 'TrentService.CreateKey', '{}');
      const keyId = (JSON.parse(created.text) as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId;
      const target = `TrentService.${operation}`;
      for (const member of Object.keys(MODEL.shapes[MODEL.operations[operation]!.input]!.members ?? {})) {
        const variants = { ...VARIANTS, ...(hugeFor.has(`${operation}.${member}`) ? HUGE : {}) };
        for (const [name, text] of Object.entries(variants)) {
          const payload = body(operation, keyId, { [member]: text });
          checkAnswer(await send(started.ready.kms, target, payload), `${operation} ${member}: ${name}`, failures);
          sent++;
        }
      }
      if (FULL) {
        // Several bad members at once, in a random order.
        const memberNames = Object.keys(MODEL.shapes[MODEL.operations[operation]!.input]!.members ?? {});
        const names = Object.keys(VARIANTS);
        for (let i = 0; i < COMBINATIONS && memberNames.length > 0; i++) {
          const overrides: Record<string, string> = {};
          for (let j = 0; j < 3; j++) overrides[memberNames[Math.floor(next() * memberNames.length)]!] = VARIANTS[names[Math.floor(next() * names.length)]!]!;
          const what = `${operation} ${JSON.stringify(Object.keys(overrides))} (seed ${SEED})`;
          checkAnswer(await send(started.ready.kms, target, body(operation, keyId, overrides)), what, failures);
          sent++;
        }
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(4000);
    await expectAlive();
    if (!FULL) expect(Date.now() - started_).toBeLessThan(40_000);
  }, FULL ? 30 * 60_000 : 60_000);
});
