#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PortInUseError, createAccessLog } from '@sealbox/runtime';
import { DEFAULT_CREDENTIALS } from '@sealbox/sigv4';
import { MAIN_HELP, START_HELP, UsageError, parseStartOptions, type StartOptions } from './options';
import { startSealbox, type Sealbox } from './sandbox';

function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

function banner(sealbox: Sealbox, options: StartOptions): string {
  const lines = [`Sealbox ${version()} is ready`];
  if (sealbox.kms) lines.push(`  KMS  ${sealbox.kms.url}   (every region, chosen by the credential scope)`);
  if (sealbox.s3) lines.push(`  S3   ${sealbox.s3.url}   (region ${sealbox.region})`);
  if (sealbox.s3 && options.kmsEndpoint) lines.push(`  S3 uses the KMS at ${options.kmsEndpoint}`);
  lines.push(`  data ${sealbox.dataDir ?? 'in memory (nothing is kept)'}`);
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
        region: sealbox.region,
        accessKeyId: DEFAULT_CREDENTIALS.accessKeyId,
        secretAccessKey: DEFAULT_CREDENTIALS.secretAccessKey,
        dataDir: sealbox.dataDir ?? null,
        ...(sealbox.caBundle ? { caBundle: sealbox.caBundle } : {}),
      }) + '\n',
    );
  } else {
    process.stdout.write(banner(sealbox, options));
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
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
