import { readFileSync } from 'node:fs';
import { parsePolicy, PolicyError } from '@sealbox/policy';
import type { Credentials } from '@sealbox/sigv4';
import { LineCounter, isAlias, isMap, isScalar, parseDocument } from 'yaml';

/**
 * The seed file (YAML, or JSON, which is YAML too). This version reads its `accounts` section:
 * the accounts, IAM users and roles that may call Sealbox, with their access keys and
 * identity-based policies.
 */
export interface Seed {
  /** Every credential the seed declares (roots, users, role sessions). */
  credentials: Credentials[];
}

export class SeedError extends Error {}

type Path = (string | number)[];

interface Context {
  /** Throws a SeedError naming the node at `path` (with `at: 'key'`, the key of that field). */
  fail(path: Path, message: string, at?: 'key'): never;
  /** The text a scalar was written as (YAML reads 012345678901 and 1e11 as numbers). */
  source(path: Path): string | undefined;
}

const NAME = /^[\w+=,.@-]{1,64}$/;
const ACCESS_KEY = /^[A-Za-z0-9_+=,.@-]{1,128}$/;

/** Reads and validates a seed; every error names the file, the line and the field. */
export function loadSeed(file: string): Seed {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SeedError(`cannot read seed file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseSeed(text, file);
}

export function parseSeed(text: string, file = 'seed'): Seed {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new SeedError(`${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
  }
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
  const ctx: Context = { fail, source };
  const root = doc.toJS() as unknown;
  if (root === null || root === undefined) return { credentials: [] };
  if (!isRecord(root)) fail([], 'must be a mapping with an "accounts" section');
  for (const section of Object.keys(root as object)) {
    if (section !== 'accounts') fail([section], `unknown section (this version reads "accounts")`, 'key');
  }
  return { credentials: readAccounts((root as Record<string, unknown>).accounts, ctx) };
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
