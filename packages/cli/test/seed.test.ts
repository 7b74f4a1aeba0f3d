import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @sealbox/cli declares no AWS SDK dependency (only @sealbox/e2e does); pnpm's hoisted copy is reachable here.
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { parsePolicy } from '@sealbox/policy';
import type { Credentials } from '@sealbox/sigv4';
// The package's public entry point (what '@sealbox/cli' exports); a package cannot import itself by name here.
import { SEED_EXAMPLE, SeedError, loadSeed, parseSeed, startSealbox, type Sealbox } from '../src';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sealbox-seed-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeSeed(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function errorOf(run: () => unknown): SeedError {
  try {
    run();
  } catch (err) {
    if (err instanceof SeedError) return err;
    throw err;
  }
  throw new Error('expected a SeedError');
}

/** The 1-based line of the only line of `text` that contains `# <-`. */
function markedLine(text: string): number {
  const lines = text.split('\n');
  const hits = lines.flatMap((l, i) => (l.includes('# <-') ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`test seed must mark exactly one line, found ${hits.length}`);
  return hits[0]!;
}

/**
 * Parses `text` as seed.yaml and expects `seed.yaml:<line>: <path>: <problem...>`, the line being
 * the one marked `# <-`.
 */
function expectSeedError(text: string, path: string, problem: string | RegExp): SeedError {
  const err = errorOf(() => parseSeed(text, 'seed.yaml'));
  const prefix = `seed.yaml:${markedLine(text)}: ${path}: `;
  expect(err.message.slice(0, prefix.length)).toBe(prefix);
  const rest = err.message.slice(prefix.length);
  if (typeof problem === 'string') expect(rest).toContain(problem);
  else expect(rest).toMatch(problem);
  return err;
}

const ALICE_POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] };
const BOB_POLICY = '{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}}';
const APP_POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt'], Resource: '*' }] };

const FULL_YAML = `# A seed with everything the accounts section knows.
accounts:
  - id: "111122223333"
    root: { accessKeyId: ROOT1, secretAccessKey: rootsecret }
    users:
      - name: alice
        path: /team/
        accessKeyId: AKIAALICE
        secretAccessKey: alicesecret
        policies:
          - Version: "2012-10-17"
            Statement: [{ Effect: Allow, Action: "kms:*", Resource: "*" }]
      - name: bob
        accessKeyId: AKIABOB
        secretAccessKey: bobsecret
        policies:
          - '${BOB_POLICY}'
    roles:
      - name: app
        sessionName: worker
        accessKeyId: AKIAAPP
        secretAccessKey: appsecret
        sessionToken: apptoken
        policies:
          - Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [kms:Encrypt, kms:Decrypt]
                Resource: "*"
      - name: ops
        path: /ops/
        accessKeyId: AKIAOPS
        secretAccessKey: opssecret
  - id: 444455556666
    users:
      - name: carol
        accessKeyId: AKIACAROL
        secretAccessKey: carolsecret
`;

const FULL_JSON = JSON.stringify(
  {
    accounts: [
      {
        id: '111122223333',
        root: { accessKeyId: 'ROOT1', secretAccessKey: 'rootsecret' },
        users: [
          { name: 'alice', path: '/team/', accessKeyId: 'AKIAALICE', secretAccessKey: 'alicesecret', policies: [ALICE_POLICY] },
          { name: 'bob', accessKeyId: 'AKIABOB', secretAccessKey: 'bobsecret', policies: [BOB_POLICY] },
        ],
        roles: [
          { name: 'app', sessionName: 'worker', accessKeyId: 'AKIAAPP', secretAccessKey: 'appsecret', sessionToken: 'apptoken', policies: [APP_POLICY] },
          { name: 'ops', path: '/ops/', accessKeyId: 'AKIAOPS', secretAccessKey: 'opssecret' },
        ],
      },
      // A number, as in the YAML.
      { id: 444455556666, users: [{ name: 'carol', accessKeyId: 'AKIACAROL', secretAccessKey: 'carolsecret' }] },
    ],
  },
  null,
  2,
);

const FULL_CREDENTIALS: Credentials[] = [
  { accessKeyId: 'ROOT1', secretAccessKey: 'rootsecret', accountId: '111122223333', principalArn: 'arn:aws:iam::111122223333:root' },
  {
    accessKeyId: 'AKIAALICE',
    secretAccessKey: 'alicesecret',
    accountId: '111122223333',
    principalArn: 'arn:aws:iam::111122223333:user/team/alice',
    policies: [JSON.stringify(ALICE_POLICY)],
  },
  {
    accessKeyId: 'AKIABOB',
    secretAccessKey: 'bobsecret',
    accountId: '111122223333',
    principalArn: 'arn:aws:iam::111122223333:user/bob',
    policies: [BOB_POLICY],
  },
  {
    accessKeyId: 'AKIAAPP',
    secretAccessKey: 'appsecret',
    accountId: '111122223333',
    principalArn: 'arn:aws:sts::111122223333:assumed-role/app/worker',
    roleArn: 'arn:aws:iam::111122223333:role/app',
    policies: [JSON.stringify(APP_POLICY)],
    sessionToken: 'apptoken',
  },
  {
    accessKeyId: 'AKIAOPS',
    secretAccessKey: 'opssecret',
    accountId: '111122223333',
    principalArn: 'arn:aws:sts::111122223333:assumed-role/ops/ops',
    roleArn: 'arn:aws:iam::111122223333:role/ops/ops',
    policies: [],
  },
  {
    accessKeyId: 'AKIACAROL',
    secretAccessKey: 'carolsecret',
    accountId: '444455556666',
    principalArn: 'arn:aws:iam::444455556666:user/carol',
    policies: [],
  },
];

describe('parseSeed: valid seeds', () => {
  test('a full YAML seed gives every root, user and role-session credential', () => {
    expect(parseSeed(FULL_YAML, 'seed.yaml').credentials).toStrictEqual(FULL_CREDENTIALS);
  });

  test('the same seed as JSON gives the same credentials', () => {
    expect(parseSeed(FULL_JSON, 'seed.json').credentials).toStrictEqual(FULL_CREDENTIALS);
  });

  test('loadSeed reads YAML and JSON files', () => {
    expect(loadSeed(writeSeed('full.yaml', FULL_YAML)).credentials).toStrictEqual(FULL_CREDENTIALS);
    expect(loadSeed(writeSeed('full.json', FULL_JSON)).credentials).toStrictEqual(FULL_CREDENTIALS);
  });

  test('policies given as mappings become their JSON; JSON strings are kept as written; both parse as identity policies', () => {
    const [, alice, bob, app] = parseSeed(FULL_YAML).credentials;
    expect(JSON.parse(alice!.policies![0]!)).toEqual(ALICE_POLICY);
    expect(bob!.policies![0]).toBe(BOB_POLICY);
    expect(JSON.parse(app!.policies![0]!)).toEqual(APP_POLICY);
    for (const c of [alice, bob, app]) for (const p of c!.policies!) expect(() => parsePolicy(p, 'identity')).not.toThrow();
  });

  test('a JSON-string policy may be a YAML block scalar, and several policies keep their order', () => {
    const seed = `accounts:
  - id: "111122223333"
    users:
      - name: dave
        accessKeyId: AKIADAVE
        secretAccessKey: s
        policies:
          - |
            {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}]}
          - { Version: "2012-10-17", Statement: { Effect: Deny, NotAction: "kms:Encrypt", Resource: "*" } }
`;
    const [dave] = parseSeed(seed).credentials;
    expect(dave!.policies).toHaveLength(2);
    expect(JSON.parse(dave!.policies![0]!)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*' }],
    });
    expect(JSON.parse(dave!.policies![1]!)).toEqual({
      Version: '2012-10-17',
      Statement: { Effect: 'Deny', NotAction: 'kms:Encrypt', Resource: '*' },
    });
  });

  test('an unquoted 12-digit account id is accepted; one with a leading zero keeps its zero', () => {
    const seed = (id: string) => `accounts:\n  - id: ${id}\n    root: { accessKeyId: R, secretAccessKey: s }\n`;
    expect(parseSeed(seed('111122223333')).credentials[0]!.accountId).toBe('111122223333');
    // YAML 1.2 reads 012345678901 as the integer 12345678901; its 12 written digits are the id.
    expect(parseSeed(seed('012345678901')).credentials[0]).toStrictEqual({
      accessKeyId: 'R',
      secretAccessKey: 's',
      accountId: '012345678901',
      principalArn: 'arn:aws:iam::012345678901:root',
    });
  });

  test('an unquoted account id given through a YAML alias', () => {
    const seed = `accounts:
  - id: &main 111122223333
    users: [{ name: u, accessKeyId: K1, secretAccessKey: s }]
  - id: *main
    roles: [{ name: r0, accessKeyId: K2, secretAccessKey: s }]
`;
    expect(parseSeed(seed).credentials.map((c) => c.accountId)).toEqual(['111122223333', '111122223333']);
  });

  test('defaults: user path /, role session name = role name, no session token', () => {
    const seed = `accounts:
  - id: "111122223333"
    users: [{ name: u, accessKeyId: K1, secretAccessKey: s }]
    roles: [{ name: r0, accessKeyId: K2, secretAccessKey: s }]
`;
    const [u, r] = parseSeed(seed).credentials;
    expect(u!.principalArn).toBe('arn:aws:iam::111122223333:user/u');
    expect(r!.principalArn).toBe('arn:aws:sts::111122223333:assumed-role/r0/r0');
    expect(r).not.toHaveProperty('sessionToken');
  });

  test('the same name may be a user and a role, and may recur in another account', () => {
    const seed = `accounts:
  - id: "111122223333"
    users: [{ name: shared, accessKeyId: K1, secretAccessKey: s }]
    roles: [{ name: shared, accessKeyId: K2, secretAccessKey: s }]
  - id: "444455556666"
    users: [{ name: shared, accessKeyId: K3, secretAccessKey: s }]
`;
    expect(parseSeed(seed).credentials.map((c) => c.principalArn)).toEqual([
      'arn:aws:iam::111122223333:user/shared',
      'arn:aws:sts::111122223333:assumed-role/shared/shared',
      'arn:aws:iam::444455556666:user/shared',
    ]);
  });

  test.each([
    ['an empty file', ''],
    ['only comments', '# nothing seeded yet\n# accounts: []\n'],
    ['an empty document marker', '---\n'],
    ['an empty mapping', '{}'],
    ['an empty accounts list', 'accounts: []\n'],
    ['an account with no users or roles', 'accounts:\n  - id: "111122223333"\n'],
  ])('%s gives no credentials', (_name, text) => {
    expect(parseSeed(text).credentials).toEqual([]);
  });

  test('an empty file on disk gives no credentials', () => {
    expect(loadSeed(writeSeed('empty.yaml', '')).credentials).toEqual([]);
  });
});

describe('parseSeed: errors name the file, the line and the field', () => {
  test('errors are SeedErrors; the file name defaults to "seed"', () => {
    const err = errorOf(() => parseSeed('accounts: 3\n'));
    expect(err).toBeInstanceOf(SeedError);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('seed:1: accounts: must be a list of accounts');
  });

  test('the file name given is used', () => {
    expect(errorOf(() => parseSeed('accounts: 3\n', '/etc/sealbox/seed.yml')).message).toMatch(/^\/etc\/sealbox\/seed\.yml:1: accounts: /);
  });

  describe('document shape', () => {
    test('a list at the top', () => {
      expectSeedError('- id: "111122223333" # <-\n', 'seed', 'must be a mapping with "accounts", "keys" and "buckets" sections');
    });

    test('a scalar at the top', () => {
      expectSeedError('\n\nhello # <-\n', 'seed', 'must be a mapping');
    });

    test('an unknown top-level section', () => {
      expectSeedError(
        `accounts:
  - id: "111122223333"
queues: # <-
  - name: app
`,
        'queues',
        'unknown section',
      );
    });

    test('an unknown section with a number for a name', () => {
      expectSeedError('accounts: []\n\n2024: # <-\n  x: 1\n', '2024', 'unknown section');
    });

    test('an unknown section in JSON', () => {
      const text = '{\n  "accounts": [],\n  "tables": [\n    "b"\n  ]\n}\n';
      expect(errorOf(() => parseSeed(text, 'seed.json')).message).toBe('seed.json:3: tables: unknown section (expected accounts, keys, buckets, faults or kmsQuotas)');
    });

    test('accounts is not a list', () => {
      // A value of the wrong kind is the offending node: its line, not its key's.
      expectSeedError('accounts:\n  id: "111122223333" # <-\n', 'accounts', 'must be a list of accounts');
    });

    test('an account that is not a mapping', () => {
      expectSeedError('accounts:\n\n  - "111122223333" # <-\n  - 444455556666\n', 'accounts.0', 'must be a mapping with an id');
    });
  });

  describe('account ids', () => {
    const account = (id: string) => `accounts:
  - id: "999988887777"
  - id: ${id} # <-
    root: { accessKeyId: R, secretAccessKey: s }
`;
    test.each([
      ['an unquoted number with fewer digits', '12345'],
      ['an unquoted number with 11 digits', '11112222333'],
      ['an unquoted number with 13 digits', '1111222233334'],
      ['a number in exponent notation', '1e11'],
      ['a hexadecimal number', '0x1234567890'],
      ['a negative number', '-111122223333'],
      ['a float', '1111222.23333'],
      ['a quoted string with fewer digits', '"12345"'],
      ['a string with letters', 'abcdefghijkl'],
      ['a string with dashes', '"1111-2222-3333"'],
      ['null', '~'],
      ['a boolean', 'true'],
      ['a list', '[111122223333]'],
    ])('%s', (_name, id) => {
      expectSeedError(account(id), 'accounts.1.id', 'must be a 12-digit account id');
    });

    test('a missing id points at the account', () => {
      expectSeedError('accounts:\n  - root: { accessKeyId: R, secretAccessKey: s } # <-\n', 'accounts.0.id', 'must be a 12-digit account id');
    });

    test('a bad id in JSON', () => {
      const text = '{\n  "accounts": [\n    {\n      "id": 12345\n    }\n  ]\n}\n';
      expect(errorOf(() => parseSeed(text, 'seed.json')).message).toMatch(/^seed\.json:4: accounts\.0\.id: must be a 12-digit account id/);
    });
  });

  describe('root, users and roles', () => {
    const head = 'accounts:\n  - id: "111122223333"\n';

    test('an unknown field in an account', () => {
      expectSeedError(`${head}    region: us-east-1 # <-\n`, 'accounts.0.region', 'unknown field (expected one of id, root, users, roles)');
    });

    test('an unknown field whose value is a block points at the field, not its value', () => {
      expectSeedError(`${head}    groups: # <-\n      - name: admins\n`, 'accounts.0.groups', 'unknown field');
    });

    test('an unknown field with no value', () => {
      expectSeedError(`${head}    groups: # <-\n    users: []\n`, 'accounts.0.groups', 'unknown field');
    });

    test('root is not a mapping', () => {
      expectSeedError(`${head}    root: ROOT1 # <-\n`, 'accounts.0.root', 'must be a mapping with accessKeyId and secretAccessKey');
    });

    test('root without an access key', () => {
      // A missing field is reported at the mapping that lacks it.
      expectSeedError(`${head}    root:\n      secretAccessKey: s # <-\n`, 'accounts.0.root.accessKeyId', 'must be an access key id');
    });

    test('root with an unknown field', () => {
      expectSeedError(`${head}    root:\n      accessKeyId: R\n      secretAccessKey: s\n      policies: [] # <-\n`, 'accounts.0.root.policies', 'unknown field');
    });

    test('a misspelt field in root is named before the missing one', () => {
      expectSeedError(`${head}    root:\n      accessKeyId: R\n      secretAccesKey: s # <-\n`, 'accounts.0.root.secretAccesKey', 'unknown field (expected one of accessKeyId, secretAccessKey)');
    });

    test('users is not a list', () => {
      expectSeedError(`${head}    users:\n      name: alice # <-\n`, 'accounts.0.users', 'must be a list of users');
    });

    test('roles is not a list', () => {
      expectSeedError(`${head}    roles: app # <-\n`, 'accounts.0.roles', 'must be a list of roles');
    });

    test('a user that is not a mapping', () => {
      expectSeedError(`${head}    users:\n      - alice # <-\n`, 'accounts.0.users.0', 'must be a mapping');
    });

    const user = (lines: string) => `${head}    users:
      - name: first
        accessKeyId: AKIAFIRST
        secretAccessKey: s
${lines}`;

    test('a missing name points at the user', () => {
      expectSeedError(user('      - accessKeyId: AKIAB # <-\n        secretAccessKey: s\n'), 'accounts.0.users.1.name', 'must be an IAM name');
    });

    test.each([
      ['a space', '"al ice"'],
      ['a slash', 'team/alice'],
      ['a colon', '"a:b"'],
      ['an empty string', '""'],
      ['65 characters', 'a'.repeat(65)],
      ['a number', '1234'],
      ['null', '~'],
    ])('a name with %s', (_name, name) => {
      expectSeedError(
        user(`      - name: ${name} # <-\n        accessKeyId: AKIAB\n        secretAccessKey: s\n`),
        'accounts.0.users.1.name',
        'must be an IAM name (letters, digits and +=,.@_-, up to 64)',
      );
    });

    test('a name of 64 characters of every allowed kind is fine', () => {
      const name = `Ab9_+=,.@-${'x'.repeat(54)}`;
      const [, c] = parseSeed(user(`      - name: "${name}"\n        accessKeyId: AKIAB\n        secretAccessKey: s\n`)).credentials;
      expect(c!.principalArn).toBe(`arn:aws:iam::111122223333:user/${name}`);
    });

    test.each([
      ['no leading slash', 'team/'],
      ['no trailing slash', '/team'],
      ['an empty path', '""'],
      ['an empty segment only', '//'],
      ['a space', '"/my team/"'],
      ['a number', '1'],
      ['more than 512 characters', `/${'p'.repeat(511)}/`],
    ])('a path with %s', (_name, path) => {
      expectSeedError(
        user(`      - name: bob\n        path: ${path} # <-\n        accessKeyId: AKIAB\n        secretAccessKey: s\n`),
        'accounts.0.users.1.path',
        'must start and end with /',
      );
    });

    test('nested paths are fine', () => {
      const [, c] = parseSeed(user('      - name: bob\n        path: /a/b-c/d/\n        accessKeyId: AKIAB\n        secretAccessKey: s\n')).credentials;
      expect(c!.principalArn).toBe('arn:aws:iam::111122223333:user/a/b-c/d/bob');
    });

    test('an unknown field in a user (sessionToken belongs to roles)', () => {
      expectSeedError(
        user('      - name: bob\n        accessKeyId: AKIAB\n        secretAccessKey: s\n        sessionToken: t # <-\n'),
        'accounts.0.users.1.sessionToken',
        'unknown field (expected one of name, path, accessKeyId, secretAccessKey, policies)',
      );
    });

    test('a misspelt field in a user', () => {
      expectSeedError(user('      - name: bob\n        accesKeyId: AKIAB # <-\n        secretAccessKey: s\n'), 'accounts.0.users.1.accesKeyId', 'unknown field');
    });

    test('a missing secret points at the user', () => {
      expectSeedError(user('      - name: bob # <-\n        accessKeyId: AKIAB\n'), 'accounts.0.users.1.secretAccessKey', 'must be a non-empty string');
    });

    test('an empty secret', () => {
      expectSeedError(user('      - name: bob\n        accessKeyId: AKIAB\n        secretAccessKey: "" # <-\n'), 'accounts.0.users.1.secretAccessKey', 'must be a non-empty string');
    });

    test('an access key id with a space', () => {
      expectSeedError(user('      - name: bob\n        accessKeyId: "AKIA B" # <-\n        secretAccessKey: s\n'), 'accounts.0.users.1.accessKeyId', 'must be an access key id');
    });

    test('the same user twice in an account', () => {
      expectSeedError(
        user('      - name: first # <-\n        accessKeyId: AKIAB\n        secretAccessKey: s\n'),
        'accounts.0.users.1.name',
        'arn:aws:iam::111122223333:user/first is declared twice',
      );
    });

    test('the same user name under another path (IAM user names are unique in an account, whatever the path)', () => {
      expectSeedError(
        user('      - name: first # <-\n        path: /team/\n        accessKeyId: AKIAB\n        secretAccessKey: s\n'),
        'accounts.0.users.1.name',
        'is declared twice',
      );
    });

    test('the same user name in another case (IAM names are case-insensitive)', () => {
      expectSeedError(user('      - name: FIRST # <-\n        accessKeyId: AKIAB\n        secretAccessKey: s\n'), 'accounts.0.users.1.name', 'is declared twice');
    });

    test('the same role twice', () => {
      expectSeedError(
        `${head}    roles:
      - { name: app, sessionName: one, accessKeyId: K1, secretAccessKey: s }
      - { name: app, sessionName: two, accessKeyId: K2, secretAccessKey: s } # <-
`,
        'accounts.0.roles.1.name',
        'is declared twice',
      );
    });

    test('the same access key twice in one account', () => {
      expectSeedError(
        `${head}    root: { accessKeyId: AKIASAME, secretAccessKey: s }
    users:
      - name: bob
        accessKeyId: AKIASAME # <-
        secretAccessKey: t
`,
        'accounts.0.users.0.accessKeyId',
        'access key AKIASAME is declared twice',
      );
    });

    test('the same access key in two accounts', () => {
      expectSeedError(
        `accounts:
  - id: "111122223333"
    users:
      - { name: alice, accessKeyId: AKIASAME, secretAccessKey: s }
  - id: "444455556666"
    roles:
      - name: app
        secretAccessKey: t
        accessKeyId: AKIASAME # <-
`,
        'accounts.1.roles.0.accessKeyId',
        'access key AKIASAME is declared twice',
      );
    });

    test('the same root access key in two accounts', () => {
      expectSeedError(
        `accounts:
  - id: "111122223333"
    root: { accessKeyId: ROOT, secretAccessKey: s }
  - id: "444455556666"
    root: { accessKeyId: ROOT, secretAccessKey: s } # <-
`,
        'accounts.1.root.accessKeyId',
        'access key ROOT is declared twice',
      );
    });

    const role = (lines: string) => `${head}    roles:
      - name: app
        accessKeyId: AKIAAPP
        secretAccessKey: s
${lines}`;

    test.each([
      ['one character', 'w'],
      ['a space', '"my session"'],
      ['a slash', 'a/b'],
      ['65 characters', 'w'.repeat(65)],
      ['a number', '42'],
    ])('a session name with %s', (_name, session) => {
      expectSeedError(
        role(`        sessionName: ${session} # <-\n`),
        'accounts.0.roles.0.sessionName',
        'must be a role session name (2 to 64 of letters, digits and +=,.@_-)',
      );
    });

    test('a one-character role name cannot be its own session name', () => {
      expectSeedError(`${head}    roles:\n      - name: a # <-\n        accessKeyId: K\n        secretAccessKey: s\n`, 'accounts.0.roles.0.sessionName', 'must be a role session name');
    });

    test('a session token that is not a string', () => {
      expectSeedError(role('        sessionToken: [t] # <-\n'), 'accounts.0.roles.0.sessionToken', 'must be a string');
    });

    test('an unknown field in a role', () => {
      expectSeedError(
        role('        trustPolicy: {} # <-\n'),
        'accounts.0.roles.0.trustPolicy',
        'unknown field (expected one of name, path, sessionName, accessKeyId, secretAccessKey, sessionToken, policies)',
      );
    });

    test('a role path is validated too', () => {
      expectSeedError(role('        path: ops # <-\n'), 'accounts.0.roles.0.path', 'must start and end with /');
    });
  });

  describe('policies', () => {
    const withPolicies = (lines: string) => `accounts:
  - id: "111122223333"
    users:
      - name: alice
        accessKeyId: AKIAALICE
        secretAccessKey: s
        policies:
          - { Version: "2012-10-17", Statement: { Effect: Allow, Action: "kms:*", Resource: "*" } }
${lines}`;

    test('policies that are not a list', () => {
      expectSeedError(
        `accounts:\n  - id: "111122223333"\n    users:\n      - name: alice\n        accessKeyId: K\n        secretAccessKey: s\n        policies:\n          Version: "2012-10-17" # <-\n`,
        'accounts.0.users.0.policies',
        'must be a list of policy documents',
      );
    });

    test('a Principal in an identity-based policy (a mapping)', () => {
      expectSeedError(
        withPolicies(`          - Version: "2012-10-17" # <-
            Statement:
              - Effect: Allow
                Principal: { AWS: "111122223333" }
                Action: "kms:*"
                Resource: "*"
`),
        'accounts.0.users.0.policies.1',
        /^invalid policy: .*Principal/,
      );
    });

    test('a Principal in an identity-based policy (a JSON string)', () => {
      expectSeedError(
        withPolicies(`          - '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}' # <-\n`),
        'accounts.0.users.0.policies.1',
        /^invalid policy: .*Principal/,
      );
    });

    test('a bad Effect', () => {
      expectSeedError(
        withPolicies('          - { Version: "2012-10-17", Statement: { Effect: Permit, Action: "kms:*", Resource: "*" } } # <-\n'),
        'accounts.0.users.0.policies.1',
        /^invalid policy: .*Permit|^invalid policy: .*Effect/,
      );
    });

    test('a policy string that is not JSON', () => {
      expectSeedError(withPolicies('          - "allow everything" # <-\n'), 'accounts.0.users.0.policies.1', /^invalid policy: /);
    });

    test('a policy that is a number', () => {
      expectSeedError(withPolicies('          - 42 # <-\n'), 'accounts.0.users.0.policies.1', /^invalid policy: /);
    });

    test('a role policy with no Statement', () => {
      expectSeedError(
        `accounts:
  - id: "111122223333"
    roles:
      - name: app
        accessKeyId: K
        secretAccessKey: s
        policies:
          - Version: "2012-10-17" # <-
`,
        'accounts.0.roles.0.policies.0',
        /^invalid policy: /,
      );
    });
  });

  describe('syntax errors', () => {
    test('YAML: an unclosed flow mapping', () => {
      const text = `accounts:
  - id: "111122223333"
    root: { accessKeyId: R, secretAccessKey: s
    users: [] # <-
`;
      const err = errorOf(() => parseSeed(text, 'seed.yaml'));
      expect(err.message).toMatch(/^seed\.yaml:\d+: /);
      // The parser reports where it noticed; that is on or after the opening brace.
      const line = Number(/^seed\.yaml:(\d+):/.exec(err.message)![1]);
      expect(line).toBeGreaterThanOrEqual(3);
      expect(line).toBeLessThanOrEqual(markedLine(text) + 1);
    });

    test('YAML: bad indentation', () => {
      const text = `accounts:
  - id: "111122223333"
    users:
      - name: alice
       accessKeyId: AKIAALICE # <-
`;
      const err = errorOf(() => parseSeed(text, 'seed.yaml'));
      expect(err.message).toMatch(new RegExp(`^seed\\.yaml:${markedLine(text)}: \\S`));
      expect(err.message).not.toContain('\n');
    });

    test('YAML: a tab in indentation', () => {
      const text = 'accounts:\n  - id: "111122223333"\n\tusers: [] # <-\n';
      expect(errorOf(() => parseSeed(text, 'seed.yaml')).message).toMatch(new RegExp(`^seed\\.yaml:${markedLine(text)}: `));
    });

    test('YAML: a duplicate key', () => {
      const text = 'accounts:\n  - id: "111122223333"\n    id: "444455556666" # <-\n';
      expect(errorOf(() => parseSeed(text, 'seed.yaml')).message).toMatch(new RegExp(`^seed\\.yaml:${markedLine(text)}: .*unique`));
    });

    test('JSON: a missing comma', () => {
      const text = '{\n  "accounts": [\n    { "id": "111122223333" }\n    { "id": "444455556666" }\n  ]\n}\n';
      expect(errorOf(() => parseSeed(text, 'seed.json')).message).toMatch(/^seed\.json:4: /);
    });
  });

  test('loadSeed reports errors with the path of the file', () => {
    const file = writeSeed('bad-name.yaml', 'accounts:\n  - id: "111122223333"\n    users:\n      - name: "no spaces"\n        accessKeyId: K\n        secretAccessKey: s\n');
    expect(errorOf(() => loadSeed(file)).message).toBe(
      `${file}:4: accounts.0.users.0.name: must be an IAM name (letters, digits and +=,.@_-, up to 64)`,
    );
  });

  test('loadSeed on a missing file gives a SeedError naming the file', () => {
    const file = join(dir, 'no-such-seed.yaml');
    const err = errorOf(() => loadSeed(file));
    expect(err).toBeInstanceOf(SeedError);
    expect(err.message).toBe(`cannot read seed file ${file}: no such file or directory (sealbox seed --example prints a seed to start from)`);
  });

  test('loadSeed on a directory gives a SeedError naming it', () => {
    const err = errorOf(() => loadSeed(dir));
    expect(err.message).toContain(dir);
  });
});

describe('startSealbox with a seed', () => {
  const ACCOUNT = '111122223333';
  let sealbox: Sealbox;
  let clients: KMSClient[] = [];

  const kms = (accessKeyId: string, secretAccessKey: string, sessionToken?: string) => {
    const client = new KMSClient({
      endpoint: sealbox.kms!.url,
      region: 'us-east-1',
      credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
      maxAttempts: 1,
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    const file = writeSeed(
      'sandbox.yaml',
      `accounts:
  - id: "${ACCOUNT}"
    root: { accessKeyId: AKIASEEDROOT, secretAccessKey: rootsecret }
    users:
      - name: admin
        accessKeyId: AKIASEEDADMIN
        secretAccessKey: adminsecret
        policies:
          - Version: "2012-10-17"
            Statement: [{ Effect: Allow, Action: "kms:*", Resource: "*" }]
      - name: nobody
        path: /guests/
        accessKeyId: AKIASEEDNOBODY
        secretAccessKey: nobodysecret
    roles:
      - name: app
        sessionName: worker
        accessKeyId: ASIASEEDAPP
        secretAccessKey: appsecret
        sessionToken: apptoken
        policies:
          - '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateKey","Resource":"*"}]}'
`,
    );
    sealbox = await startSealbox({ kmsPort: 0, s3Port: 0, seed: file });
  });

  afterAll(async () => {
    for (const c of clients) c.destroy();
    clients = [];
    await sealbox?.stop();
  });

  test('a seeded user whose policy allows kms:* creates a key in its account', async () => {
    const out = await kms('AKIASEEDADMIN', 'adminsecret').send(new CreateKeyCommand({ Description: 'seeded' }));
    expect(out.KeyMetadata?.AWSAccountId).toBe(ACCOUNT);
    expect(out.KeyMetadata?.Arn).toMatch(new RegExp(`^arn:aws:kms:us-east-1:${ACCOUNT}:key/`));
  });

  test("a seeded account's root creates a key", async () => {
    const out = await kms('AKIASEEDROOT', 'rootsecret').send(new CreateKeyCommand({}));
    expect(out.KeyMetadata?.AWSAccountId).toBe(ACCOUNT);
  });

  test('a seeded role session with its session token creates a key', async () => {
    const out = await kms('ASIASEEDAPP', 'appsecret', 'apptoken').send(new CreateKeyCommand({}));
    expect(out.KeyMetadata?.AWSAccountId).toBe(ACCOUNT);
  });

  test('a seeded user with no policies is denied, by name', async () => {
    const err = await kms('AKIASEEDNOBODY', 'nobodysecret')
      .send(new CreateKeyCommand({}))
      .then(
        () => undefined,
        (e: unknown) => e as Error & { $metadata?: { httpStatusCode?: number } },
      );
    expect(err?.name).toBe('AccessDeniedException');
    expect(err?.message).toBe(
      `User: arn:aws:iam::${ACCOUNT}:user/guests/nobody is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action`,
    );
    expect(err?.$metadata?.httpStatusCode).toBe(400);
  });

  test('a seeded secret is checked (a wrong secret is refused)', async () => {
    const err = await kms('AKIASEEDADMIN', 'not-the-secret')
      .send(new CreateKeyCommand({}))
      .then(
        () => undefined,
        (e: unknown) => e as Error & { $metadata?: { httpStatusCode?: number } },
      );
    // The signature check refuses it, as KMS does, before any policy is looked at.
    expect(err?.name).toBe('InvalidSignatureException');
    expect(err?.message).toBe(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
    expect(err?.$metadata?.httpStatusCode).toBe(400);
  });

  test('the default test credentials still work beside the seed', async () => {
    const out = await kms('test', 'test').send(new CreateKeyCommand({}));
    expect(out.KeyMetadata?.AWSAccountId).toBe('000000000000');
  });
});

describe('startSealbox with an invalid seed', () => {
  let blocker: Server;
  let port: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  });

  test('rejects with the SeedError before listening', async () => {
    const file = writeSeed('invalid.yaml', 'accounts:\n  - id: 12345\n');
    // The KMS port is taken: had startSealbox tried to listen first, it would fail with EADDRINUSE.
    const err = await startSealbox({ kmsPort: port, s3Port: port, seed: file }).then(
      async (s) => {
        await s.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SeedError);
    expect((err as SeedError).message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: accounts\\.0\\.id: must be a 12-digit account id`));
  });

  test('rejects when the seed file is missing', async () => {
    const file = join(dir, 'missing.yaml');
    await expect(startSealbox({ kmsPort: port, s3Port: port, seed: file })).rejects.toThrow(SeedError);
    await expect(startSealbox({ kmsPort: port, s3Port: port, seed: file })).rejects.toThrow(file);
  });
});

const KEY = '0e1f3c4d-8a7b-4c2d-9e10-3f2a1b0c9d8e';
const HEX = '15781d237857841ad182290c689b593e3516a80a85b61fcc1d39ae2b95fa1787';

describe('parseSeed: keys and buckets', () => {
  test('the example that sealbox seed --example prints parses, with every section', () => {
    const seed = parseSeed(SEED_EXAMPLE, 'example.yaml');
    expect(seed.credentials.length).toBe(3);
    expect(seed.keys.map((k) => k.spec)).toEqual(['SYMMETRIC_DEFAULT', 'ECC_NIST_P256', 'SYMMETRIC_DEFAULT', 'SYMMETRIC_DEFAULT']);
    const [first] = seed.keys;
    expect(first!.material!.map((m) => m.length)).toEqual([32, 32]);
    expect(first!.material![0]!.toString('hex')).toBe(HEX);
    expect(first!.aliases!.map((a) => a.name)).toEqual(['alias/app-data', 'alias/app-data-current']);
    expect(first!.grants![0]!.constraints).toEqual({ EncryptionContextSubset: { app: 'payments' } });
    expect(JSON.parse(first!.policy!).Statement[0].Sid).toBe('Enable IAM policies');
    expect(seed.keys[2]!.replicaRegions).toEqual(['eu-west-1']);
    expect(seed.buckets[0]!.objects!.map((o) => o.key)).toEqual(['config/settings.json', 'secrets/token.txt']);
    expect(seed.buckets[0]!.encryption).toEqual({ algorithm: 'aws:kms', kmsKeyId: 'alias/app-data', bucketKey: true });
    expect(seed.buckets[0]!.cors![0]!.maxAgeSeconds).toBe(3000);
  });

  test('defaults: account 000000000000, us-east-1, SYMMETRIC_DEFAULT, no material (generated)', () => {
    const seed = parseSeed(`keys:\n  - id: ${KEY}\n`);
    expect(seed.keys[0]).toMatchObject({ id: KEY, account: '000000000000', region: 'us-east-1', spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT', origin: 'AWS_KMS' });
    expect(seed.keys[0]!.material).toBeUndefined();
  });

  test('material as hex, base64, and with explicit prefixes', () => {
    const b64 = Buffer.from(HEX, 'hex').toString('base64');
    const seed = parseSeed(`keys:\n  - id: ${KEY}\n    material: [${HEX}, "${b64}", "hex:${HEX}", "base64:${b64}"]\n`);
    for (const m of seed.keys[0]!.material!) expect(m.toString('hex')).toBe(HEX);
  });

  test('unquoted hex of digits only (a YAML number) is read as written', () => {
    const digits = '1234567890'.repeat(6) + '1234';
    const seed = parseSeed(`keys:\n  - id: ${KEY}\n    material:\n      - ${digits}\n`);
    expect(seed.keys[0]!.material![0]!.toString('hex')).toBe(digits);
  });

  test('an object file is read relative to the seed file', () => {
    writeFileSync(join(dir, 'payload.bin'), Buffer.from([1, 2, 3]));
    const file = writeSeed('with-file.yaml', 'buckets:\n  - name: files\n    objects:\n      - key: a.bin\n        file: payload.bin\n');
    expect([...loadSeed(file).buckets[0]!.objects![0]!.body]).toEqual([1, 2, 3]);
  });

  test.each([
    ['a key id that is not a UUID', `keys:\n  - id: not-a-uuid # <-\n`, 'keys.0.id', 'must be a key id'],
    ['an unknown key field', `keys:\n  - id: ${KEY}\n    colour: blue # <-\n`, 'keys.0.colour', 'unknown field'],
    ['an unknown spec', `keys:\n  - id: ${KEY}\n    spec: AES_128 # <-\n`, 'keys.0.spec', 'must be a key spec'],
    ['a usage the spec lacks', `keys:\n  - id: ${KEY}\n    spec: HMAC_256\n    usage: ENCRYPT_DECRYPT # <-\n`, 'keys.0.usage', 'must be one of GENERATE_VERIFY_MAC'],
    ['RSA without a usage', `keys:\n  - id: ${KEY} # <-\n    spec: RSA_2048\n`, 'keys.0.usage', 'needs a usage'],
    ['material of the wrong length', `keys:\n  - id: ${KEY}\n    material:\n      - ${HEX}\n      - abcd # <-\n`, 'keys.0.material.1', 'must be 256 bits'],
    ['material that is not hex or base64', `keys:\n  - id: ${KEY}\n    material: ["zz!"] # <-\n`, 'keys.0.material.0', 'hex or base64'],
    ['asymmetric material that is not PEM', `keys:\n  - id: ${KEY}\n    spec: ECC_NIST_P256\n    usage: SIGN_VERIFY\n    material: [${HEX}] # <-\n`, 'keys.0.material.0', 'PEM private key'],
    ['a rotation period out of range', `keys:\n  - id: ${KEY}\n    rotation:\n      periodDays: 30 # <-\n`, 'keys.0.rotation.periodDays', 'from 90 to 2560'],
    ['an alias without alias/', `keys:\n  - id: ${KEY}\n    aliases:\n      - app # <-\n`, 'keys.0.aliases.0', 'must be an alias name'],
    ['a reserved alias', `keys:\n  - id: ${KEY}\n    aliases: [alias/aws/s3] # <-\n`, 'keys.0.aliases.0', 'reserved'],
    ['a grant without operations', `keys:\n  - id: ${KEY}\n    grants:\n      - grantee: arn:aws:iam::000000000000:role/x # <-\n`, 'keys.0.grants.0.operations', 'must list the operations'],
    ['a duplicate key', `keys:\n  - id: ${KEY}\n  - id: ${KEY} # <-\n`, 'keys.1.id', 'declared twice'],
    ['replicas of a single-Region key', `keys:\n  - id: ${KEY}\n    replicaRegions: [eu-west-1] # <-\n`, 'keys.0.replicaRegions', 'only a multi-Region key'],
    ['a key policy that is not a policy', `keys:\n  - id: ${KEY}\n    policy:\n      Statement: nope # <-\n`, 'keys.0.policy', 'invalid policy'],
    ['a bad bucket name', `buckets:\n  - name: Bad_Name # <-\n`, 'buckets.0.name', 'must be a bucket name'],
    ['a bad default encryption', `buckets:\n  - name: bk1\n    encryption:\n      algorithm: des # <-\n`, 'buckets.0.encryption.algorithm', 'must be one of AES256'],
    ['an object with text and file', `buckets:\n  - name: bk1\n    objects:\n      - key: k # <-\n        text: a\n        file: b\n`, 'buckets.0.objects.0', 'either text or file'],
    ['an object file that is missing', `buckets:\n  - name: bk1\n    objects:\n      - key: k\n        file: no-such-file.txt # <-\n`, 'buckets.0.objects.0.file', 'cannot read no-such-file.txt: no such file or directory'],
    ['a CORS rule without origins', `buckets:\n  - name: bk1\n    cors:\n      - allowedMethods: [GET] # <-\n`, 'buckets.0.cors.0.allowedOrigins', 'at least one origin'],
    ['bucket tags that are not strings', `buckets:\n  - name: bk1\n    tags:\n      n: 1 # <-\n`, 'buckets.0.tags.n', 'must be a string'],
  ])('%s', (_name, text, path, problem) => {
    expectSeedError(text, path, problem);
  });

  test('what the KMS refuses fails startSealbox before anything listens, naming the line', async () => {
    const file = writeSeed(
      'refused.yaml',
      `keys:
  - id: ${KEY}
    grants:
      - grantee: arn:aws:iam::000000000000:role/x
        operations: [Sign]
`,
    );
    await expect(startSealbox({ seed: file })).rejects.toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: keys\\.0\\.grants\\.0: Grant operations Sign are not supported`));
  });
});
