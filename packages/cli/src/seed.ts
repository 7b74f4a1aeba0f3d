import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { decodeSeedMaterial, isKeySpec, isSeedKeyId, KMS_OPERATIONS, kmsFaultErrors, quotaProblem, SPEC_INFO, type KeySpec, type KeyUsage, type KmsQuotaConfig, type SeedGrant, type SeedKey } from '@sealbox/kms';
import { FaultRuleError, FaultRules, type FaultRuleInput } from '@sealbox/runtime';
import { s3FaultErrors } from '@sealbox/s3';
import { parsePolicy, PolicyError } from '@sealbox/policy';
import type { Credentials } from '@sealbox/sigv4';
import { Lexer, LineCounter, isAlias, isMap, isScalar, parseDocument, visit, type Document } from 'yaml';
import { fsReason } from './fs-errors';

/**
 * The seed file (YAML, or JSON, which is YAML too): `accounts` (the accounts, IAM users and roles
 * that may call Sealbox, with their access keys and identity-based policies), `keys` (KMS keys
 * with fixed ids and, optionally, fixed material, their aliases and grants) and `buckets` (S3
 * buckets with their configuration and objects).
 */
export interface Seed {
  /** Every credential the seed declares (roots, users, role sessions). */
  credentials: Credentials[];
  keys: SeedKey[];
  buckets: SeedBucket[];
  /** Fault rules in force from the start (as POST /_sealbox/faults takes them); a reset clears them. */
  faults?: FaultRuleInput[];
  /** KMS request quotas: `aws` for AWS's defaults, or rates by quota name (with `aws: true` on top of them). */
  kmsQuotas?: KmsQuotaConfig;
}

export interface SeedCorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders?: string[];
  exposeHeaders?: string[];
  maxAgeSeconds?: number;
}

export interface SeedObject {
  /** Where it is declared ("seed.yaml:40: buckets.0.objects.1"), for errors. */
  at: string;
  key: string;
  body: Buffer;
  /** Where its sse setting is declared. */
  sseAt?: string;
  contentType?: string;
  metadata?: Record<string, string>;
  sse?: { algorithm: string; kmsKeyId?: string; context?: Record<string, string>; bucketKey?: boolean };
}

export interface SeedBucket {
  at: string;
  name: string;
  account: string;
  /** Undefined: the S3 endpoint's region. */
  region?: string;
  versioning?: 'Enabled' | 'Suspended';
  encryption?: { algorithm: string; kmsKeyId?: string; bucketKey?: boolean };
  policy?: string;
  cors?: SeedCorsRule[];
  tags?: Record<string, string>;
  objects?: SeedObject[];
}

export interface SeedReport {
  created: string[];
  skipped: string[];
}

export const EMPTY_SEED: Seed = { credentials: [], keys: [], buckets: [] };

export class SeedError extends Error {}

type Path = (string | number)[];

interface Context {
  /** Throws a SeedError naming the node at `path` (with `at: 'key'`, the key of that field). */
  fail(path: Path, message: string, at?: 'key'): never;
  /** The text a scalar was written as (YAML reads 012345678901 and 1e11 as numbers). */
  source(path: Path): string | undefined;
  /** "file:line: dotted.path", the prefix of an error about the node at `path`. */
  at(path: Path): string;
  /** Where relative `file` paths of objects are resolved. */
  baseDir: string;
}

const NAME = /^[\w+=,.@-]{1,64}$/;
const ACCESS_KEY = /^[A-Za-z0-9_+=,.@-]{1,128}$/;

/** Reads and validates a seed; every error names the file, the line and the field. */
export function loadSeed(file: string): Seed {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SeedError(`cannot read seed file ${file}: ${fsReason(err)}${(err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (sealbox seed --example prints a seed to start from)' : ''}`);
  }
  return parseSeed(text, file, dirname(resolve(file)));
}

/** Parses and checks a seed; `baseDir` resolves objects' `file` paths (default: the working directory). */
export function parseSeed(text: string, file = 'seed', baseDir = process.cwd()): Seed {
  const lines = new LineCounter();
  checkNesting(text, file);
  // The yaml package's own check of unique keys compares every pair of keys of a mapping (a
  // mapping of 50,000 keys takes half a minute): the keys are checked below, in one pass.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new SeedError(`${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
  }
  checkUniqueKeys(doc, (offset) => `${file}:${lines.linePos(offset).line}`);
  const where = (path: Path, at?: 'key') => {
    if (at === 'key' && path.length > 0) {
      const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
      const field = String(path[path.length - 1]);
      const pair = isMap(parent) ? parent.items.find((item) => isScalar(item.key) && String(item.key.value) === field) : undefined;
      const range = isScalar(pair?.key) ? pair.key.range : undefined;
      if (range) return `${file}:${lines.linePos(range[0]).line}`;
    }
    for (let p = path; ; p = p.slice(0, -1)) {
      const node = p.length ? (doc.getIn(p, true) as { range?: [number, number, number] } | undefined) : doc.contents;
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) return `${file}:${lines.linePos(range[0]).line}`;
      if (p.length === 0) return file;
    }
  };
  const fail = (path: Path, message: string, at?: 'key'): never => {
    throw new SeedError(`${where(path, at)}: ${path.join('.') || 'seed'}: ${message}`);
  };
  const source = (path: Path): string | undefined => {
    const found = doc.getIn(path, true);
    const node = isAlias(found) ? found.resolve(doc) : found;
    return isScalar(node) ? node.source : undefined;
  };
  const ctx: Context = { fail, source, at: (path) => `${where(path)}: ${path.join('.')}`, baseDir };
  const root = toJS(doc, file, (offset) => `${file}:${lines.linePos(offset).line}`);
  if (root === null || root === undefined) return { credentials: [], keys: [], buckets: [] };
  if (!isRecord(root)) fail([], 'must be a mapping with "accounts", "keys" and "buckets" sections');
  for (const section of Object.keys(root as object)) {
    if (!['accounts', 'keys', 'buckets', 'faults', 'kmsQuotas'].includes(section)) fail([section], `unknown section (expected accounts, keys, buckets, faults or kmsQuotas)`, 'key');
  }
  const r = root as Record<string, unknown>;
  const seed: Seed = { credentials: readAccounts(r.accounts, ctx), keys: readKeys(r.keys, ctx), buckets: readBuckets(r.buckets, ctx) };
  if (r.faults !== undefined) seed.faults = readFaults(r.faults, ctx);
  if (r.kmsQuotas !== undefined) seed.kmsQuotas = readKmsQuotas(r.kmsQuotas, ['kmsQuotas'], fail);
  return seed;
}

/** Deeper than any seed needs (a policy condition's values sit about 10 levels down). */
const MAX_NESTING = 64;

/**
 * Refuses collections nested more than MAX_NESTING deep before the document is parsed: the yaml
 * package composes nodes recursively (a few thousand levels overflow the stack, and its parser
 * slows down more than linearly with depth: a million `[` take minutes). The lexer is linear and
 * keeps no stack. Flow collections count their brackets; a block collection needs one more column
 * of indentation, or one more `- `, `? ` or `: ` on its line, than the one holding it, so
 * indentation plus indicators bounds the block depth.
 */
function checkNesting(text: string, file: string): void {
  let flow = 0;
  let lineStart = true;
  let block = 0;
  let line = 1;
  for (const token of new Lexer().lex(text)) {
    if (token === '\n' || token === '\r\n') {
      line++;
      lineStart = true;
      block = 0;
      continue;
    }
    if (lineStart && /^[ \t]+$/.test(token)) block += token.length;
    else if (flow === 0 && (token === '-' || token === '?' || token === ':')) block++;
    else if (token === '[' || token === '{') flow++;
    else if (token === ']' || token === '}') flow = Math.max(0, flow - 1);
    else if (token.length > 1 && token.includes('\n')) line += token.split('\n').length - 1;
    if (!/^[ \t]+$/.test(token)) lineStart = false;
    if (flow > MAX_NESTING || block > 2 * MAX_NESTING) {
      throw new SeedError(`${file}:${line}: nested too deeply (a seed needs no more than ${MAX_NESTING} levels of lists and mappings)`);
    }
  }
}

/** Keys of a mapping are unique (as they become fields of one object: 1 and "1" are the same). */
function checkUniqueKeys(doc: Document, at: (offset: number) => string): void {
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (seen.has(key)) throw new SeedError(`${at(pair.key.range?.[0] ?? 0)}: Map keys must be unique (${JSON.stringify(key)} is given twice)`);
        seen.add(key);
      }
    },
  });
}

/**
 * The document as plain values. Aliases are bounded by the yaml package (maxAliasCount, 100): a
 * "billion laughs" document, whose aliases refer to lists of aliases, is refused rather than
 * expanded into gigabytes.
 */
function toJS(doc: Document, file: string, at: (offset: number) => string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    let first: number | undefined;
    visit(doc, {
      Alias(_, alias) {
        first ??= alias.range?.[0];
      },
    });
    throw new SeedError(`${first === undefined ? file : at(first)}: aliases (*name) expand to too much data (more than 100 nodes reached through aliases); write the values out`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readAccounts(accounts: unknown, { fail, source }: Context): Credentials[] {
  if (accounts === undefined) return [];
  if (!Array.isArray(accounts)) fail(['accounts'], 'must be a list of accounts');
  const out: Credentials[] = [];
  const keys = new Set<string>();
  const principals = new Set<string>();
  const add = (c: Credentials, path: Path) => {
    if (keys.has(c.accessKeyId)) fail([...path, 'accessKeyId'], `access key ${c.accessKeyId} is declared twice`);
    keys.add(c.accessKeyId);
    out.push(c);
  };
  (accounts as unknown[]).forEach((account, i) => {
    const path: Path = ['accounts', i];
    if (!isRecord(account)) fail(path, 'must be a mapping with an id');
    const a = account as Record<string, unknown>;
    checkFields(a, ['id', 'root', 'users', 'roles'], path, fail);
    // An unquoted id is a YAML number: take the digits as written (012345678901 keeps its zero),
    // so 12345 or 1e11 is refused rather than padded into some other account's id.
    const id = typeof a.id === 'number' ? source([...path, 'id']) : a.id;
    if (typeof id !== 'string' || !/^\d{12}$/.test(id)) fail([...path, 'id'], 'must be a 12-digit account id (quote it in YAML)');
    const accountId = id as string;
    if (a.root !== undefined) {
      if (isRecord(a.root)) checkFields(a.root, ['accessKeyId', 'secretAccessKey'], [...path, 'root'], fail);
      const keyPair = accessKeyOf(a.root, [...path, 'root'], fail);
      add({ ...keyPair, accountId, principalArn: `arn:aws:iam::${accountId}:root` }, [...path, 'root']);
    }
    for (const kind of ['users', 'roles'] as const) {
      const list = a[kind];
      if (list === undefined) continue;
      if (!Array.isArray(list)) fail([...path, kind], `must be a list of ${kind}`);
      (list as unknown[]).forEach((entry, j) => {
        const p: Path = [...path, kind, j];
        if (!isRecord(entry)) fail(p, 'must be a mapping');
        const e = entry as Record<string, unknown>;
        checkFields(e, kind === 'users' ? ['name', 'path', 'accessKeyId', 'secretAccessKey', 'policies'] : ['name', 'path', 'sessionName', 'accessKeyId', 'secretAccessKey', 'sessionToken', 'policies'], p, fail);
        if (typeof e.name !== 'string' || !NAME.test(e.name)) fail([...p, 'name'], 'must be an IAM name (letters, digits and +=,.@_-, up to 64)');
        const iamPath = e.path ?? '/';
        // IAM's pattern, (\u002F)|(\u002F[\u0021-\u007F]+\u002F), 512 characters at most.
        if (typeof iamPath !== 'string' || !/^\/([\x21-\x7f]+\/)?$/.test(iamPath) || iamPath.length > 512) fail([...p, 'path'], 'must start and end with /');
        const arn = `arn:aws:iam::${accountId}:${kind === 'users' ? 'user' : 'role'}${iamPath as string}${e.name as string}`;
        // A user or role name is unique in its account whatever its path, and case-insensitively:
        // https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html (and CreateRole)
        const principal = `${accountId}:${kind}:${(e.name as string).toLowerCase()}`;
        if (principals.has(principal)) fail([...p, 'name'], `${arn} is declared twice (${kind === 'users' ? 'user' : 'role'} names are unique in an account, whatever the path or case)`);
        principals.add(principal);
        const keyPair = accessKeyOf(e, p, fail);
        const policies = policiesOf(e.policies, [...p, 'policies'], fail);
        if (kind === 'users') {
          add({ ...keyPair, accountId, principalArn: arn, policies }, p);
        } else {
          const session = e.sessionName ?? e.name;
          if (typeof session !== 'string' || !/^[\w+=,.@-]{2,64}$/.test(session)) fail([...p, 'sessionName'], 'must be a role session name (2 to 64 of letters, digits and +=,.@_-)');
          if (e.sessionToken !== undefined && typeof e.sessionToken !== 'string') fail([...p, 'sessionToken'], 'must be a string');
          add(
            {
              ...keyPair,
              accountId,
              principalArn: `arn:aws:sts::${accountId}:assumed-role/${e.name as string}/${session as string}`,
              roleArn: arn,
              policies,
              ...(e.sessionToken ? { sessionToken: e.sessionToken as string } : {}),
            },
            p,
          );
        }
      });
    }
  });
  return out;
}

function checkFields(obj: Record<string, unknown>, allowed: string[], path: Path, fail: Context['fail']): void {
  for (const field of Object.keys(obj)) {
    if (!allowed.includes(field)) fail([...path, field], `unknown field (expected one of ${allowed.join(', ')})`, 'key');
  }
}

function accessKeyOf(value: unknown, path: Path, fail: Context['fail']): { accessKeyId: string; secretAccessKey: string } {
  if (!isRecord(value)) fail(path, 'must be a mapping with accessKeyId and secretAccessKey');
  const v = value as Record<string, unknown>;
  if (typeof v.accessKeyId !== 'string' || !ACCESS_KEY.test(v.accessKeyId)) fail([...path, 'accessKeyId'], 'must be an access key id (letters, digits and _+=,.@-)');
  if (typeof v.secretAccessKey !== 'string' || v.secretAccessKey === '') fail([...path, 'secretAccessKey'], 'must be a non-empty string');
  return { accessKeyId: v.accessKeyId as string, secretAccessKey: v.secretAccessKey as string };
}

/** Identity-based policies: documents (mappings) or JSON strings, validated as IAM validates them. */
function policiesOf(value: unknown, path: Path, fail: Context['fail']): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(path, 'must be a list of policy documents');
  return (value as unknown[]).map((doc, i) => {
    const text = typeof doc === 'string' ? doc : JSON.stringify(doc);
    try {
      parsePolicy(text, 'identity');
    } catch (err) {
      if (err instanceof PolicyError) fail([...path, i], `invalid policy: ${err.message}`);
      throw err;
    }
    return text;
  });
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const KEY_FIELDS = ['id', 'account', 'region', 'spec', 'usage', 'description', 'tags', 'policy', 'enabled', 'rotation', 'origin', 'material', 'multiRegion', 'replicaRegions', 'aliases', 'grants'];
const GRANT_FIELDS = ['name', 'grantee', 'operations', 'retiringPrincipal', 'constraints'];
const BUCKET_FIELDS = ['name', 'account', 'region', 'versioning', 'encryption', 'policy', 'cors', 'tags', 'objects'];
const OBJECT_FIELDS = ['key', 'text', 'file', 'contentType', 'metadata', 'sse'];
const CORS_FIELDS = ['id', 'allowedOrigins', 'allowedMethods', 'allowedHeaders', 'exposeHeaders', 'maxAgeSeconds'];
const SSE_ALGORITHMS = ['AES256', 'aws:kms', 'aws:kms:dsse'];

function listOf(value: unknown, path: Path, what: string, fail: Context['fail']): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(path, `must be a list of ${what}`);
  return value as unknown[];
}

function recordOf(value: unknown, path: Path, fields: string[], fail: Context['fail'], what = 'a mapping'): Record<string, unknown> {
  if (!isRecord(value)) fail(path, `must be ${what}`);
  const v = value as Record<string, unknown>;
  checkFields(v, fields, path, fail);
  return v;
}

function stringOf(value: unknown, path: Path, fail: Context['fail'], what = 'a string'): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') fail(path, `must be ${what}`);
  return value as string;
}

function boolOf(value: unknown, path: Path, fail: Context['fail']): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail(path, 'must be true or false');
  return value as boolean;
}

function stringMapOf(value: unknown, path: Path, fail: Context['fail']): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) fail(path, 'must be a mapping of names to strings');
  for (const [k, v] of Object.entries(value as object)) {
    if (typeof v !== 'string') fail([...path, k], 'must be a string (quote numbers and booleans)');
  }
  return value as Record<string, string>;
}

function stringListOf(value: unknown, path: Path, fail: Context['fail']): string[] | undefined {
  if (value === undefined) return undefined;
  const list = listOf(value, path, 'strings', fail);
  list.forEach((v, i) => {
    if (typeof v !== 'string' || v === '') fail([...path, i], 'must be a non-empty string');
  });
  return list as string[];
}

function accountOf(value: unknown, path: Path, { fail, source }: Context): string {
  if (value === undefined) return '000000000000';
  const id = typeof value === 'number' ? source(path) : value;
  if (typeof id !== 'string' || !/^\d{12}$/.test(id)) fail(path, 'must be a 12-digit account id (quote it in YAML)');
  return id as string;
}

function regionOf(value: unknown, path: Path, fail: Context['fail']): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !REGION.test(value)) fail(path, 'must be a region name such as us-east-1');
  return value as string;
}

/** A policy written as a mapping or as a JSON string; checked as IAM's policy grammar checks it. */
function resourcePolicyOf(value: unknown, path: Path, fail: Context['fail']): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' && !isRecord(value)) fail(path, 'must be a policy document (a mapping or a JSON string)');
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  try {
    parsePolicy(text, 'resource');
  } catch (err) {
    if (err instanceof PolicyError) fail(path, `invalid policy: ${err.message}`);
    throw err;
  }
  return text;
}

function readKeys(value: unknown, ctx: Context): SeedKey[] {
  const { fail } = ctx;
  const seen = new Set<string>();
  const aliases = new Set<string>();
  return listOf(value, ['keys'], 'keys', fail).map((entry, i) => {
    const path: Path = ['keys', i];
    const k = recordOf(entry, path, KEY_FIELDS, fail, 'a mapping with an id');
    const id = stringOf(k.id, [...path, 'id'], fail, 'a key id');
    if (!id || !isSeedKeyId(id)) fail([...path, 'id'], 'must be a key id: a lowercase UUID, or mrk- and 32 hex digits for a multi-Region key');
    const keyId = id as string;
    const account = accountOf(k.account, [...path, 'account'], ctx);
    const region = regionOf(k.region, [...path, 'region'], fail) ?? 'us-east-1';
    // Key ids are unique across regions (a multi-Region key's other regions are its replicaRegions).
    if (seen.has(keyId)) fail([...path, 'id'], `key ${keyId} is declared twice (list a multi-Region key's other regions in replicaRegions)`);
    seen.add(keyId);
    const spec = k.spec ?? 'SYMMETRIC_DEFAULT';
    if (typeof spec !== 'string' || !isKeySpec(spec)) fail([...path, 'spec'], `must be a key spec (one of ${Object.keys(SPEC_INFO).join(', ')})`);
    const keySpec = spec as KeySpec;
    const usages = SPEC_INFO[keySpec].usages;
    const usage = k.usage ?? (keySpec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : usages.length === 1 ? usages[0] : undefined);
    if (usage === undefined) fail([...path, 'usage'], `a ${keySpec} key needs a usage: one of ${usages.join(', ')}`, k.usage === undefined ? undefined : 'key');
    if (!usages.includes(usage as KeyUsage)) fail([...path, 'usage'], `must be one of ${usages.join(', ')} for a ${keySpec} key`);
    const multiRegion = boolOf(k.multiRegion, [...path, 'multiRegion'], fail);
    if (multiRegion !== undefined && multiRegion !== keyId.startsWith('mrk-')) {
      fail([...path, 'multiRegion'], multiRegion ? 'a multi-Region key id starts with mrk- (mrk- and 32 hex digits)' : 'a key id starting with mrk- is a multi-Region key');
    }
    const replicaRegions = stringListOf(k.replicaRegions, [...path, 'replicaRegions'], fail);
    replicaRegions?.forEach((r, j) => {
      regionOf(r, [...path, 'replicaRegions', j], fail);
      if (r === region) fail([...path, 'replicaRegions', j], `is the key's own region`);
    });
    if (replicaRegions?.length && !keyId.startsWith('mrk-')) fail([...path, 'replicaRegions'], 'only a multi-Region key (id mrk-...) has replicas');
    const origin = k.origin ?? 'AWS_KMS';
    if (origin !== 'AWS_KMS' && origin !== 'EXTERNAL') fail([...path, 'origin'], 'must be AWS_KMS or EXTERNAL');
    let material: Buffer[] | undefined;
    if (k.material !== undefined) {
      const list = typeof k.material === 'string' ? [k.material] : k.material;
      const mpath: Path = [...path, 'material'];
      if (!Array.isArray(list) || list.length === 0) fail(mpath, 'must be a list of key material versions (the last is current)');
      material = (list as unknown[]).map((m, j) => {
        const p = typeof k.material === 'string' ? mpath : [...mpath, j];
        // Unquoted hex of digits only (or 1e5...) is a YAML number: take the text as written.
        const text = typeof m === 'number' ? ctx.source(p) : m;
        if (typeof text !== 'string') fail(p, 'must be a string (hex or base64 bytes, or a PEM private key)');
        const decoded = decodeSeedMaterial(keySpec, text as string);
        if ('problem' in decoded) fail(p, decoded.problem);
        return (decoded as { material: Buffer }).material;
      });
      if (material.length > 1 && SPEC_INFO[keySpec].family !== 'symmetric') fail(mpath, `only SYMMETRIC_DEFAULT keys rotate: a ${keySpec} key has one material`);
    }
    let rotation: SeedKey['rotation'];
    if (k.rotation !== undefined) {
      const rpath: Path = [...path, 'rotation'];
      const r = recordOf(k.rotation, rpath, ['enabled', 'periodDays'], fail);
      const enabled = boolOf(r.enabled, [...rpath, 'enabled'], fail) ?? true;
      const period = r.periodDays;
      if (period !== undefined && (typeof period !== 'number' || !Number.isInteger(period) || period < 90 || period > 2560)) fail([...rpath, 'periodDays'], 'must be a whole number of days from 90 to 2560');
      if (enabled && keySpec !== 'SYMMETRIC_DEFAULT') fail([...rpath, 'enabled'], `automatic rotation is for SYMMETRIC_DEFAULT keys only, not ${keySpec}`);
      if (enabled && origin === 'EXTERNAL') fail([...rpath, 'enabled'], 'automatic rotation is not available for keys with imported material (origin EXTERNAL)');
      rotation = { enabled, ...(period !== undefined ? { periodDays: period as number } : {}) };
    }
    const keyAliases = stringListOf(k.aliases, [...path, 'aliases'], fail)?.map((name, j) => {
      const p: Path = [...path, 'aliases', j];
      if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(name)) fail(p, 'must be an alias name: alias/ and letters, digits, /, _ or -');
      if (name.startsWith('alias/aws/')) fail(p, 'alias/aws/ names are reserved for AWS managed keys');
      const scoped = `${account}/${region}/${name}`;
      if (aliases.has(scoped)) fail(p, `${name} is declared twice in ${account} ${region}`);
      aliases.add(scoped);
      return { at: ctx.at(p), name };
    });
    const grants = listOf(k.grants, [...path, 'grants'], 'grants', fail).map((g, j): SeedGrant => {
      const p: Path = [...path, 'grants', j];
      const r = recordOf(g, p, GRANT_FIELDS, fail, 'a mapping with grantee and operations');
      const grantee = stringOf(r.grantee, [...p, 'grantee'], fail, 'a principal ARN');
      if (!grantee) fail([...p, 'grantee'], 'must be a principal ARN');
      const operations = stringListOf(r.operations, [...p, 'operations'], fail);
      if (!operations?.length) fail([...p, 'operations'], 'must list the operations the grant allows');
      let constraints: SeedGrant['constraints'];
      if (r.constraints !== undefined) {
        const c = recordOf(r.constraints, [...p, 'constraints'], ['encryptionContextEquals', 'encryptionContextSubset'], fail);
        const equals = stringMapOf(c.encryptionContextEquals, [...p, 'constraints', 'encryptionContextEquals'], fail);
        const subset = stringMapOf(c.encryptionContextSubset, [...p, 'constraints', 'encryptionContextSubset'], fail);
        constraints = { ...(equals ? { EncryptionContextEquals: equals } : {}), ...(subset ? { EncryptionContextSubset: subset } : {}) };
      }
      return {
        at: ctx.at(p),
        grantee: grantee as string,
        operations: operations as string[],
        ...(r.name !== undefined ? { name: stringOf(r.name, [...p, 'name'], fail) } : {}),
        ...(r.retiringPrincipal !== undefined ? { retiringPrincipal: stringOf(r.retiringPrincipal, [...p, 'retiringPrincipal'], fail) } : {}),
        ...(constraints ? { constraints } : {}),
      };
    });
    const description = k.description === undefined ? undefined : typeof k.description === 'string' ? k.description : fail([...path, 'description'], 'must be a string');
    return {
      at: ctx.at(path),
      id: keyId,
      account,
      region,
      spec: keySpec,
      usage: usage as KeyUsage,
      ...(description !== undefined ? { description } : {}),
      ...(k.tags !== undefined ? { tags: stringMapOf(k.tags, [...path, 'tags'], fail) } : {}),
      ...(k.policy !== undefined ? { policy: resourcePolicyOf(k.policy, [...path, 'policy'], fail) } : {}),
      ...(k.enabled !== undefined ? { enabled: boolOf(k.enabled, [...path, 'enabled'], fail) } : {}),
      ...(rotation ? { rotation } : {}),
      origin: origin as 'AWS_KMS' | 'EXTERNAL',
      ...(material ? { material } : {}),
      ...(replicaRegions?.length ? { replicaRegions } : {}),
      ...(keyAliases?.length ? { aliases: keyAliases } : {}),
      ...(grants.length ? { grants } : {}),
    };
  });
}

function readBuckets(value: unknown, ctx: Context): SeedBucket[] {
  const { fail } = ctx;
  const names = new Set<string>();
  return listOf(value, ['buckets'], 'buckets', fail).map((entry, i) => {
    const path: Path = ['buckets', i];
    const b = recordOf(entry, path, BUCKET_FIELDS, fail, 'a mapping with a name');
    const name = b.name;
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
    if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
      fail([...path, 'name'], 'must be a bucket name (3 to 63 of lowercase letters, digits, dots and hyphens)');
    }
    if (names.has(name as string)) fail([...path, 'name'], `bucket ${name as string} is declared twice (bucket names are global)`);
    names.add(name as string);
    const versioning = b.versioning === true ? 'Enabled' : b.versioning === false ? 'Suspended' : b.versioning;
    if (versioning !== undefined && versioning !== 'Enabled' && versioning !== 'Suspended') fail([...path, 'versioning'], 'must be Enabled or Suspended (or true / false)');
    let encryption: SeedBucket['encryption'];
    if (b.encryption !== undefined) {
      const p: Path = [...path, 'encryption'];
      const e = recordOf(b.encryption, p, ['algorithm', 'kmsKeyId', 'bucketKey'], fail);
      const algorithm = e.algorithm ?? 'AES256';
      if (typeof algorithm !== 'string' || !SSE_ALGORITHMS.includes(algorithm)) fail([...p, 'algorithm'], `must be one of ${SSE_ALGORITHMS.join(', ')}`);
      const kmsKeyId = stringOf(e.kmsKeyId, [...p, 'kmsKeyId'], fail);
      if (kmsKeyId && algorithm === 'AES256') fail([...p, 'kmsKeyId'], 'is for aws:kms and aws:kms:dsse encryption');
      const bucketKey = boolOf(e.bucketKey, [...p, 'bucketKey'], fail);
      encryption = { algorithm: algorithm as string, ...(kmsKeyId ? { kmsKeyId } : {}), ...(bucketKey !== undefined ? { bucketKey } : {}) };
    }
    const cors = listOf(b.cors, [...path, 'cors'], 'CORS rules', fail).map((rule, j): SeedCorsRule => {
      const p: Path = [...path, 'cors', j];
      const r = recordOf(rule, p, CORS_FIELDS, fail, 'a CORS rule (allowedOrigins, allowedMethods, ...)');
      const allowedOrigins = stringListOf(r.allowedOrigins, [...p, 'allowedOrigins'], fail);
      if (!allowedOrigins?.length) fail([...p, 'allowedOrigins'], 'must list at least one origin');
      const allowedMethods = stringListOf(r.allowedMethods, [...p, 'allowedMethods'], fail);
      if (!allowedMethods?.length) fail([...p, 'allowedMethods'], 'must list at least one method');
      allowedMethods!.forEach((m, k) => {
        if (!['GET', 'PUT', 'POST', 'DELETE', 'HEAD'].includes(m)) fail([...p, 'allowedMethods', k], 'must be GET, PUT, POST, DELETE or HEAD');
      });
      const maxAge = r.maxAgeSeconds;
      if (maxAge !== undefined && (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0)) fail([...p, 'maxAgeSeconds'], 'must be a whole number of seconds');
      return {
        ...(r.id !== undefined ? { id: stringOf(r.id, [...p, 'id'], fail) } : {}),
        allowedOrigins: allowedOrigins!,
        allowedMethods: allowedMethods!,
        ...(r.allowedHeaders !== undefined ? { allowedHeaders: stringListOf(r.allowedHeaders, [...p, 'allowedHeaders'], fail) } : {}),
        ...(r.exposeHeaders !== undefined ? { exposeHeaders: stringListOf(r.exposeHeaders, [...p, 'exposeHeaders'], fail) } : {}),
        ...(maxAge !== undefined ? { maxAgeSeconds: maxAge as number } : {}),
      };
    });
    const keys = new Set<string>();
    const objects = listOf(b.objects, [...path, 'objects'], 'objects', fail).map((obj, j): SeedObject => {
      const p: Path = [...path, 'objects', j];
      const o = recordOf(obj, p, OBJECT_FIELDS, fail, 'a mapping with a key and text or file');
      const key = o.key;
      if (typeof key !== 'string' || key === '' || Buffer.byteLength(key) > 1024) fail([...p, 'key'], 'must be an object key (1 to 1024 bytes)');
      if (keys.has(key as string)) fail([...p, 'key'], `object ${key as string} is declared twice`);
      keys.add(key as string);
      if ((o.text === undefined) === (o.file === undefined)) fail(p, 'must have either text or file');
      let body: Buffer;
      if (o.text !== undefined) {
        if (typeof o.text !== 'string') fail([...p, 'text'], 'must be a string');
        body = Buffer.from(o.text as string, 'utf8');
      } else {
        const file = stringOf(o.file, [...p, 'file'], fail, 'a file path')!;
        try {
          body = readFileSync(resolve(ctx.baseDir, file));
        } catch (err) {
          fail([...p, 'file'], `cannot read ${file}: ${fsReason(err)}`);
        }
      }
      let sse: SeedObject['sse'];
      if (o.sse !== undefined) {
        const sp: Path = [...p, 'sse'];
        const s = recordOf(o.sse, sp, ['algorithm', 'kmsKeyId', 'context', 'bucketKey'], fail);
        const algorithm = s.algorithm ?? 'aws:kms';
        if (typeof algorithm !== 'string' || !SSE_ALGORITHMS.includes(algorithm)) fail([...sp, 'algorithm'], `must be one of ${SSE_ALGORITHMS.join(', ')}`);
        const kmsKeyId = stringOf(s.kmsKeyId, [...sp, 'kmsKeyId'], fail);
        const context = stringMapOf(s.context, [...sp, 'context'], fail);
        if ((kmsKeyId || context) && algorithm === 'AES256') fail(sp, 'kmsKeyId and context are for aws:kms and aws:kms:dsse encryption');
        const bucketKey = boolOf(s.bucketKey, [...sp, 'bucketKey'], fail);
        sse = { algorithm: algorithm as string, ...(kmsKeyId ? { kmsKeyId } : {}), ...(context ? { context } : {}), ...(bucketKey !== undefined ? { bucketKey } : {}) };
      }
      return {
        at: ctx.at(p),
        key: key as string,
        body: body!,
        ...(o.contentType !== undefined ? { contentType: stringOf(o.contentType, [...p, 'contentType'], fail) } : {}),
        ...(o.metadata !== undefined ? { metadata: stringMapOf(o.metadata, [...p, 'metadata'], fail) } : {}),
        ...(sse ? { sse, sseAt: ctx.at([...p, 'sse']) } : {}),
      };
    });
    return {
      at: ctx.at(path),
      name: name as string,
      account: accountOf(b.account, [...path, 'account'], ctx),
      ...(b.region !== undefined ? { region: regionOf(b.region, [...path, 'region'], fail) } : {}),
      ...(versioning ? { versioning: versioning as 'Enabled' | 'Suspended' } : {}),
      ...(encryption ? { encryption } : {}),
      ...(b.policy !== undefined ? { policy: resourcePolicyOf(b.policy, [...path, 'policy'], fail) } : {}),
      ...(cors.length ? { cors } : {}),
      ...(b.tags !== undefined ? { tags: stringMapOf(b.tags, [...path, 'tags'], fail) } : {}),
      ...(objects.length ? { objects } : {}),
    };
  });
}

/** `faults`: a list of fault rules, each checked as POST /_sealbox/faults checks it. */
function readFaults(faults: unknown, { fail }: Context): FaultRuleInput[] {
  if (!Array.isArray(faults)) fail(['faults'], 'must be a list of fault rules');
  const check = new FaultRules({ kms: kmsFaultErrors, s3: s3FaultErrors });
  (faults as unknown[]).forEach((rule, i) => {
    try {
      check.check(rule);
    } catch (err) {
      if (err instanceof FaultRuleError) fail(['faults', i], err.message);
      throw err;
    }
  });
  return faults as FaultRuleInput[];
}

/**
 * `kmsQuotas`: `aws` (AWS's default quotas), or a mapping of quota names to calls per second,
 * with `aws: true` to start from AWS's defaults. The same as --kms-quotas.
 */
export function readKmsQuotas(value: unknown, path: Path, fail: (path: Path, message: string, at?: 'key') => never): KmsQuotaConfig {
  if (value === 'aws') return { aws: true };
  if (!isRecord(value)) fail(path, 'must be aws (AWS\'s default quotas) or a mapping of quota names to calls per second');
  const config: KmsQuotaConfig = { rates: {} };
  for (const [name, rate] of Object.entries(value as Record<string, unknown>)) {
    if (name === 'aws') {
      if (typeof rate !== 'boolean') fail([...path, name], 'must be true or false');
      config.aws = rate as boolean;
      continue;
    }
    const problem = quotaProblem(name, rate, KMS_OPERATIONS);
    if (problem) fail([...path, name], problem);
    config.rates![name] = rate as number;
  }
  return config;
}
