import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KMS_OPERATIONS, quotaProblem, type KmsQuotaConfig } from '@sealbox/kms';
import { hostName } from '@sealbox/runtime';
import { parseUserSpec, type Credentials } from '@sealbox/sigv4';

export interface StartOptions {
  host: string;
  kmsPort: number;
  s3Port: number;
  /**
   * The web console's port; undefined with --no-console, and when --only or --kms-endpoint
   * leaves one of the services out of this process (the console shows both).
   */
  consolePort?: number;
  /** undefined with --in-memory */
  dataDir?: string;
  region: string;
  only?: 'kms' | 's3';
  kmsEndpoint?: string;
  json: boolean;
  quiet: boolean;
  users: Credentials[];
  onDemandRotationLimit?: number;
  allowHttpSseKms: boolean;
  tls: boolean;
  /** --seed FILE */
  seed?: string;
  enforceKmsPolicies: boolean;
  /** --allow-host NAME: more Host names the admin endpoints and the console accept. */
  allowHosts: string[];
  /** --snapshot FILE: a sealbox export archive to start from, in memory. */
  snapshot?: string;
  /** The passphrase of a sealed --snapshot archive (from --passphrase-env NAME). */
  snapshotPassphrase?: string;
  /** --allow-remote-admin: reset and snapshots from any address, not only loopback. */
  allowRemoteAdmin: boolean;
  /** --kms-quotas: KMS request quotas (off by default). */
  kmsQuotas?: KmsQuotaConfig;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  kmsPort: 4599,
  s3Port: 4572,
  consolePort: 4580,
  dataDir: '.sealbox',
  region: 'us-east-1',
} as const;

export class UsageError extends Error {}

/** The options of `sealbox start`, as both `sealbox --help` and `sealbox start --help` list them. */
const START_OPTIONS_HELP = `  --host HOST              address to listen on (default ${DEFAULTS.host}; 0.0.0.0 listens on every
                           interface and prints 127.0.0.1, an address clients can reach)
  --allow-host NAME        also accept NAME as the Host of admin requests (POST /_sealbox/...)
                           and of the console, e.g. the name other containers reach Sealbox by
                           (repeatable); Sealbox's own addresses are always accepted
  --kms-port PORT          KMS port (default ${DEFAULTS.kmsPort}; 0 picks a free port)
  --s3-port PORT           S3 port (default ${DEFAULTS.s3Port}; 0 picks a free port)
  --console-port PORT      the read-only web console's port (default ${DEFAULTS.consolePort}; 0 picks a
                           free port); served when both services run in this process
                           (not with --only or --kms-endpoint)
  --no-console             do not serve the web console
  --data-dir DIR           where state is kept (default ${DEFAULTS.dataDir} in the working directory)
  --in-memory              keep nothing on disk; state ends with the process
  --snapshot FILE          start in memory from an archive written by sealbox export (a fixture
                           built once); POST /_sealbox/reset returns to it
  --passphrase-env NAME    with --snapshot: the environment variable holding the archive's passphrase
  --region REGION          region of the S3 endpoint and the default printed for clients
                           (default ${DEFAULTS.region}; KMS serves every region, by credential scope)
  --only kms|s3            start one service only
  --kms-endpoint URL       the KMS that S3 uses (default: this Sealbox's KMS)
  --user KEY:SECRET:ACCOUNT_ID
                           add the root credentials of another account (repeatable);
                           the default credentials test/test (account 000000000000) always work
  --seed FILE              accounts, IAM users and roles, KMS keys and S3 buckets to create,
                           from a YAML or JSON file (sealbox seed --example shows every field);
                           checked before anything starts, applied once the services listen
  --no-enforce-kms-policies
                           do not evaluate key policies, IAM policies or grants: every
                           authenticated caller may use every key of its account
  --on-demand-rotation-limit N
                           RotateKeyOnDemand calls allowed per key (default 10, as AWS)
  --kms-quotas SPEC        throttle KMS calls over request quotas, per account and Region, as
                           AWS KMS does (ThrottlingException): 'aws' for AWS's default quotas,
                           NAME=RATE pairs (symmetric=100,rsa=10,DescribeKey=5), or both
                           (aws,symmetric=100); off by default
  --no-tls                 serve plain HTTP only. By default every port serves HTTPS and HTTP
                           alike (the first byte of a connection tells them apart), with a
                           certificate from a local CA kept in the data directory (with
                           --in-memory in ~/.sealbox/tls), printed as AWS_CA_BUNDLE
  --tls                    the default; still accepted, for scripts written when TLS was opt-in
  --allow-http-sse-kms     accept SSE-KMS and SSE-C requests over plain HTTP (AWS refuses them without TLS)
  --allow-remote-admin     accept POST /_sealbox/reset, /moto-api/reset, the snapshot endpoints and
                           the fault rules from any address, not only loopback (a test container
                           reaching Sealbox)
  --json                   print one JSON line with the endpoints once ready; logs go to stderr
  --quiet                  no access log, and no line on stderr per denied request
  -h, --help               show this help
`;

export const START_HELP = `Usage: sealbox start [options]

Starts the KMS and S3 services (both, unless --only says otherwise).

Options:
${START_OPTIONS_HELP}`;

export const MAIN_HELP = `Usage: sealbox <command> [options]

A local, offline AWS KMS and Amazon S3 with real server-side encryption.

Commands:
  start       start the services (sealbox start --help for its options)
  seed        apply a seed file to a running Sealbox (sealbox seed --help)
  export      write a data directory's whole state to one archive file (sealbox export --help)
  import      recreate a data directory from such an archive (sealbox import --help)
  explain     why a request was allowed or denied, by its request id (sealbox explain --help)
  help        show this help; help COMMAND shows a command's help

Options:
  -h, --help      show help
  -v, --version   print the version

Options of sealbox start:
${START_OPTIONS_HELP}`;

export const SEED_HELP = `Usage: sealbox seed FILE [options]
       sealbox seed --example

Applies a seed file's KMS keys (with their aliases and grants) and S3 buckets (with their
configuration and objects) to a running Sealbox. Whatever exists already is skipped, never
overwritten. Its accounts section is not applied here: give it to sealbox start --seed.

Options:
  --example             print a commented example seed using every field
  --endpoint-kms URL    the KMS (default $AWS_ENDPOINT_URL_KMS, else http://127.0.0.1:${DEFAULTS.kmsPort});
                        keys go to its POST /_sealbox/seed, accepted only from loopback
  --endpoint-s3 URL     the S3 (default $AWS_ENDPOINT_URL_S3, else http://127.0.0.1:${DEFAULTS.s3Port});
                        buckets are created as their account's root (test/test for
                        000000000000, else the seed's accounts[].root)
  --region REGION       the S3 endpoint's region (default $AWS_REGION, else ${DEFAULTS.region})
  --ca-bundle FILE      CA certificate to trust over HTTPS (default $AWS_CA_BUNDLE)
  --json                print {"created": [...], "skipped": [...]}
`;

export const EXPORT_HELP = `Usage: sealbox export FILE [options]

Writes the whole state of a data directory (KMS keys with their wrapped material, aliases, grants,
the event log, S3 buckets, object versions and uploads, the root keys, the local CA) to FILE, a
gzip'd tar. A Sealbox may be running on the directory: each database is copied as one consistent
snapshot. Without a passphrase, whoever holds FILE holds every key in it.

Options:
  --data-dir DIR          the data directory (default ${DEFAULTS.dataDir})
  --passphrase-env NAME   seal the root keys and private keys in FILE with the passphrase in
                          environment variable NAME (scrypt, AES-256-GCM)
  --force                 replace FILE when it exists
  --json                  print the archive's manifest as one JSON line; no progress
  --quiet                 no progress and no notes
  -h, --help              show this help
`;

export const IMPORT_HELP = `Usage: sealbox import FILE [options]

Recreates a data directory from an archive written by sealbox export, then start Sealbox on it
with sealbox start --data-dir DIR. The archive is checked completely before anything is put in
place: a failed import leaves the directory as it was.

Options:
  --data-dir DIR          the data directory to create (default ${DEFAULTS.dataDir}); it must not
                          exist or be empty
  --force                 replace the state of a data directory that has some (it is deleted)
  --passphrase-env NAME   the environment variable holding the passphrase FILE was sealed with
  --json                  print the archive's manifest as one JSON line; no progress
  --quiet                 no progress and no notes
  -h, --help              show this help
`;

export interface SnapshotOptions {
  file: string;
  dataDir: string;
  passphrase?: string;
  force: boolean;
  json: boolean;
  quiet: boolean;
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known name closest to a mistyped one, when it is close enough to be what was meant: a few
 * letters off (a third of the name at most), or the start of exactly one known name.
 */
export function closest(typed: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const d = distance(typed, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  if (best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3))) return best;
  const prefixed = known.filter((name) => typed.length >= 3 && name.startsWith(typed));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** node:util's parseArgs, its complaints turned into usage errors (exit status 2). */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const unknown = e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /^Unknown option '([^']+)'/.exec(e.message)?.[1] : undefined;
    if (unknown !== undefined) {
      // Node's own message goes on about positionals after '--'; a typo is far more likely.
      const known = Object.keys(config.options ?? {}).map((name) => `--${name}`);
      const name = unknown.split('=')[0]!;
      // A part of several names (`--port`, as moto and most servers call it) names them all.
      const bare = name.replace(/^-+/, '');
      const ending = bare.length >= 3 ? known.filter((k) => k.endsWith(`-${bare}`)) : [];
      const guesses = ending.length > 1 ? ending : [closest(name, known)].filter((g) => g !== undefined);
      const list = guesses.length > 1 ? `${guesses.slice(0, -1).join(', ')} or ${guesses[guesses.length - 1]}` : guesses[0];
      throw new UsageError(`Unknown option '${unknown}'${list ? ` (did you mean ${list}?)` : ''}`);
    }
    throw new UsageError(e.message);
  }
}

/** The options of sealbox export and sealbox import (the same set). */
export function parseSnapshotOptions(command: 'export' | 'import', args: string[], env: NodeJS.ProcessEnv = process.env): SnapshotOptions | 'help' {
  const parsed = parseCommandArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      'passphrase-env': { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const v = parsed.values;
  if (v.help) return 'help';
  if (parsed.positionals.length !== 1) throw new UsageError(`sealbox ${command} takes one archive file, e.g. sealbox ${command} demo.sealbox.tgz`);
  let passphrase: string | undefined;
  const name = v['passphrase-env'];
  if (name !== undefined) {
    passphrase = env[name];
    // The passphrase itself never goes on the command line, where ps and shell history show it.
    if (!passphrase) throw new UsageError(`--passphrase-env names the environment variable that holds the passphrase, and ${name} is not set (or empty)`);
  }
  return {
    file: parsed.positionals[0]!,
    dataDir: v['data-dir'] ?? DEFAULTS.dataDir,
    passphrase,
    force: v.force ?? false,
    json: v.json ?? false,
    quiet: v.quiet ?? false,
  };
}

function port(value: string, name: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new UsageError(`${name} must be a port number from 0 to 65535, got '${value}'`);
  return Number(value);
}

/** What `sealbox start` accepts: START_OPTIONS_HELP lists each of them (a test holds them together). */
export const START_OPTIONS = {
  host: { type: 'string' },
  'allow-host': { type: 'string', multiple: true },
  'kms-port': { type: 'string' },
  's3-port': { type: 'string' },
  'console-port': { type: 'string' },
  'no-console': { type: 'boolean' },
  'data-dir': { type: 'string' },
  'in-memory': { type: 'boolean' },
  snapshot: { type: 'string' },
  'passphrase-env': { type: 'string' },
  'allow-remote-admin': { type: 'boolean' },
  region: { type: 'string' },
  only: { type: 'string' },
  'kms-endpoint': { type: 'string' },
  user: { type: 'string', multiple: true },
  'on-demand-rotation-limit': { type: 'string' },
  'kms-quotas': { type: 'string' },
  'allow-http-sse-kms': { type: 'boolean' },
  seed: { type: 'string' },
  'no-enforce-kms-policies': { type: 'boolean' },
  tls: { type: 'boolean' },
  'no-tls': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export function parseStartOptions(args: string[]): StartOptions | 'help' {
  const parsed = parseCommandArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: START_OPTIONS,
  });
  const v = parsed.values;
  if (v.help) return 'help';
  if (v['in-memory'] && v['data-dir'] !== undefined) throw new UsageError('--data-dir and --in-memory cannot be used together');
  if (v.snapshot !== undefined && v['data-dir'] !== undefined) {
    throw new UsageError('--snapshot starts an in-memory Sealbox from the archive; to run on a data directory, sealbox import the archive into it and pass --data-dir alone');
  }
  if (v['passphrase-env'] !== undefined && v.snapshot === undefined) throw new UsageError('--passphrase-env is for a --snapshot archive sealed with a passphrase');
  let snapshotPassphrase: string | undefined;
  if (v['passphrase-env'] !== undefined) {
    snapshotPassphrase = process.env[v['passphrase-env']];
    // As for sealbox import: the passphrase itself never goes on the command line.
    if (!snapshotPassphrase) throw new UsageError(`--passphrase-env names the environment variable that holds the passphrase, and ${v['passphrase-env']} is not set (or empty)`);
  }
  if (v.only !== undefined && v.only !== 'kms' && v.only !== 's3') throw new UsageError(`--only must be kms or s3, got '${v.only}'`);
  const region = v.region ?? DEFAULTS.region;
  if (!/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(region)) throw new UsageError(`--region must be a region name such as us-east-1, got '${region}'`);
  if (v['kms-endpoint'] !== undefined) {
    let url: URL;
    try {
      url = new URL(v['kms-endpoint']);
    } catch {
      throw new UsageError(`--kms-endpoint must be a URL, got '${v['kms-endpoint']}'`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--kms-endpoint must be an http or https URL');
    if (v.only === 'kms') throw new UsageError('--kms-endpoint is for S3; it cannot be used with --only kms');
  }
  if (v.tls && v['no-tls']) throw new UsageError('--tls and --no-tls cannot be used together');
  if (v['no-console'] && v['console-port'] !== undefined) throw new UsageError('--console-port and --no-console cannot be used together');
  const bothServicesHere = v.only === undefined && v['kms-endpoint'] === undefined;
  if (v['console-port'] !== undefined && !bothServicesHere) throw new UsageError('the console shows both services: --console-port cannot be used with --only or --kms-endpoint');
  const consolePort = v['no-console'] || !bothServicesHere ? undefined : port(v['console-port'] ?? String(DEFAULTS.consolePort), '--console-port');
  const allowHosts = v['allow-host'] ?? [];
  for (const name of allowHosts) {
    // A name or an address, without port or wildcard: the Host rule compares names exactly.
    if (hostName(name) !== name.toLowerCase() && hostName(`[${name}]`) !== name.toLowerCase()) {
      throw new UsageError(`--allow-host takes a host name or IP address without port, got '${name}'`);
    }
  }
  const limit = v['on-demand-rotation-limit'];
  if (limit !== undefined && !/^\d{1,6}$/.test(limit)) throw new UsageError(`--on-demand-rotation-limit must be a whole number, got '${limit}'`);
  let users: Credentials[];
  try {
    users = (v.user ?? []).map(parseUserSpec);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return {
    host: v.host ?? DEFAULTS.host,
    kmsPort: port(v['kms-port'] ?? String(DEFAULTS.kmsPort), '--kms-port'),
    s3Port: port(v['s3-port'] ?? String(DEFAULTS.s3Port), '--s3-port'),
    consolePort,
    dataDir: v['in-memory'] || v.snapshot !== undefined ? undefined : (v['data-dir'] ?? DEFAULTS.dataDir),
    region,
    only: v.only as 'kms' | 's3' | undefined,
    kmsEndpoint: v['kms-endpoint'],
    json: v.json ?? false,
    quiet: v.quiet ?? false,
    users,
    onDemandRotationLimit: limit === undefined ? undefined : Number(limit),
    allowHttpSseKms: v['allow-http-sse-kms'] ?? false,
    tls: !(v['no-tls'] ?? false),
    seed: v.seed,
    enforceKmsPolicies: !(v['no-enforce-kms-policies'] ?? false),
    allowHosts,
    snapshot: v.snapshot,
    snapshotPassphrase,
    allowRemoteAdmin: v['allow-remote-admin'] ?? false,
    ...(v['kms-quotas'] !== undefined ? { kmsQuotas: parseKmsQuotas(v['kms-quotas']) } : {}),
  };
}

/**
 * --kms-quotas: `aws` (AWS's default quotas), NAME=RATE pairs, or both, comma-separated. Names:
 * symmetric, rsa, ecc, ml-dsa (the shared cryptographic quotas), an operation, or
 * GenerateDataKeyPair:<KeyPairSpec>; rates in calls per second.
 */
export function parseKmsQuotas(spec: string): KmsQuotaConfig {
  const config: KmsQuotaConfig = { rates: {} };
  for (const part of spec.split(',').map((p) => p.trim())) {
    if (part === 'aws') {
      config.aws = true;
      continue;
    }
    const m = /^([^=\s]+)=([0-9]+(?:\.[0-9]+)?)$/.exec(part);
    if (!m) throw new UsageError(`--kms-quotas takes aws and/or NAME=RATE pairs separated by commas (e.g. aws,symmetric=100), got '${part}'`);
    const problem = quotaProblem(m[1]!, Number(m[2]), KMS_OPERATIONS);
    if (problem) throw new UsageError(`--kms-quotas: ${problem}`);
    config.rates![m[1]!] = Number(m[2]);
  }
  if (!config.aws && Object.keys(config.rates!).length === 0) throw new UsageError('--kms-quotas needs aws or at least one NAME=RATE');
  return config;
}

export const EXPLAIN_HELP = `Usage: sealbox explain REQUEST_ID [options]

Prints why a request to a running Sealbox was allowed or denied: the principal, the action, the
resource, the deciding statement (or grant, or rule) first, then every policy considered with
each statement's elements and conditions and the values compared. REQUEST_ID is the one AWS
clients print with an error (x-amz-request-id for S3, x-amzn-RequestId for KMS); an S3 request
also shows the KMS requests it made. Sealbox keeps the last 10,000 requests of each service;
a reset clears them. See docs/debugging-access.md.

Options:
  --kms-endpoint URL    the KMS (default $AWS_ENDPOINT_URL_KMS, else http://127.0.0.1:${DEFAULTS.kmsPort})
  --s3-endpoint URL     the S3 (default $AWS_ENDPOINT_URL_S3, else http://127.0.0.1:${DEFAULTS.s3Port})
  --ca-bundle FILE      CA certificate to trust over HTTPS (default $AWS_CA_BUNDLE)
  --json                print the decision records as JSON (GET /_sealbox/decisions/REQUEST_ID)
`;

/** `sealbox help COMMAND` prints what `sealbox COMMAND --help` prints. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  start: START_HELP,
  seed: SEED_HELP,
  export: EXPORT_HELP,
  import: IMPORT_HELP,
  explain: EXPLAIN_HELP,
  help: MAIN_HELP,
};

/** An unknown command, with the command it most likely meant. */
export function unknownCommand(command: string): UsageError {
  const guess = closest(command, Object.keys(COMMAND_HELP));
  return new UsageError(`unknown command '${command}'${guess ? ` (did you mean ${guess}?)` : ''}`);
}
