/**
 * Model-based fuzzing of the snapshot archive reader (`sealbox import`, packages/cli/src/snapshot).
 * A real archive is exported from a seeded Sealbox (keys, aliases, grants, buckets, objects), with
 * and without a passphrase; its import is checked once through the SDK. Each case then imports
 * the archive either intact or with one targeted mutation, at the gzip layer (truncation, flipped
 * bytes, appended data) or at the tar layer, re-gzipped so the reader gets past the checksums
 * (hostile names: `../`, absolute, `blobs/../`; links, directories, GNU and pax headers; huge
 * declared sizes; gzip bombs; duplicate, missing and reordered entries; edited data; manifest
 * edits: counts, files, version, scrypt costs; wrong or missing passphrase). The oracle: the
 * import either writes exactly the files the archive holds (byte for byte: the intact archive
 * gives back the exported state) or is refused with a SnapshotError, leaving nothing beside or in
 * the target, writing nothing outside it, within seconds.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import Database from 'better-sqlite3';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SnapshotError, exportSnapshot, importSnapshot, parseSeed } from '@sealbox/cli';
import { TAR_END, tarHeader, tarPadding } from '../../cli/src/snapshot/tar';
import { Counters, FUZZ_SEED, type Rng, cases, forCasesAsync } from './fuzz-random';
import { kmsClient, s3Client, startTestSealbox } from './helpers';

const counters = new Counters();
const root = mkdtempSync(join(tmpdir(), 'sealbox-fuzz-snapshot-'));
const PASSPHRASE = 'correct horse battery staple';
let plain: Buffer;
let sealed: Buffer;
/** The files of the intact archive's import: relative path -> sha256. */
let exported: Record<string, string>;
let ciphertext: Uint8Array;
const objects: Record<string, string> = {};

interface Entry {
  name: string;
  data: Buffer;
  /** A type flag other than '0', and a link name. */
  type?: string;
  link?: string;
  /** A declared size other than data.length (the data is written as it is). */
  size?: number;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function digest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = sha(readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** The entries of a gzip'd ustar archive (the test's own reader, the model of what import must write). */
function entriesOf(archive: Buffer): Entry[] {
  const tar = gunzipSync(archive);
  const out: Entry[] = [];
  for (let at = 0; at + 512 <= tar.length; ) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, ''), 8);
    out.push({ name, data: Buffer.from(tar.subarray(at + 512, at + 512 + size)) });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

function header(e: Entry): Buffer {
  const h = tarHeader(e.name.length <= 100 ? e.name : 'x', e.size !== undefined && e.size <= 0o77777777777 ? e.size : e.data.length, 0o600, new Date(0));
  if (e.name.length > 100) h.write(e.name.slice(0, 100), 0, 'utf8');
  if (e.size !== undefined && e.size > 0o77777777777) {
    h.fill(0, 124, 136);
    h[124] = 0x80;
    h.writeBigUInt64BE(BigInt(e.size), 128);
  }
  if (e.type) h.write(e.type, 156, 'ascii');
  if (e.link) h.write(e.link, 157, 'utf8');
  h.write('        ', 148, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

function pack(entries: Entry[], tail: Buffer = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) parts.push(header(e), e.data, tarPadding(e.data.length));
  return gzipSync(Buffer.concat([...parts, TAR_END, tail]));
}

/** What import must write for `entries` (plain archive): every entry but the manifest, blobs under s3/. */
function expectedFiles(entries: Entry[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) if (e.name !== 'manifest.json') out[e.name.startsWith('blobs/') ? join('s3', e.name) : e.name] = sha(e.data);
  return out;
}

beforeAll(async () => {
  const source = join(root, 'source');
  const seed = parseSeed(
    `keys:
  - id: 0e1f3c4d-8a7b-4c2d-9e10-3f2a1b0c9d8e
    aliases: [alias/app]
    grants: [{ name: g, grantee: "arn:aws:iam::000000000000:root", operations: [Decrypt] }]
  - id: f972a5cf-3280-443f-b623-7c84d4c27240
    spec: ECC_NIST_P256
    usage: SIGN_VERIFY
buckets:
  - name: app-data
    versioning: Enabled
    encryption: { algorithm: aws:kms, kmsKeyId: alias/app }
    objects:
      - { key: a.txt, text: "first object" }
      - { key: b/c.json, text: '{"x": 1}' }
  - name: plain-data
    objects:
      - { key: d.txt, text: "sse-s3 object" }
`,
    'seed.yaml',
  );
  const sealbox = await startTestSealbox({ dataDir: source, seedData: seed, allowHttpSseKms: true });
  const kms = kmsClient(sealbox);
  const s3 = s3Client(sealbox);
  try {
    ciphertext = (await kms.send(new EncryptCommand({ KeyId: 'alias/app', Plaintext: Buffer.from('before the export') }))).CiphertextBlob!;
    // Small bodies live in the database (inline); one past that size has a blob file of its own.
    await s3.send(new PutObjectCommand({ Bucket: 'plain-data', Key: 'big.txt', Body: 'a file of its own '.repeat(8000) }));
    for (const [bucket, key] of [['app-data', 'a.txt'], ['app-data', 'b/c.json'], ['plain-data', 'd.txt'], ['plain-data', 'big.txt']] as const) {
      objects[`${bucket}/${key}`] = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
    }
  } finally {
    kms.destroy();
    s3.destroy();
    await sealbox.stop();
  }
  await exportSnapshot({ dataDir: source, file: join(root, 'plain.tgz'), sealboxVersion: 'fuzz' });
  await exportSnapshot({ dataDir: source, file: join(root, 'sealed.tgz'), sealboxVersion: 'fuzz', passphrase: PASSPHRASE });
  plain = readFileSync(join(root, 'plain.tgz'));
  sealed = readFileSync(join(root, 'sealed.tgz'));

  // The intact archive restores the exported state: checked once through the SDK.
  const restored = join(root, 'restored');
  await importSnapshot({ file: join(root, 'plain.tgz'), dataDir: restored });
  exported = digest(restored);
  expect(exported).toEqual(expectedFiles(entriesOf(plain)));
  const again = await startTestSealbox({ dataDir: restored, allowHttpSseKms: true });
  const kms2 = kmsClient(again);
  const s32 = s3Client(again);
  try {
    const plainText = await kms2.send(new DecryptCommand({ CiphertextBlob: ciphertext }));
    expect(Buffer.from(plainText.Plaintext!).toString()).toBe('before the export');
    for (const [path, body] of Object.entries(objects)) {
      const [bucket, ...key] = path.split('/');
      expect(await (await s32.send(new GetObjectCommand({ Bucket: bucket, Key: key.join('/') }))).Body!.transformToString()).toBe(body);
    }
  } finally {
    kms2.destroy();
    s32.destroy();
    await again.stop();
  }
}, 60_000);

afterAll(() => {
  console.log(`snapshot fuzz (SEALBOX_FUZZ_SEED=${FUZZ_SEED}): ${counters.toString()}`);
  rmSync(root, { recursive: true, force: true });
});

type Outcome = { accepted: true; files: Record<string, string> } | { accepted: false; error: SnapshotError };

let caseNo = 0;
/** Imports `archive` into a new directory; checks that a refusal leaves nothing, and that nothing is written outside. */
async function attempt(archive: Buffer, passphrase?: string): Promise<Outcome> {
  const parent = join(root, `case-${caseNo++}`);
  mkdirSync(parent);
  const file = join(root, `${relative(root, parent)}.tgz`);
  writeFileSync(file, archive);
  const target = join(parent, 'target');
  const before = readdirSync(root).sort();
  const started = Date.now();
  try {
    await importSnapshot({ file, dataDir: target, ...(passphrase !== undefined ? { passphrase } : {}) });
    expect(readdirSync(parent)).toEqual(['target']);
    return { accepted: true, files: digest(target) };
  } catch (err) {
    if (!(err instanceof SnapshotError)) throw new Error(`import failed with ${String(err)}, not a SnapshotError`);
    // No partial state: neither the target nor a work directory beside it.
    expect(readdirSync(parent)).toEqual([]);
    return { accepted: false, error: err };
  } finally {
    // Nothing written outside the target: the test's root holds what it held (hostile names aim at it).
    expect(readdirSync(root).sort()).toEqual(before);
    expect(Date.now() - started).toBeLessThan(10_000);
    rmSync(parent, { recursive: true, force: true });
    rmSync(file, { force: true });
  }
}

interface Mutation {
  kind: string;
  archive: Buffer;
  passphrase?: string;
  /** The files an accepted import must write; undefined: it must be refused. */
  expect?: Record<string, string>;
  /** A refusal must match this. */
  refusal?: RegExp;
  /** Either outcome, but an accepted import must write `expect`. */
  mayAccept?: boolean;
}

const HOSTILE = ['../evil', '/tmp/evil', 'blobs/../../evil', 'blobs/../../../../evil', 'blobs/../../../../../evil', 'blobs/ab/../../../../../evil', 'blobs/ab/../../../evil', './root.key', 'root.key/', 's3/blobs/ab/abababababababababababababababab', 'blobs/AB/ABABABABABABABABABABABABABABABAB', 'manifest.json', 'kms.db\0../evil', 'a'.repeat(100)];

function manifestOf(entries: Entry[]): Record<string, unknown> {
  return JSON.parse(entries[0]!.data.toString()) as Record<string, unknown>;
}

function withManifest(entries: Entry[], edit: (m: Record<string, unknown>) => void): Entry[] {
  const m = manifestOf(entries);
  edit(m);
  return [{ name: 'manifest.json', data: Buffer.from(JSON.stringify(m)) }, ...entries.slice(1)];
}

function mutate(rng: Rng): Mutation {
  const entries = entriesOf(plain);
  const pickEntry = (from = 1) => rng.int(from, entries.length - 1);
  const kind = rng.pick([
    'intact', 'intact', 'sealed', 'wrongPassphrase', 'noPassphrase', 'truncate', 'flipGzip', 'appendGarbage', 'hostileName', 'linkType', 'hugeSize', 'declaredLonger', 'duplicate', 'drop', 'reorder', 'flipData', 'manifestCounts', 'manifestFiles', 'manifestVersion', 'kdfCost', 'zeroTail', 'blobBomb', 'rootKeySize',
  ]);
  switch (kind) {
    case 'intact':
      return { kind, archive: plain, expect: exported };
    case 'sealed':
      return { kind, archive: sealed, passphrase: PASSPHRASE, expect: exported };
    case 'wrongPassphrase':
      return { kind, archive: sealed, passphrase: rng.pick(['', 'wrong', PASSPHRASE + ' ', PASSPHRASE.toUpperCase()]), refusal: /wrong passphrase/ };
    case 'noPassphrase':
      return { kind, archive: sealed, refusal: /is sealed with a passphrase/ };
    case 'truncate':
      return { kind, archive: plain.subarray(0, rng.int(0, plain.length - 1)), refusal: /truncated|not a Sealbox snapshot|damaged|empty/ };
    case 'flipGzip': {
      const damaged = Buffer.from(plain);
      const at = rng.int(0, damaged.length - 1);
      damaged[at] ^= 1 << rng.int(0, 7);
      // A flip in the gzip header's time or OS byte changes nothing read: then the same files.
      return { kind, archive: damaged, expect: exported, mayAccept: true };
    }
    case 'appendGarbage':
      return { kind, archive: Buffer.concat([plain, rng.chance(0.5) ? rng.bytes(rng.int(1, 2000)) : gzipSync(Buffer.from('more'))]), expect: exported, mayAccept: true };
    case 'hostileName': {
      const i = pickEntry(0);
      let name = rng.pick(HOSTILE);
      // (Not a name that reads back as the entry's own: 'kms.db\0...' is kms.db.)
      if (name.split('\0')[0] === entries[i]!.name) name = '../evil';
      // In place of an entry, or an extra one with data (what a path check must stop being written).
      if (rng.chance(0.5) && i > 0) entries.splice(i, 0, { name, data: Buffer.from('evil') });
      else entries[i] = { ...entries[i]!, name };
      return { kind, archive: pack(entries), refusal: /unexpected entry|does not start with manifest.json|holds .* twice|incomplete|missing|more object data/ };
    }
    case 'linkType': {
      const i = pickEntry();
      entries[i] = { ...entries[i]!, type: rng.pick(['1', '2', '5', 'L', 'K', 'x', 'g', '3', '6']), link: rng.pick(['../../evil', '/etc/passwd', 'root.key']), data: rng.chance(0.5) ? Buffer.alloc(0) : entries[i]!.data };
      return { kind, archive: pack(entries), refusal: /only regular files are expected/ };
    }
    case 'hugeSize': {
      // A header declaring gigabytes to terabytes, with little data behind it.
      const i = pickEntry();
      entries[i] = { ...entries[i]!, size: rng.pick([2 ** 33, 2 ** 40, 0o77777777777]) };
      return { kind, archive: pack(entries.slice(0, i + 1)), refusal: /too large|truncated|more object data than its manifest/ };
    }
    case 'declaredLonger': {
      const i = pickEntry();
      entries[i] = { ...entries[i]!, size: entries[i]!.data.length + rng.int(1, 5000) };
      // The reader then takes the next header as data: any of several checks refuses it.
      return { kind, archive: pack(entries) };
    }
    case 'duplicate': {
      const i = pickEntry();
      entries.splice(rng.int(i + 1, entries.length), 0, { ...entries[i]!, data: rng.chance(0.5) ? entries[i]!.data : rng.bytes(entries[i]!.data.length) });
      return { kind, archive: pack(entries), refusal: /holds .* twice|more object data/ };
    }
    case 'drop': {
      entries.splice(pickEntry(0), 1);
      return { kind, archive: pack(entries), refusal: /incomplete|does not start with manifest.json|lacks the data|holds kms.db without|holds s3.db without/ };
    }
    case 'reorder': {
      // Any order of the entries after the manifest is read; the manifest must come first.
      const rest = rng.shuffle(entries.slice(1));
      if (rng.chance(0.3)) {
        const all = rng.shuffle([...entries]);
        if (all[0]!.name === 'manifest.json') return { kind, archive: pack(all), expect: expectedFiles(entries) };
        return { kind, archive: pack(all), refusal: /does not start with manifest.json/ };
      }
      return { kind, archive: pack([entries[0]!, ...rest]), expect: expectedFiles(entries) };
    }
    case 'flipData': {
      // Edited data behind valid checksums: the databases' checks may refuse it; anything accepted
      // must be written exactly as the archive holds it.
      const i = pickEntry();
      const data = Buffer.from(entries[i]!.data);
      if (data.length === 0) return { kind, archive: plain, expect: exported };
      data[rng.int(0, data.length - 1)] ^= 1 << rng.int(0, 7);
      entries[i] = { ...entries[i]!, data };
      return { kind, archive: pack(entries), expect: expectedFiles(entries), mayAccept: true };
    }
    case 'manifestCounts': {
      const field = rng.pick(['keys', 'aliases', 'grants', 'buckets', 'objects', 'blobs', 'events', 'materials', 'blobBytes', 'unknownCount']);
      const delta = rng.pick([-1, 1, 1000]);
      const edited = withManifest(entries, (m) => {
        const counts = m.counts as Record<string, number>;
        counts[field] = (counts[field] ?? 0) + delta;
      });
      return { kind, archive: pack(edited), refusal: /do not match its manifest|incomplete|malformed manifest|more object data/ };
    }
    case 'manifestFiles': {
      const edited = withManifest(entries, (m) => {
        const files = m.files as string[];
        rng.pick([() => files.pop(), () => files.push('ca.pem'), () => files.push('../evil'), () => (m.files = 'kms.db'), () => files.splice(0, 1)])();
      });
      return { kind, archive: pack(edited), refusal: /unexpected entry|missing|malformed manifest|incomplete/ };
    }
    case 'manifestVersion': {
      const edited = withManifest(entries, (m) => rng.pick([() => (m.version = 2), () => (m.version = '1'), () => (m.format = 'other'), () => delete m.counts, () => ((m.counts as Record<string, unknown>).keys = -1)])());
      return { kind, archive: pack(edited), refusal: /snapshot format|names no sealbox-snapshot format|malformed manifest/ };
    }
    case 'kdfCost': {
      // The sealed archive's scrypt parameters raised to what would take gigabytes or minutes.
      const s = entriesOf(sealed);
      const edited = withManifest(s, (m) => {
        const e = m.encryption as Record<string, number>;
        rng.pick([() => ((e.N = 2 ** 20), (e.r = 16)), () => ((e.N = 2 ** 20), (e.p = 4)), () => ((e.N = 2 ** 17), (e.r = 16), (e.p = 4)), () => (e.N = 2 ** 30), () => (e.N = 3 * 2 ** 10)])();
      });
      return { kind, archive: pack(edited), passphrase: PASSPHRASE, refusal: /malformed manifest/ };
    }
    case 'zeroTail':
      // Megabytes to a gigabyte of zeros after the end blocks: a few hundred bytes to a megabyte of gzip.
      return { kind, archive: pack(entries, Buffer.alloc(rng.pick([2, 16, 64]) << 20)), refusal: /padding after the end of the archive/ };
    case 'blobBomb': {
      // A blob entry of 64 MiB of zeros (64 KiB gzip'd) the manifest does not account for.
      const i = entries.findIndex((e) => e.name.startsWith('blobs/'));
      entries[i] = { ...entries[i]!, data: Buffer.alloc(64 << 20) };
      return { kind, archive: pack(entries), refusal: /more object data than its manifest says/ };
    }
    case 'rootKeySize': {
      const which = rng.pick(['root.key', 's3.key']);
      const i = entries.findIndex((e) => e.name === which);
      entries[i] = { ...entries[i]!, data: rng.chance(0.5) ? entries[i]!.data.subarray(0, 31) : Buffer.concat([entries[i]!.data, Buffer.alloc(1)]) };
      return { kind, archive: pack(entries), refusal: /is not a root key \(expected 32 bytes/ };
    }
  }
  throw new Error(`no mutation ${kind}`);
}

it('an import restores exactly what the archive holds, or is refused and leaves nothing', async () => {
  const n = cases(90);
  await forCasesAsync('snapshot', n, async (rng) => {
    const m = mutate(rng);
    const outcome = await attempt(m.archive, m.passphrase);
    if (outcome.accepted) {
      if (!m.expect || (m.refusal && !m.mayAccept)) throw new Error(`${m.kind}: accepted, must be refused`);
      expect(outcome.files).toEqual(m.expect);
      counters.hit(`accepted:${m.kind}`);
      counters.hit(JSON.stringify(outcome.files) === JSON.stringify(exported) ? 'accepted:exportedState' : 'accepted:asArchived');
      return;
    }
    if (m.expect && !m.mayAccept) throw new Error(`${m.kind}: refused, must be accepted: ${outcome.error.message}`);
    if (m.refusal && !m.refusal.test(outcome.error.message)) throw new Error(`${m.kind}: ${JSON.stringify(outcome.error.message)} does not match ${m.refusal}`);
    counters.hit(`refused:${m.kind}`);
    counters.hit('refused');
  });
  // Floors: the intact archives restore, and each family of mutation reached its check.
  expect(counters.get('accepted:exportedState')).toBeGreaterThanOrEqual(0.1 * n);
  for (const kind of ['intact', 'sealed', 'reorder']) expect(counters.get(`accepted:${kind}`)).toBeGreaterThanOrEqual(1);
  for (const kind of ['wrongPassphrase', 'truncate', 'hostileName', 'linkType', 'hugeSize', 'duplicate', 'drop', 'manifestCounts', 'kdfCost', 'zeroTail', 'blobBomb']) {
    expect([kind, counters.get(`refused:${kind}`) >= 1]).toEqual([kind, true]);
  }
  expect(counters.get('refused')).toBeGreaterThanOrEqual(0.5 * n);
}, 120_000);

it('a database with a view named like a table (an endless recursive query) is refused, not counted forever', async () => {
  const entries = entriesOf(plain);
  const crafted = join(root, 'crafted.db');
  const db = new Database(crafted);
  db.exec('CREATE VIEW keys AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c');
  for (const table of ['materials', 'aliases', 'grants', 'events', 'custom_key_stores']) db.exec(`CREATE TABLE ${table} (x)`);
  db.close();
  const i = entries.findIndex((e) => e.name === 'kms.db');
  entries[i] = { name: 'kms.db', data: readFileSync(crafted) };
  rmSync(crafted);
  const outcome = await attempt(pack(entries));
  expect(outcome.accepted ? 'accepted' : outcome.error.message).toMatch(/databases are damaged: .*kms\.db holds a view \("keys"\), which Sealbox never creates$/);
});

it.each(HOSTILE.filter((name) => name !== 'manifest.json'))('an extra entry named %j, with data, is refused and nothing is written outside the target', async (name) => {
  const entries = entriesOf(plain);
  entries.splice(1, 0, { name, data: Buffer.from('evil') });
  const outcome = await attempt(pack(entries));
  expect(outcome.accepted ? 'accepted' : outcome.error.message).toMatch(/unexpected entry|holds .* twice|more object data/);
});
