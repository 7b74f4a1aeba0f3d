/**
 * Grammar-based fuzzing of the seed file parser (packages/cli/src/seed.ts, README "IAM users and
 * roles: the seed file" and "KMS keys and S3 buckets: the seed file"). Each case generates a model
 * (accounts with roots, users and roles; keys of several specs with tags, aliases, rotation and
 * grants; buckets with versioning, encryption, CORS, tags and objects) and renders it as YAML in
 * random styles (block, flow, JSON, comments, anchors). Most documents are valid and must parse to
 * exactly what the model describes; some of those are started in a Sealbox and checked through the
 * SDK. The others get one targeted mutation (a wrong type, an unknown field, a duplicate key, a
 * duplicate name, a huge string, deep nesting, a billion-laughs alias bomb, broken syntax), which
 * must be refused with a SeedError naming the line and the field, quickly, never a crash or a hang.
 */
import { CreateKeyCommand, DescribeKeyCommand, KMSClient, ListAliasesCommand, ListKeysCommand, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { SeedError, parseSeed, type Seed } from '@sealbox/cli';
import { Counters, FUZZ_SEED, Rng, cases, forCases } from './fuzz-random';
import { s3Client, startTestSealbox } from './helpers';

const counters = new Counters();

afterAll(() => {
  console.log(`seed fuzz (SEALBOX_FUZZ_SEED=${FUZZ_SEED}): ${counters.toString()}`);
});

// ---------------------------------------------------------------- the model

interface UserModel {
  name: string;
  path?: string;
  accessKeyId: string;
  secretAccessKey: string;
  policies?: object[];
}
interface RoleModel {
  name: string;
  sessionName?: string;
  accessKeyId: string;
  secretAccessKey: string;
}
interface AccountModel {
  id: string;
  root?: { accessKeyId: string; secretAccessKey: string };
  users?: UserModel[];
  roles?: RoleModel[];
}
interface KeyModel {
  id: string;
  spec?: string;
  usage?: string;
  description?: string;
  enabled?: boolean;
  tags?: Record<string, string>;
  aliases?: string[];
  rotation?: { enabled: boolean; periodDays?: number };
  grants?: { name: string; grantee: string; operations: string[] }[];
}
interface ObjectModel {
  key: string;
  text: string;
  contentType?: string;
  metadata?: Record<string, string>;
}
interface BucketModel {
  name: string;
  versioning?: 'Enabled' | 'Suspended';
  encryption?: { algorithm: string; kmsKeyId?: string };
  tags?: Record<string, string>;
  cors?: { allowedOrigins: string[]; allowedMethods: string[]; maxAgeSeconds?: number }[];
  objects?: ObjectModel[];
}
interface SeedModel {
  accounts?: AccountModel[];
  keys?: KeyModel[];
  buckets?: BucketModel[];
}

const SPECS: { spec: string; usage: string; ops: string[]; needsUsage: boolean }[] = [
  { spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT', ops: ['Decrypt', 'Encrypt', 'GenerateDataKey'], needsUsage: false },
  { spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC', ops: ['GenerateMac', 'VerifyMac'], needsUsage: false },
  { spec: 'ECC_NIST_P256', usage: 'SIGN_VERIFY', ops: ['Sign', 'Verify'], needsUsage: true },
  { spec: 'RSA_2048', usage: 'ENCRYPT_DECRYPT', ops: ['Decrypt', 'Encrypt'], needsUsage: true },
];
const WORD = 'abcdefghijklmnopqrstuvwxyz';
// Text that YAML would misread unquoted: the renderer must quote it, the parser must keep it.
const TRICKY = ['yes', 'no', 'null', '~', '0123', '1e5', 'true', '- x', 'a: b', '#c', '&a', '*a', '[x]', '{y}', '', ' lead', 'tab\there', 'é ☃ 𝄞', 'line\nbreak'];

function uuid(rng: Rng): string {
  const h = rng.bytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function text(rng: Rng): string {
  return rng.chance(0.3) ? rng.pick(TRICKY) : rng.text(WORD + '0123456789 -_./', 0, 24);
}

function strings(rng: Rng, max: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = rng.int(1, max); i > 0; i--) out[`${rng.text(WORD, 1, 6)}${i}`] = text(rng);
  return out;
}

function generate(rng: Rng, tag: string): SeedModel {
  const model: SeedModel = {};
  let access = 0;
  const accessKey = () => `AK${tag}X${access++}`;
  if (rng.chance(0.8)) {
    model.accounts = rng.many(1, 3, (i) => {
      const a: AccountModel = { id: i === 0 ? '000000000000' : String(100000000000 + rng.int(0, 899999999999)) };
      if (i > 0 || rng.chance(0.3)) a.root = { accessKeyId: accessKey(), secretAccessKey: text(rng) || 's' };
      if (rng.chance(0.7)) {
        a.users = rng.many(1, 3, (j) => ({
          name: `user${j}-${rng.text(WORD, 1, 5)}`,
          ...(rng.chance(0.3) ? { path: `/${rng.text(WORD, 1, 6)}/` } : {}),
          accessKeyId: accessKey(),
          secretAccessKey: `secret-${rng.text(WORD, 1, 10)}`,
          ...(rng.chance(0.5) ? { policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: rng.subset(['kms:ListKeys', 'kms:DescribeKey', 'kms:Encrypt']), Resource: '*' }] }] } : {}),
        }));
      }
      if (rng.chance(0.4)) {
        a.roles = rng.many(1, 2, (j) => ({ name: `role${j}`, ...(rng.chance(0.5) ? { sessionName: `session-${rng.text(WORD, 2, 8)}` } : {}), accessKeyId: accessKey(), secretAccessKey: 'role-secret' }));
      }
      return a;
    });
    // Account ids are unique in a seed (a later account with the same id would be another list entry).
    const ids = new Set<string>();
    model.accounts = model.accounts.filter((a) => !ids.has(a.id) && ids.add(a.id));
  }
  if (rng.chance(0.85)) {
    model.keys = rng.many(1, 4, (i) => {
      const s = rng.chance(0.6) ? SPECS[0]! : rng.pick(SPECS);
      const k: KeyModel = { id: uuid(rng) };
      if (s.spec !== 'SYMMETRIC_DEFAULT' || rng.chance(0.3)) k.spec = s.spec;
      if (s.needsUsage || rng.chance(0.3)) k.usage = s.usage;
      if (rng.chance(0.5)) k.description = text(rng);
      if (rng.chance(0.3)) k.enabled = rng.chance(0.5);
      if (rng.chance(0.5)) k.tags = strings(rng, 3);
      if (rng.chance(0.6)) k.aliases = rng.many(1, 2, (j) => `alias/${tag}/k${i}-${j}`);
      if (s.spec === 'SYMMETRIC_DEFAULT' && rng.chance(0.4)) k.rotation = { enabled: true, ...(rng.chance(0.5) ? { periodDays: rng.int(90, 2560) } : {}) };
      if (rng.chance(0.4)) k.grants = [{ name: `grant-${i}`, grantee: 'arn:aws:iam::000000000000:root', operations: rng.subset(s.ops) }];
      return k;
    });
  }
  if (rng.chance(0.75)) {
    const symmetric = (model.keys ?? []).filter((k) => (k.spec ?? 'SYMMETRIC_DEFAULT') === 'SYMMETRIC_DEFAULT' && k.enabled !== false);
    model.buckets = rng.many(1, 3, (i) => {
      const b: BucketModel = { name: `fz-${tag}-${i}-${rng.text(WORD, 1, 8)}` };
      if (rng.chance(0.4)) b.versioning = rng.pick(['Enabled', 'Suspended'] as const);
      if (rng.chance(0.4)) b.encryption = symmetric.length && rng.chance(0.5) ? { algorithm: 'aws:kms', kmsKeyId: rng.pick(symmetric).id } : { algorithm: 'AES256' };
      if (rng.chance(0.3)) b.tags = strings(rng, 2);
      if (rng.chance(0.3)) b.cors = [{ allowedOrigins: ['http://localhost:3000'], allowedMethods: rng.subset(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']), ...(rng.chance(0.5) ? { maxAgeSeconds: rng.int(0, 3600) } : {}) }];
      if (rng.chance(0.8)) {
        b.objects = rng.many(1, 3, (j) => ({
          key: `dir${j}/${rng.text(WORD + '-_. ', 1, 20)}`,
          text: text(rng),
          ...(rng.chance(0.3) ? { contentType: rng.pick(['text/plain', 'application/json']) } : {}),
          ...(rng.chance(0.3) ? { metadata: { owner: rng.text(WORD, 1, 8) } } : {}),
        }));
      }
      return b;
    });
  }
  return model;
}

// ---------------------------------------------------------------- rendering

/** Text put into the document as it is (mutations: nesting, alias bombs). */
class Raw {
  constructor(readonly text: string) {}
}
/** Mappings rendered with their first field given twice. */
const duplicated = new WeakSet<object>();

const scalar = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

function flow(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${flow(x)}`);
    if (duplicated.has(v) && entries.length) entries.push(entries[0]!);
    return `{${entries.join(', ')}}`;
  }
  return scalar(v);
}

/** Block style, choosing flow style for some values; keys plain when YAML would read them back the same. */
function block(rng: Rng, v: unknown, indent: string): string[] {
  if (v instanceof Raw || v === null || typeof v !== 'object' || rng.chance(0.15)) return [flow(v)];
  if (Array.isArray(v)) {
    if (v.length === 0) return ['[]'];
    const lines: string[] = [];
    for (const item of v) {
      const inner = block(rng, item, indent + '  ');
      lines.push(`${indent}- ${inner[0]!.trimStart()}`, ...inner.slice(1));
    }
    return ['', ...lines];
  }
  const entries = Object.entries(v);
  if (entries.length === 0) return ['{}'];
  if (duplicated.has(v)) entries.push(entries[0]!);
  const lines: string[] = [];
  for (const [k, x] of entries) {
    const key = /^[A-Za-z][A-Za-z0-9_]*$/.test(k) && !['yes', 'no', 'true', 'false', 'null', 'on', 'off', 'y', 'n'].includes(k.toLowerCase()) && rng.chance(0.8) ? k : JSON.stringify(k);
    const inner = block(rng, x, indent + '  ');
    if (inner[0] === '') lines.push(`${indent}${key}:`, ...inner.slice(1));
    else lines.push(`${indent}${key}: ${inner[0]!}`, ...inner.slice(1));
    if (rng.chance(0.05)) lines.push(`${indent}# a comment`);
  }
  return ['', ...lines];
}

function render(rng: Rng, model: object): string {
  // JSON (flow style throughout): YAML reads JSON.
  if (rng.chance(0.15)) return flow(model) + '\n';
  const lines = block(rng, model, '');
  return (rng.chance(0.2) ? '# a seed\n---\n' : '') + lines.filter((l, i) => i > 0 || l !== '').join('\n') + '\n';
}

// ---------------------------------------------------------------- the oracle

function expectMatchesModel(seed: Seed, model: SeedModel): void {
  const creds = seed.credentials.map((c) => ({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, accountId: c.accountId, principalArn: c.principalArn, policies: c.policies?.length ?? 0 }));
  const expected = (model.accounts ?? []).flatMap((a) => [
    ...(a.root ? [{ ...a.root, accountId: a.id, principalArn: `arn:aws:iam::${a.id}:root`, policies: 0 }] : []),
    ...(a.users ?? []).map((u) => ({ accessKeyId: u.accessKeyId, secretAccessKey: u.secretAccessKey, accountId: a.id, principalArn: `arn:aws:iam::${a.id}:user${u.path ?? '/'}${u.name}`, policies: u.policies?.length ?? 0 })),
    ...(a.roles ?? []).map((r) => ({ accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey, accountId: a.id, principalArn: `arn:aws:sts::${a.id}:assumed-role/${r.name}/${r.sessionName ?? r.name}`, policies: 0 })),
  ]);
  expect(creds).toEqual(expected);
  expect(
    seed.keys.map((k) => ({ id: k.id, account: k.account, region: k.region, spec: k.spec, usage: k.usage, description: k.description, enabled: k.enabled, tags: k.tags, aliases: k.aliases?.map((a) => a.name), rotation: k.rotation, grants: k.grants?.map((g) => ({ name: g.name, grantee: g.grantee, operations: g.operations })) })),
  ).toEqual(
    (model.keys ?? []).map((k) => {
      const s = SPECS.find((x) => x.spec === (k.spec ?? 'SYMMETRIC_DEFAULT'))!;
      return { id: k.id, account: '000000000000', region: 'us-east-1', spec: s.spec, usage: s.usage, description: k.description, enabled: k.enabled, tags: k.tags, aliases: k.aliases, rotation: k.rotation, grants: k.grants };
    }),
  );
  expect(
    seed.buckets.map((b) => ({ name: b.name, account: b.account, versioning: b.versioning, encryption: b.encryption, tags: b.tags, cors: b.cors, objects: b.objects?.map((o) => ({ key: o.key, text: o.body.toString('utf8'), contentType: o.contentType, metadata: o.metadata })) })),
  ).toEqual((model.buckets ?? []).map((b) => ({ name: b.name, account: '000000000000', versioning: b.versioning, encryption: b.encryption, tags: b.tags, cors: b.cors, objects: b.objects })));
}

interface Refusal {
  kind: string;
  /** The dotted path the message must name after "seed.yaml:<line>: " (a regexp source). */
  message: RegExp;
}

/** Parses `text`; it must be refused with a SeedError matching `expected`, quickly. */
function expectRefused(text: string, expected: Refusal, limitMs = 2000): void {
  const started = process.hrtime.bigint();
  let error: unknown;
  try {
    parseSeed(text, 'seed.yaml');
  } catch (err) {
    error = err;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (!(error instanceof SeedError)) throw new Error(`${expected.kind}: expected a SeedError, got ${error === undefined ? 'acceptance' : String(error)}\n${text.slice(0, 2000)}`);
  expect(error.message).toMatch(/^seed\.yaml:\d+: /);
  if (!expected.message.test(error.message)) throw new Error(`${expected.kind}: ${JSON.stringify(error.message)} does not match ${expected.message}\n${text.slice(0, 2000)}`);
  // A refusal takes milliseconds; a second is far beyond any of these inputs' honest cost.
  expect(ms).toBeLessThan(limitMs);
  counters.hit(`refused:${expected.kind}`);
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One targeted mutation of a valid model: the changed model (or text) and the refusal it must get. */
function mutate(rng: Rng, model: SeedModel): { model?: SeedModel; text?: (rendered: string) => string; refusal: Refusal } | undefined {
  const m = structuredClone(model);
  const key = m.keys?.length ? rng.int(0, m.keys.length - 1) : undefined;
  const bucket = m.buckets?.length ? rng.int(0, m.buckets.length - 1) : undefined;
  const kind = rng.pick(['wrongType', 'unknownField', 'duplicateKey', 'duplicateName', 'hugeString', 'deepNesting', 'shallowNesting', 'laughs', 'syntax', 'badValue']);
  const at = (path: string, what: string): RegExp => new RegExp(`^seed\\.yaml:\\d+: ${esc(path)}: ${what}`);
  switch (kind) {
    case 'wrongType': {
      const options: (() => Refusal)[] = [];
      if (key !== undefined) {
        const k = m.keys![key]!;
        options.push(() => ((k as unknown as Record<string, unknown>).enabled = rng.pick(['yes', 1, [true]]), { kind, message: at(`keys.${key}.enabled`, 'must be true or false') }));
        options.push(() => ((k as unknown as Record<string, unknown>).tags = rng.pick([['a'], 'a=b', 7]), { kind, message: at(`keys.${key}.tags`, 'must be a mapping') }));
        options.push(() => ((k as unknown as Record<string, unknown>).aliases = 'alias/one', { kind, message: at(`keys.${key}.aliases`, 'must be a list') }));
        options.push(() => ((k as unknown as Record<string, unknown>).id = rng.pick([12, { a: 1 }, ['x']]), { kind, message: at(`keys.${key}.id`, 'must be a key id') }));
      }
      if (bucket !== undefined) {
        const b = m.buckets![bucket]!;
        options.push(() => ((b as unknown as Record<string, unknown>).name = rng.pick([123, ['b'], { n: 'x' }]), { kind, message: at(`buckets.${bucket}.name`, 'must be a bucket name') }));
        if (b.objects?.length) options.push(() => ((b.objects![0] as unknown as Record<string, unknown>).text = rng.pick([[1], { a: 'b' }]), { kind, message: at(`buckets.${bucket}.objects.0.text`, 'must be a string') }));
      }
      if (m.accounts?.length) {
        options.push(() => ((m.accounts![0] as unknown as Record<string, unknown>).id = rng.pick([12345, '1234', ['000000000000']]), { kind, message: at('accounts.0.id', 'must be a 12-digit account id') }));
      }
      options.push(() => ((m as Record<string, unknown>).keys = { id: 'x' }, { kind, message: at('keys', 'must be a list of keys') }));
      return { model: m, refusal: rng.pick(options)() };
    }
    case 'unknownField': {
      const options: [object, string][] = [[m, '']];
      if (key !== undefined) options.push([m.keys![key]!, `keys.${key}.`]);
      if (bucket !== undefined) options.push([m.buckets![bucket]!, `buckets.${bucket}.`]);
      if (m.buckets?.[bucket ?? 0]?.objects?.length) options.push([m.buckets[bucket ?? 0]!.objects![0]!, `buckets.${bucket ?? 0}.objects.0.`]);
      if (m.accounts?.[0]?.users?.length) options.push([m.accounts[0].users[0]!, 'accounts.0.users.0.']);
      const [target, prefix] = rng.pick(options);
      const field = rng.pick(['bogus', 'Id', 'keyId', '__proto__', 'constructor']);
      // (A field named __proto__ has to be defined, not assigned, to be an own field.)
      Object.defineProperty(target, field, { value: 'x', enumerable: true, writable: true, configurable: true });
      return { model: m, refusal: { kind, message: at(`${prefix}${field}`, prefix ? 'unknown field' : 'unknown section') } };
    }
    case 'duplicateKey': {
      const options: object[] = [m];
      if (key !== undefined) options.push(m.keys![key]!);
      if (bucket !== undefined) options.push(m.buckets![bucket]!);
      const target = rng.pick(options);
      if (Object.keys(target).length === 0) return undefined;
      duplicated.add(target);
      return { model: m, refusal: { kind, message: /^seed\.yaml:\d+: Map keys must be unique \(".*" is given twice\)$/ } };
    }
    case 'duplicateName': {
      const options: (() => Refusal | undefined)[] = [];
      if (m.keys && m.keys.length > 1) options.push(() => ((m.keys![1]!.id = m.keys![0]!.id), { kind, message: at('keys.1.id', `key ${m.keys![0]!.id} is declared twice`) }));
      if (m.buckets && m.buckets.length > 1) options.push(() => ((m.buckets![1]!.name = m.buckets![0]!.name), { kind, message: at('buckets.1.name', `bucket ${m.buckets![0]!.name} is declared twice`) }));
      const aliased = m.keys?.findIndex((k) => k.aliases?.length) ?? -1;
      if (aliased >= 0) {
        options.push(() => {
          const k = m.keys![aliased]!;
          k.aliases!.push(k.aliases![0]!);
          return { kind, message: at(`keys.${aliased}.aliases.${k.aliases!.length - 1}`, `${k.aliases![0]!} is declared twice`) };
        });
      }
      const withUser = m.accounts?.findIndex((a) => a.users?.length) ?? -1;
      if (withUser >= 0) {
        options.push(() => {
          const users = m.accounts![withUser]!.users!;
          users.push({ ...users[0]!, name: users[0]!.name.toUpperCase(), accessKeyId: 'ANOTHERKEY' });
          return { kind, message: at(`accounts.${withUser}.users.${users.length - 1}.name`, 'arn:aws:iam::') };
        });
        options.push(() => {
          const users = m.accounts![withUser]!.users!;
          users.push({ ...users[0]!, name: 'another-user' });
          return { kind, message: at(`accounts.${withUser}.users.${users.length - 1}.accessKeyId`, `access key ${users[0]!.accessKeyId} is declared twice`) };
        });
      }
      if (!options.length) return undefined;
      const refusal = rng.pick(options)();
      return refusal ? { model: m, refusal } : undefined;
    }
    case 'hugeString': {
      const huge = rng.text(WORD, 1, 1) + 'a'.repeat(rng.int(2000, 2_000_000));
      if (bucket !== undefined && rng.chance(0.5)) {
        m.buckets![bucket]!.name = huge;
        return { model: m, refusal: { kind, message: at(`buckets.${bucket}.name`, 'must be a bucket name') } };
      }
      if (key !== undefined && rng.chance(0.5)) {
        m.keys![key]!.aliases = [`alias/${huge}`];
        return { model: m, refusal: { kind, message: at(`keys.${key}.aliases.0`, 'must be an alias name') } };
      }
      m.accounts = [{ id: '000000000000', users: [{ name: huge, accessKeyId: 'HUGE', secretAccessKey: 's' }] }];
      return { model: m, refusal: { kind, message: at('accounts.0.users.0.name', 'must be an IAM name') } };
    }
    case 'deepNesting':
    case 'shallowNesting': {
      // Past the bound: refused before the parser recurses. Within it: parsed, and refused by the
      // field's own check (a tag value must be a string), which proves the bound is not too tight.
      const depth = kind === 'deepNesting' ? rng.pick([65, 200, 5000, 200_000]) : rng.int(2, 50);
      const open = rng.chance(0.5) ? '[' : '{"a": ';
      const close = open === '[' ? ']' : '}';
      const nested = new Raw(open.repeat(depth) + close.repeat(depth));
      if (key === undefined) return undefined;
      m.keys![key]!.tags = { deep: nested as unknown as string };
      return { model: m, refusal: { kind, message: kind === 'deepNesting' ? /^seed\.yaml:\d+: nested too deeply \(a seed needs no more than 64 levels/ : at(`keys.${key}.tags.deep`, 'must be a string') } };
    }
    case 'laughs': {
      if (key === undefined) return undefined;
      // Nine levels of nine aliases: 9^9 (387 million) strings once expanded.
      const levels = rng.int(4, 9);
      let bomb = '{"l0": &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]';
      for (let i = 1; i < levels; i++) bomb += `, "l${i}": &l${i} [${Array.from({ length: 9 }, () => `*l${i - 1}`).join(', ')}]`;
      m.keys![key]!.tags = new Raw(bomb + '}') as unknown as Record<string, string>;
      return { model: m, refusal: { kind, message: /^seed\.yaml:\d+: aliases \(\*name\) expand to too much data/ } };
    }
    case 'syntax': {
      return {
        text: (rendered) => {
          const breaks = [(t: string) => t + '\n  bad indentation: [\n', (t: string) => t + '\n"unterminated: 1\n', (t: string) => t.replace(/\n/, '\n\t') + '\n\tkeys: []\n', (t: string) => `${t}\n---\nsecond: document\n`];
          return rng.pick(breaks)(rendered);
        },
        refusal: { kind, message: /^seed\.yaml:\d+: / },
      };
    }
    case 'badValue': {
      const options: (() => Refusal)[] = [];
      if (key !== undefined) {
        options.push(() => ((m.keys![key]!.aliases = ['alias/aws/reserved']), { kind, message: at(`keys.${key}.aliases.0`, 'alias/aws/ names are reserved') }));
        options.push(() => ((m.keys![key]!.spec = 'AES_256'), { kind, message: at(`keys.${key}.spec`, 'must be a key spec') }));
        options.push(() => ((m.keys![key]!.rotation = { enabled: true, periodDays: rng.pick([0, 89, 2561]) }), { kind, message: at(`keys.${key}.rotation.periodDays`, 'must be a whole number of days from 90 to 2560') }));
      }
      if (bucket !== undefined) options.push(() => ((m.buckets![bucket]!.versioning = 'On' as 'Enabled'), { kind, message: at(`buckets.${bucket}.versioning`, 'must be Enabled or Suspended') }));
      if (bucket !== undefined) options.push(() => ((m.buckets![bucket]!.name = rng.pick(['Upper', 'a', 'a..b', '192.168.1.1', '-x-'])), { kind, message: at(`buckets.${bucket}.name`, 'must be a bucket name') }));
      options.push(() => ((m.accounts = [{ id: '000000000000', users: [{ name: 'u', path: 'no-slash', accessKeyId: 'P', secretAccessKey: 's' }] }]), { kind, message: at('accounts.0.users.0.path', 'must start and end with /') }));
      return { model: m, refusal: rng.pick(options)() };
    }
  }
  return undefined;
}

describe('the seed parser', () => {
  it('parses generated seeds to exactly what they describe, and refuses each targeted mutation with the place named', () => {
    const n = cases(400);
    forCases('seed', n, (rng, i) => {
      const model = generate(rng, `c${i}`);
      if (rng.chance(0.55)) {
        const text = render(rng, model);
        let seed: Seed;
        try {
          seed = parseSeed(text, 'seed.yaml');
        } catch (err) {
          throw new Error(`a valid seed was refused: ${(err as Error).message}\n${text}`);
        }
        expectMatchesModel(seed, model);
        counters.hit('accepted');
        counters.hit('keys', seed.keys.length);
        counters.hit('aliases', seed.keys.reduce((s, k) => s + (k.aliases?.length ?? 0), 0));
        counters.hit('grants', seed.keys.reduce((s, k) => s + (k.grants?.length ?? 0), 0));
        counters.hit('buckets', seed.buckets.length);
        counters.hit('objects', seed.buckets.reduce((s, b) => s + (b.objects?.length ?? 0), 0));
        counters.hit('credentials', seed.credentials.length);
        if (seed.keys.length && seed.buckets.length && seed.credentials.length) counters.hit('acceptedWithAll');
        return;
      }
      const mutation = mutate(rng, model);
      if (!mutation) {
        counters.hit('noMutation');
        return;
      }
      const rendered = render(rng, mutation.model ?? model);
      expectRefused(mutation.text ? mutation.text(rendered) : rendered, mutation.refusal);
    });
    const total = n;
    // Floors: most documents are valid and reach the end of the parser with every section filled.
    expect(counters.get('accepted')).toBeGreaterThanOrEqual(0.4 * total);
    expect(counters.get('acceptedWithAll')).toBeGreaterThanOrEqual(0.15 * total);
    for (const name of ['keys', 'aliases', 'grants', 'buckets', 'objects', 'credentials']) expect(counters.get(name)).toBeGreaterThanOrEqual(0.3 * total);
    for (const kind of ['wrongType', 'unknownField', 'duplicateKey', 'duplicateName', 'hugeString', 'deepNesting', 'shallowNesting', 'laughs', 'syntax', 'badValue']) {
      expect(counters.get(`refused:${kind}`)).toBeGreaterThanOrEqual(Math.floor(0.02 * total));
    }
  });

  it('refuses nesting past 64 levels in any style, and at once, even a million levels deep', () => {
    const deep = (d: number) => ({
      flow: `keys: ${'['.repeat(d)}${']'.repeat(d)}\n`,
      map: `keys: ${'{a: '.repeat(d)}x${'}'.repeat(d)}\n`,
      // (A million levels of indentation would be a terabyte.)
      ...(d <= 3000 ? { block: `keys:\n${Array.from({ length: d }, (_, i) => `${' '.repeat(i * 2)}- `).join('\n')}x\n` } : {}),
      compact: `keys:\n${'- '.repeat(d)}x\n`,
    });
    for (const [style, text] of Object.entries(deep(1_000_000))) expectRefused(text, { kind: `deep-${style}`, message: /nested too deeply/ });
    for (const [style, text] of Object.entries(deep(3000))) expectRefused(text, { kind: `deep-${style}`, message: /nested too deeply/ });
    // Twice in a row: before the bound, the second deep document in a process could kill node
    // (a RegExp compiler out of memory after the first one's stack overflow).
    for (const [style, text] of Object.entries(deep(100_000))) expectRefused(text, { kind: `deep-${style}`, message: /nested too deeply/ });
    // 40 levels of real seed structure are fine.
    for (const [style, text] of Object.entries(deep(40))) expectRefused(text, { kind: `ok-depth-${style}`, message: /^seed\.yaml:\d+: (keys\.0: must be a mapping with an id|keys: must be a list of keys)$/ });
  });

  it('a mapping of 30,000 keys is parsed in linear time (duplicate keys found in one pass)', () => {
    // The yaml package's own check compared every pair: 30,000 keys took about 12 s, 50,000 33 s.
    const many = Array.from({ length: 30_000 }, (_, i) => `     k${i}: v`).join('\n');
    expectRefused(`buckets:\n - name: abc\n   tags:\n${many}\n     k5: again\n`, { kind: 'manyKeys', message: /^seed\.yaml:30004: Map keys must be unique \("k5" is given twice\)$/ }, 4000);
  });
});

describe('seeds started in a Sealbox', () => {
  it('create exactly the keys, aliases, tags, buckets, objects and identities the document describes', async () => {
    let applied = 0;
    for (let i = 0; applied < cases(5) && i < 200; i++) {
      const rng = new Rng((FUZZ_SEED + 104729 * (i + 1)) >>> 0);
      const model = generate(rng, `a${i}`);
      if (!model.keys?.length || !model.buckets?.some((b) => b.objects?.length)) continue;
      const seed = parseSeed(render(rng, model), 'seed.yaml');
      // (Bucket default encryption with SSE-KMS: reading its objects back over HTTP needs this.)
      const sealbox = await startTestSealbox({ seedData: seed, allowHttpSseKms: true });
      const kms = new KMSClient({ endpoint: sealbox.kms!.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
      const s3 = s3Client(sealbox);
      try {
        for (const k of model.keys) {
          const meta = (await kms.send(new DescribeKeyCommand({ KeyId: k.id }))).KeyMetadata!;
          const spec = SPECS.find((x) => x.spec === (k.spec ?? 'SYMMETRIC_DEFAULT'))!;
          expect({ spec: meta.KeySpec, usage: meta.KeyUsage, enabled: meta.Enabled, description: meta.Description }).toEqual({ spec: spec.spec, usage: spec.usage, enabled: k.enabled ?? true, description: k.description ?? '' });
          const tags = (await kms.send(new ListResourceTagsCommand({ KeyId: k.id }))).Tags ?? [];
          expect(Object.fromEntries(tags.map((t) => [t.TagKey, t.TagValue]))).toEqual(k.tags ?? {});
          counters.hit('applied:keys');
        }
        const aliases = ((await kms.send(new ListAliasesCommand({ Limit: 100 }))).Aliases ?? []).filter((a) => !a.AliasName!.startsWith('alias/aws/'));
        expect(aliases.map((a) => [a.AliasName, a.TargetKeyId]).sort()).toEqual(model.keys.flatMap((k) => (k.aliases ?? []).map((a) => [a, k.id])).sort());
        counters.hit('applied:aliases', aliases.length);
        const buckets = (await s3.send(new ListBucketsCommand({}))).Buckets ?? [];
        expect(buckets.map((b) => b.Name).sort()).toEqual(model.buckets.map((b) => b.name).sort());
        for (const b of model.buckets) {
          for (const o of b.objects ?? []) {
            const got = await s3.send(new GetObjectCommand({ Bucket: b.name, Key: o.key }));
            expect(await got.Body!.transformToString()).toBe(o.text);
            expect(got.ContentType).toBe(o.contentType ?? 'binary/octet-stream');
            expect(got.Metadata).toEqual(o.metadata ?? {});
            counters.hit('applied:objects');
          }
        }
        // Each identity signs requests: known access keys with the right secrets (AccessDenied at
        // worst), where an unknown one would get UnrecognizedClientException.
        for (const a of model.accounts ?? []) {
          for (const u of a.users ?? []) {
            const client = new KMSClient({ endpoint: sealbox.kms!.url, region: 'us-east-1', credentials: { accessKeyId: u.accessKeyId, secretAccessKey: u.secretAccessKey }, maxAttempts: 1 });
            const allowed = u.policies?.some((p) => JSON.stringify(p).includes('kms:ListKeys')) ?? false;
            const outcome = await client.send(new ListKeysCommand({})).then(
              () => 'ok',
              (err: Error) => err.name,
            );
            client.destroy();
            expect([u.name, outcome]).toEqual([u.name, allowed ? 'ok' : 'AccessDeniedException']);
            counters.hit('applied:users');
          }
        }
        // The seed took nothing away: the sandbox still creates keys.
        await kms.send(new CreateKeyCommand({}));
        applied++;
      } finally {
        kms.destroy();
        s3.destroy();
        await sealbox.stop();
      }
    }
    expect(applied).toBe(cases(5));
    expect(counters.get('applied:keys')).toBeGreaterThanOrEqual(cases(5));
    expect(counters.get('applied:objects')).toBeGreaterThanOrEqual(cases(5));
    expect(counters.get('applied:aliases')).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
