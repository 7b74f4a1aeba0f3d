#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PortInUseError, createAccessLog } from '@sealbox/runtime';
import { DEFAULT_CREDENTIALS } from '@sealbox/sigv4';
import { readFileSync as readFile } from 'node:fs';
import { parseArgs } from 'node:util';
import { applySeedRemote, seedSummary } from './apply-seed';
import { MAIN_HELP, SEED_HELP, START_HELP, UsageError, parseStartOptions, type StartOptions } from './options';
import { startSealbox, type Sealbox } from './sandbox';
import { loadSeed } from './seed';
import { SEED_EXAMPLE } from './seed-example';

function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

function banner(sealbox: Sealbox, options: StartOptions): string {
  const lines = [`Sealbox ${version()} is ready`];
  if (sealbox.kms) lines.push(`  KMS     ${sealbox.kms.url}   (every region, chosen by the credential scope)`);
  if (sealbox.s3) lines.push(`  S3      ${sealbox.s3.url}   (region ${sealbox.region})`);
  if (sealbox.s3 && options.kmsEndpoint) lines.push(`  S3 uses the KMS at ${options.kmsEndpoint}`);
  if (sealbox.console) lines.push(`  console ${sealbox.console.url}   (read-only, open it in a browser)`);
  lines.push(`  data    ${sealbox.dataDir ?? 'in memory (nothing is kept)'}`);
  lines.push('', 'Point the AWS CLI, the SDKs and boto3 at it:');
  if (sealbox.kms) lines.push(`  export AWS_ENDPOINT_URL_KMS=${sealbox.kms.url}`);
  if (sealbox.s3) lines.push(`  export AWS_ENDPOINT_URL_S3=${sealbox.s3.url}`);
  lines.push(
    `  export AWS_ACCESS_KEY_ID=${DEFAULT_CREDENTIALS.accessKeyId}`,
    `  export AWS_SECRET_ACCESS_KEY=${DEFAULT_CREDENTIALS.secretAccessKey}`,
    `  export AWS_REGION=${sealbox.region}`,
    ...(sealbox.caBundle ? [`  export AWS_CA_BUNDLE=${sealbox.caBundle}`] : []),
    '',
    'Press Ctrl+C to stop.',
    '',
  );
  return lines.join('\n');
}

async function start(args: string[]): Promise<void> {
  const options = parseStartOptions(args);
  if (options === 'help') {
    process.stdout.write(START_HELP);
    return;
  }
  // With --json, stdout carries only the JSON line; the access log goes to stderr.
  const logStream = options.json ? process.stderr : process.stdout;
  const accessLog = options.quiet
    ? undefined
    : createAccessLog({ json: !logStream.isTTY, write: (line) => logStream.write(line) });
  const sealbox = await startSealbox({ ...options, accessLog });
  // Signal handlers go in before readiness is announced: whoever waits for that line may stop
  // the process at once.
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) process.exit(1); // a second signal: stop now
    stopping = true;
    if (!options.json) process.stdout.write(`\n${signal}: stopping Sealbox...\n`);
    sealbox.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  if (options.json) {
    process.stdout.write(
      JSON.stringify({
        kms: sealbox.kms?.url,
        s3: sealbox.s3?.url,
        console: sealbox.console?.url,
        region: sealbox.region,
        accessKeyId: DEFAULT_CREDENTIALS.accessKeyId,
        secretAccessKey: DEFAULT_CREDENTIALS.secretAccessKey,
        dataDir: sealbox.dataDir ?? null,
        ...(sealbox.caBundle ? { caBundle: sealbox.caBundle } : {}),
        ...(sealbox.seedReport ? { seed: sealbox.seedReport } : {}),
      }) + '\n',
    );
  } else {
    if (sealbox.seedReport) process.stdout.write(seedSummary(sealbox.seedReport) + '\n');
    process.stdout.write(banner(sealbox, options));
  }
}

/** `sealbox seed FILE`: applies a seed to a running Sealbox; `sealbox seed --example` prints one. */
async function seed(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        example: { type: 'boolean' },
        'endpoint-kms': { type: 'string' },
        'endpoint-s3': { type: 'string' },
        region: { type: 'string' },
        'ca-bundle': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(SEED_HELP);
    return;
  }
  if (v.example) {
    process.stdout.write(SEED_EXAMPLE);
    return;
  }
  if (parsed.positionals.length !== 1) throw new UsageError('sealbox seed takes one seed file (or --example)');
  const file = parsed.positionals[0]!;
  const loaded = loadSeed(file);
  if (loaded.credentials.length) process.stderr.write('sealbox seed: note: the accounts section is read by sealbox start --seed only; here it just supplies root credentials for buckets\n');
  const ca = v['ca-bundle'] ?? process.env.AWS_CA_BUNDLE;
  const report = await applySeedRemote(loaded, {
    kmsEndpoint: v['endpoint-kms'] ?? process.env.AWS_ENDPOINT_URL_KMS ?? 'http://127.0.0.1:4599',
    s3Endpoint: v['endpoint-s3'] ?? process.env.AWS_ENDPOINT_URL_S3 ?? 'http://127.0.0.1:4572',
    region: v.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(ca ? { ca: readFile(ca, 'utf8') } : {}),
  });
  if (v.json) {
    process.stdout.write(JSON.stringify(report) + '\n');
    return;
  }
  for (const c of report.created) process.stdout.write(`created ${c}\n`);
  for (const s of report.skipped) process.stdout.write(`skipped ${s} (exists)\n`);
  process.stdout.write(seedSummary(report) + '\n');
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case 'seed':
      return seed(rest);
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      process.stdout.write(MAIN_HELP);
      return;
    case '-v':
    case '--version':
      process.stdout.write(version() + '\n');
      return;
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`sealbox: ${err.message}\nRun 'sealbox --help' for usage.\n`);
    process.exit(2);
  }
  if (err instanceof PortInUseError) {
    process.stderr.write(`sealbox: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`sealbox: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
