#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PortInUseError, createAccessLog } from '@sealbox/runtime';
import { DEFAULT_CREDENTIALS } from '@sealbox/sigv4';
import { readFileSync as readFile } from 'node:fs';
import { applySeedRemote, seedSummary } from './apply-seed';
import { COMMAND_HELP, EXPLAIN_HELP, EXPORT_HELP, IMPORT_HELP, MAIN_HELP, SEED_HELP, START_HELP, UsageError, parseCommandArgs, parseSnapshotOptions, parseStartOptions, unknownCommand, type SnapshotOptions, type StartOptions } from './options';
import { PortsInUseError, startSealbox, type Sealbox } from './sandbox';
import { loadSeed } from './seed';
import { fetchExplanation, formatExplanation } from './explain';
import { SEED_EXAMPLE } from './seed-example';
import { formatBytes, type ProgressSink } from './progress';
import { exportSnapshot, importSnapshot, type SnapshotManifest } from './snapshot/snapshot';
import { tuneHeapForServing } from './heap';

function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

function stderrProgress(): ProgressSink {
  return { write: (text) => process.stderr.write(text), tty: process.stderr.isTTY === true };
}

function banner(sealbox: Sealbox, options: StartOptions): string {
  const lines = [`Sealbox ${version()} is ready`];
  if (sealbox.kms) lines.push(`  KMS     ${sealbox.kms.url}   (every region, chosen by the credential scope)`);
  if (sealbox.s3) lines.push(`  S3      ${sealbox.s3.url}   (region ${sealbox.region})`);
  if (sealbox.s3 && options.kmsEndpoint) lines.push(`  S3 uses the KMS at ${options.kmsEndpoint}`);
  // The console's plain HTTP address: a browser does not know the local CA.
  if (sealbox.console) lines.push(`  console ${sealbox.console.httpUrl}   (read-only, open it in a browser)`);
  if (sealbox.caBundle) {
    const plain = [sealbox.kms, sealbox.s3].filter((s) => s !== undefined).map((s) => s.httpUrl);
    lines.push(`  HTTPS and HTTP on the same ports (${plain.join(', ')} for plain HTTP; SSE-KMS needs HTTPS)`);
    lines.push(`  CA      ${sealbox.caBundle}`);
  }
  lines.push(`  data    ${sealbox.dataDir ?? 'in memory (nothing is kept)'}`);
  lines.push('', 'Point the AWS CLI, the SDKs and boto3 at it:');
  if (sealbox.kms) lines.push(`  export AWS_ENDPOINT_URL_KMS=${sealbox.kms.url}`);
  if (sealbox.s3) lines.push(`  export AWS_ENDPOINT_URL_S3=${sealbox.s3.url}`);
  lines.push(
    `  export AWS_ACCESS_KEY_ID=${DEFAULT_CREDENTIALS.accessKeyId}`,
    `  export AWS_SECRET_ACCESS_KEY=${DEFAULT_CREDENTIALS.secretAccessKey}`,
    // The SDKs for JavaScript, Java and Go read AWS_REGION; the AWS CLI (v1) and boto3 read only
    // AWS_DEFAULT_REGION: https://docs.aws.amazon.com/cli/v1/userguide/cli-configure-envvars.html
    `  export AWS_REGION=${sealbox.region}`,
    `  export AWS_DEFAULT_REGION=${sealbox.region}`,
    // The AWS CLI, boto3 and Go read AWS_CA_BUNDLE; Node (the SDK for JavaScript) NODE_EXTRA_CA_CERTS.
    ...(sealbox.caBundle ? [`  export AWS_CA_BUNDLE=${sealbox.caBundle}`, `  export NODE_EXTRA_CA_CERTS=${sealbox.caBundle}`] : []),
    '',
    'Press Ctrl+C to stop.',
    '',
  );
  return lines.join('\n');
}

/** The parent of a process, from /proc (Linux); undefined elsewhere or once it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the name, which is in parentheses and may hold anything: state, then ppid.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process is a POSIX shell (from /proc, Linux). */
function isShell(pid: number): boolean {
  try {
    return ['sh', 'dash', 'bash', 'ash', 'zsh', 'ksh', 'mksh'].includes(readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
  } catch {
    return false;
  }
}

/** One message for every busy port, naming the options that chose them. */
function busyPortsMessage(options: StartOptions, ports: number[]): string {
  // Name the option that chose each port: the error alone cannot tell KMS's from S3's.
  const chosen: Array<[string, number | undefined]> = [
    ['--kms-port', options.only !== 's3' ? options.kmsPort : undefined],
    ['--s3-port', options.only !== 'kms' ? options.s3Port : undefined],
    ['--console-port', options.consolePort],
  ];
  const flags = chosen.filter(([, port]) => port !== undefined && ports.includes(port)).map(([flag]) => flag);
  const list = ports.length === 1 ? `port ${ports[0]}` : `ports ${ports.slice(0, -1).join(', ')} and ${ports[ports.length - 1]}`;
  const verb = ports.length === 1 ? 'is' : 'are';
  const fix = flags.length === 0 ? 'pass --kms-port, --s3-port or --console-port 0 to pick a free port' : `pass ${flags.map((f) => `${f} 0`).join(' ')} to pick ${flags.length === 1 ? 'a free port' : 'free ports'}`;
  return `${list} on ${options.host} ${verb} already in use (by another Sealbox or another program): ${fix}, or ${ports.length === 1 ? 'another port' : 'other ports'}`;
}

async function start(args: string[]): Promise<void> {
  const options = parseStartOptions(args);
  if (options === 'help') {
    process.stdout.write(START_HELP);
    return;
  }
  tuneHeapForServing();
  // With --json, stdout carries only the JSON line; the access log goes to stderr.
  const logStream = options.json ? process.stderr : process.stdout;
  const accessLog = options.quiet
    ? undefined
    : createAccessLog({ json: !logStream.isTTY, write: (line) => logStream.write(line) });
  let sealbox: Sealbox;
  try {
    sealbox = await startSealbox({
      ...options,
      accessLog,
      progress: options.json || options.quiet ? undefined : stderrProgress(),
      hint: (line) => process.stderr.write(line + '\n'),
      // One line per denied request, naming the deciding statement (docs/debugging-access.md).
      onDenied: options.quiet ? undefined : (line) => process.stderr.write(line + '\n'),
    });
  } catch (err) {
    const busy = err instanceof PortsInUseError ? err.ports : err instanceof PortInUseError ? [err.port] : undefined;
    if (!busy) throw err;
    throw new Error(busyPortsMessage(options, busy));
  }
  // Signal handlers go in before readiness is announced: whoever waits for that line may stop
  // the process at once.
  let stopping = false;
  // A reader that went away (`sealbox start | head`) must not turn the goodbye line into a crash.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
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
  // Started by npm (`npm start`, `npx sealbox start`): npm passes SIGINT and SIGTERM to the shell
  // it runs the command in, and a shell that does not exec it dies without passing them on. So
  // when npm's side goes away (this process is handed to another parent), the server stops too,
  // leaving nothing that holds the ports and the data directory.
  if (process.env.npm_command !== undefined) {
    const parent = process.ppid;
    // `npx sealbox start`: npm runs this through `sh -c`, and a shell that does not exec its
    // command (Debian's dash) stays between npm and this process. When npm is killed outright
    // (SIGKILL passes nothing on), that shell lives on, and with it this process: so the shell's
    // own parent is watched too.
    const npm = isShell(parent) ? parentOf(parent) : undefined;
    setInterval(() => {
      if (process.ppid !== parent || (npm !== undefined && parentOf(parent) !== npm)) shutdown('parent exited');
    }, 500).unref();
  }
  if (options.json) {
    process.stdout.write(
      JSON.stringify({
        kms: sealbox.kms?.url,
        s3: sealbox.s3?.url,
        console: sealbox.console?.httpUrl,
        region: sealbox.region,
        accessKeyId: DEFAULT_CREDENTIALS.accessKeyId,
        secretAccessKey: DEFAULT_CREDENTIALS.secretAccessKey,
        dataDir: sealbox.dataDir ?? null,
        ...(sealbox.caBundle ? { caBundle: sealbox.caBundle, http: { kms: sealbox.kms?.httpUrl, s3: sealbox.s3?.httpUrl } } : {}),
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
  const parsed = parseCommandArgs({
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
    progress: v.json ? undefined : stderrProgress(),
  });
  if (v.json) {
    process.stdout.write(JSON.stringify(report) + '\n');
    return;
  }
  for (const c of report.created) process.stdout.write(`created ${c}\n`);
  for (const s of report.skipped) process.stdout.write(`skipped ${s} (exists)\n`);
  process.stdout.write(seedSummary(report) + '\n');
}

/** Progress on stderr, unless the output is for a program (--json) or silence was asked for. */
function progressSink(options: SnapshotOptions): ProgressSink | undefined {
  return options.json || options.quiet ? undefined : stderrProgress();
}

const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

function stateSummary(manifest: SnapshotManifest): string {
  const c = manifest.counts;
  const parts: string[] = [];
  if (c.keys !== undefined) parts.push([count(c.keys, 'key'), count(c.aliases ?? 0, 'alias', 'aliases'), count(c.grants ?? 0, 'grant'), count(c.events ?? 0, 'event')].join(', '));
  if (c.buckets !== undefined) parts.push(`${count(c.buckets, 'bucket')}, ${count(c.objects ?? 0, 'object version')} (${formatBytes(c.blobBytes)} of object data)`);
  return parts.join('; ') || 'no state';
}

/** `sealbox export FILE`: a data directory's state in one archive. */
async function exportCommand(args: string[]): Promise<void> {
  const options = parseSnapshotOptions('export', args);
  if (options === 'help') {
    process.stdout.write(EXPORT_HELP);
    return;
  }
  const result = await exportSnapshot({
    dataDir: options.dataDir,
    file: options.file,
    sealboxVersion: version(),
    passphrase: options.passphrase,
    force: options.force,
    progress: progressSink(options),
  });
  const note = (text: string) => {
    if (!options.quiet) process.stderr.write(`sealbox export: note: ${text}\n`);
  };
  if (result.livePid !== undefined) note(`the Sealbox running on the data directory (pid ${result.livePid}) was left running; the archive holds its state as of the export`);
  if (result.leftOut.length > 0) note(`left out files Sealbox does not know: ${result.leftOut.join(', ')}`);
  if (options.passphrase === undefined) note(`${options.file} holds the root keys unsealed: whoever has it can use every key and read every object in it (pass --passphrase-env to seal them)`);
  if (options.json) process.stdout.write(JSON.stringify({ file: resolve(options.file), ...result.manifest }) + '\n');
  else process.stdout.write(`exported ${resolve(options.dataDir)} to ${options.file}: ${stateSummary(result.manifest)}\n`);
}

/** `sealbox import FILE`: a data directory recreated from an archive. */
async function importCommand(args: string[]): Promise<void> {
  const options = parseSnapshotOptions('import', args);
  if (options === 'help') {
    process.stdout.write(IMPORT_HELP);
    return;
  }
  const manifest = await importSnapshot({
    file: options.file,
    dataDir: options.dataDir,
    passphrase: options.passphrase,
    force: options.force,
    progress: progressSink(options),
  });
  const dir = resolve(options.dataDir);
  if (options.json) process.stdout.write(JSON.stringify({ dataDir: dir, ...manifest }) + '\n');
  else {
    process.stdout.write(`imported ${options.file} (Sealbox ${manifest.sealbox}, ${manifest.created}) into ${dir}: ${stateSummary(manifest)}\n`);
    process.stdout.write(`start it with: sealbox start --data-dir ${dir}\n`);
  }
}

/** `sealbox explain REQUEST_ID`: a request's decision records from a running Sealbox. */
async function explain(args: string[]): Promise<void> {
  const parsed = parseCommandArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      'kms-endpoint': { type: 'string' },
      's3-endpoint': { type: 'string' },
      // The spelling sealbox seed uses.
      'endpoint-kms': { type: 'string' },
      'endpoint-s3': { type: 'string' },
      'ca-bundle': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(EXPLAIN_HELP);
    return;
  }
  if (parsed.positionals.length !== 1) throw new UsageError('sealbox explain takes one request id');
  const requestId = parsed.positionals[0]!;
  const endpoints = {
    kms: v['kms-endpoint'] ?? v['endpoint-kms'] ?? process.env.AWS_ENDPOINT_URL_KMS ?? 'http://127.0.0.1:4599',
    s3: v['s3-endpoint'] ?? v['endpoint-s3'] ?? process.env.AWS_ENDPOINT_URL_S3 ?? 'http://127.0.0.1:4572',
  };
  const caFile = v['ca-bundle'] ?? process.env.AWS_CA_BUNDLE;
  const found = await fetchExplanation(requestId, endpoints, caFile ? readFile(caFile, 'utf8') : undefined);
  if (!found) throw new Error(`no request ${requestId} among the recent requests of the KMS at ${endpoints.kms} or the S3 at ${endpoints.s3} (each keeps its last 10,000; a reset clears them)`);
  process.stdout.write(v.json ? JSON.stringify(found, null, 2) + '\n' : formatExplanation(found) + '\n');
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case 'seed':
      return seed(rest);
    case 'export':
      return exportCommand(rest);
    case 'import':
      return importCommand(rest);
    case 'explain':
      return explain(rest);
    case 'help': {
      // `sealbox help start` prints what `sealbox start --help` prints.
      const topic = rest[0];
      if (topic === undefined) process.stdout.write(MAIN_HELP);
      else if (Object.hasOwn(COMMAND_HELP, topic)) process.stdout.write(COMMAND_HELP[topic]!);
      else throw unknownCommand(topic);
      return;
    }
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(MAIN_HELP);
      return;
    case '-v':
    case '--version':
      process.stdout.write(version() + '\n');
      return;
    default:
      throw unknownCommand(command);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`sealbox: ${err.message}\nRun 'sealbox --help' for usage.\n`);
    process.exit(2);
  }
  process.stderr.write(`sealbox: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
