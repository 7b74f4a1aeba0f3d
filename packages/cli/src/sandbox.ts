import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RequestListener } from 'node:http';
import { createServer } from 'node:net';
import { createKmsService, type KmsCore } from '@sealbox/kms';
import { createS3Service } from '@sealbox/s3';
import { VirtualClock, listen, listenService, loadOrCreateTls, privateDir, silentAccessLog, type AccessLog, type ClientErrorKind, type ErrorResponse, type ListenOptions, type RunningServer } from '@sealbox/runtime';
import { DEFAULT_CREDENTIALS, StaticCredentialProvider, type Credentials } from '@sealbox/sigv4';
import { consoleHandler } from './console/server';
import { fsReason } from './fs-errors';
import type { ProgressSink } from './progress';
import { DataDirLockedError, lockDataDir } from './lock';
import { applySeedInProcess, checkSeed } from './apply-seed';
import { EMPTY_SEED, loadSeed, type Seed, type SeedReport } from './seed';

export interface SealboxOptions {
  host?: string;
  /**
   * Host names the admin endpoints (POST /_sealbox/...) and the console accept besides
   * Sealbox's own addresses (127.0.0.1, localhost, ::1, `host`, the address a client reached).
   */
  allowHosts?: string[];
  /** 0 (the default here) picks a free port. */
  kmsPort?: number;
  s3Port?: number;
  /**
   * Serve the read-only web console on this port (0 picks a free one). Undefined, the default
   * here, serves none; `sealbox start` serves it on 4580 unless told otherwise. It needs both
   * services in this process: not with `only` or `kmsEndpoint`.
   */
  consolePort?: number;
  /** A directory for state; undefined keeps everything in memory. */
  dataDir?: string;
  region?: string;
  only?: 'kms' | 's3';
  kmsEndpoint?: string;
  /** Credentials besides the default test/test root of account 000000000000. */
  users?: Credentials[];
  accessLog?: AccessLog;
  clock?: VirtualClock;
  /** RotateKeyOnDemand calls allowed per key (AWS: 10). */
  onDemandRotationLimit?: number;
  /** Accept SSE-KMS requests over plain HTTP (AWS requires TLS). */
  allowHttpSseKms?: boolean;
  /** Serve both services over HTTPS, with a certificate from a local CA. */
  tls?: boolean;
  /** A seed file: checked before anything starts, applied once the services listen. */
  seed?: string;
  /** A seed already parsed (parseSeed), used instead of `seed`. */
  seedData?: Seed;
  /** Evaluate KMS key policies, IAM policies and grants (default true). */
  enforceKmsPolicies?: boolean;
  /** How long S3 waits for a silent KMS (default 10 s; fault tests shorten it). */
  kmsTimeoutMs?: number;
  /** Where progress of long work goes (applying a seed with large objects); none by default. */
  progress?: ProgressSink;
  /** Idle and header timeouts of both servers (tests shorten them; AWS's are about 20 s). */
  timeouts?: Pick<ListenOptions, 'idleTimeoutMs' | 'headersTimeoutMs'>;
}

export interface Sealbox {
  /** The KMS server; `core` is its current state (tests read the event log through it). */
  kms?: RunningServer & { core: KmsCore };
  s3?: RunningServer;
  /** The web console, when `consolePort` asked for it. */
  console?: RunningServer;
  /** The KMS endpoint S3 uses: this Sealbox's KMS, or --kms-endpoint. */
  kmsEndpoint?: string;
  region: string;
  dataDir?: string;
  /** With tls: the CA certificate's file (AWS_CA_BUNDLE) and PEM. */
  caBundle?: string;
  ca?: string;
  clock: VirtualClock;
  credentials: StaticCredentialProvider;
  /** What the seed created and what already existed (skipped). */
  seedReport?: SeedReport;
  stop(): Promise<void>;
  /**
   * Forgets every key, alias, grant, event, bucket and object, keeping the endpoints, the
   * credentials and the clock: fresh services take over the listening sockets, and the seed's
   * keys and buckets are applied again. In-memory only.
   */
  reset(): Promise<void>;
}

/**
 * A service whose state can be replaced while its server keeps listening: requests go to the
 * current one, and a replaced one is closed.
 */
class Switchable<S extends { app: RequestListener; listener?: RequestListener; close(): void; errorResponse?: (kind: ClientErrorKind) => ErrorResponse | undefined }> {
  constructor(public current: S) {}

  readonly app: RequestListener = (req, res) => (this.current.listener ?? this.current.app)(req, res);

  errorResponse(kind: ClientErrorKind): ErrorResponse | undefined {
    return this.current.errorResponse?.(kind);
  }

  replace(next: S): void {
    const previous = this.current;
    this.current = next;
    previous.close();
  }

  close(): void {
    this.current.close();
  }
}

/** Ports something else already listens on; each is named, so one message can list them all. */
export class PortsInUseError extends Error {
  constructor(readonly host: string, readonly ports: number[]) {
    super(`${ports.length === 1 ? `port ${ports[0]} is` : `ports ${ports.join(', ')} are`} already in use on ${host}`);
  }
}

/** Whether host:port can be listened on now (a listener is opened and closed at once). */
function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolvePromise(false) : reject(err)));
    probe.listen(port, host, () => probe.close(() => resolvePromise(true)));
  });
}

/**
 * A listener on every interface (0.0.0.0, ::) has no address a client can dial: URLs name the
 * loopback address instead, which reaches it from this machine (and through a container's
 * published ports).
 */
function reachableUrl(url: string, host: string): string {
  if (host === '0.0.0.0') return url.replace('//0.0.0.0:', '//127.0.0.1:');
  if (host === '::' || host === '[::]') return url.replace('//[::]:', '//[::1]:');
  return url;
}

/** Starts the services in this process; used by `sealbox start` and by test fixtures. */
export async function startSealbox(options: SealboxOptions = {}): Promise<Sealbox> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const clock = options.clock ?? new VirtualClock();
  if (options.consolePort !== undefined && (options.only !== undefined || options.kmsEndpoint !== undefined)) {
    throw new Error('the console shows both services: it cannot be served with only or kmsEndpoint');
  }
  // A bad seed fails here, before anything listens.
  const seed = options.seedData ?? (options.seed === undefined ? EMPTY_SEED : loadSeed(options.seed));
  const seeded = seed.credentials;
  const all = [DEFAULT_CREDENTIALS, ...(options.users ?? []), ...seeded];
  const seen = new Set<string>();
  for (const c of all) {
    if (seen.has(c.accessKeyId)) throw new Error(`access key ${c.accessKeyId} is given twice (the default test, --user and the seed file must not share access keys)`);
    seen.add(c.accessKeyId);
  }
  const credentials = new StaticCredentialProvider(all);
  // S3's own credential: the KMS of this Sealbox lets it act for S3's callers (SSE-KMS), the way
  // AWS services call KMS on a caller's behalf. Its secret never leaves the process.
  const serviceCredentials: Credentials = {
    accessKeyId: `SEALBOXS3${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    accountId: '000000000000',
    principalArn: 'arn:aws:iam::000000000000:role/sealbox-s3-service',
    service: 's3',
  };
  credentials.add(serviceCredentials);
  const seeding = seed.keys.length > 0 || seed.buckets.length > 0;
  if (seeding) {
    await checkSeed(seed, {
      clock,
      principalExists: (arn) => credentials.principalExists(arn),
      only: options.only,
      sseKmsOverHttp: options.tls === true || options.allowHttpSseKms === true,
    });
  }
  // Every port asked for is tried before anything is created, so one message names all the busy
  // ones and a failed start leaves no data directory behind.
  const wanted = [options.only === 's3' ? undefined : options.kmsPort, options.only === 'kms' ? undefined : options.s3Port, options.consolePort];
  const fixed = [...new Set(wanted.filter((p): p is number => p !== undefined && p !== 0))];
  const busy: number[] = [];
  for (const port of fixed) if (!(await portFree(host, port))) busy.push(port);
  if (busy.length > 0) throw new PortsInUseError(host, busy);
  const accessLog = options.accessLog ?? silentAccessLog;
  const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
  let unlock: () => void = () => undefined;
  // The first directory this start created (undefined when the data directory existed): removed
  // again when the start fails, so a failed start leaves nothing behind.
  let created: string | undefined;
  const removeCreated = () => {
    if (created !== undefined) rmSync(created, { recursive: true, force: true });
  };
  if (dataDir) {
    try {
      created = mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      privateDir(dataDir);
      unlock = lockDataDir(dataDir);
    } catch (err) {
      removeCreated();
      if (err instanceof DataDirLockedError) throw err;
      throw new Error(`cannot use ${dataDir} as the data directory: ${fsReason(err)}; choose another --data-dir`);
    }
  }
  let tls: ReturnType<typeof loadOrCreateTls> | undefined;
  try {
    tls = options.tls ? loadOrCreateTls(dataDir, host === '0.0.0.0' || host === '::' ? [host, 'localhost'] : [host]) : undefined;
  } catch (err) {
    unlock();
    removeCreated();
    throw err;
  }

  const started: RunningServer[] = [];
  const stop = async () => {
    try {
      await Promise.all(started.map((s) => s.close()));
    } finally {
      unlock();
    }
  };
  const reachable = <T extends RunningServer>(server: T): T => ({ ...server, url: reachableUrl(server.url, host) });
  const adminHosts = [host, ...(options.allowHosts ?? [])];
  const kmsOptions = () => ({
    clock,
    credentials,
    accessLog,
    dataDir,
    onDemandRotationLimit: options.onDemandRotationLimit,
    enforcePolicies: options.enforceKmsPolicies ?? true,
    adminHosts,
  });
  try {
    const kmsService = options.only === 's3' ? undefined : new Switchable(createKmsService(kmsOptions()));
    const kmsBound = kmsService ? await listenService(kmsService, host, options.kmsPort ?? 0, tls, options.timeouts) : undefined;
    if (kmsBound) started.push(kmsBound);
    const kmsListening = kmsBound && reachable(kmsBound);
    const kmsEndpoint = options.kmsEndpoint ?? kmsListening?.url;
    const s3Options = () => ({
      clock,
      credentials,
      region,
      accessLog,
      dataDir,
      kmsEndpoint,
      serviceCredentials: options.kmsEndpoint ? undefined : serviceCredentials,
      allowHttpSseKms: options.allowHttpSseKms,
      kmsCa: tls?.ca,
      kmsTimeoutMs: options.kmsTimeoutMs,
      adminHosts,
    });
    const s3Service = options.only === 'kms' ? undefined : new Switchable(createS3Service(s3Options()));
    const s3Bound = s3Service ? await listenService(s3Service, host, options.s3Port ?? 0, tls, options.timeouts) : undefined;
    if (s3Bound) started.push(s3Bound);
    const s3 = s3Bound && reachable(s3Bound);
    const kms = kmsListening && kmsService ? Object.defineProperty({ ...kmsListening }, 'core', { get: () => kmsService.current.core, enumerable: true }) : undefined;
    // The console reads the current services' state: reset() replaces them.
    const consoleBound =
      options.consolePort !== undefined && kmsService && s3Service && s3
        ? await listen(
            consoleHandler({
              kms: () => kmsService.current.core,
              s3: () => s3Service.current.state,
              clock,
              host,
              allowedHosts: options.allowHosts,
              endpoints: { kms: kmsEndpoint!, s3: s3.url, region },
            }),
            host,
            options.consolePort,
            tls,
            options.timeouts,
          )
        : undefined;
    if (consoleBound) started.push(consoleBound);
    const consoleServer = consoleBound && reachable(consoleBound);
    const seedReport = seeding
      ? await applySeedInProcess(seed, { core: kmsService?.current.core, s3Endpoint: s3?.url, region, ca: tls?.ca, credentials, progress: options.progress })
      : undefined;
    return {
      seedReport,
      kms: kms as (RunningServer & { core: KmsCore }) | undefined,
      s3,
      console: consoleServer,
      kmsEndpoint,
      region,
      dataDir,
      caBundle: tls?.caPath,
      ca: tls?.ca,
      clock,
      credentials,
      stop,
      async reset() {
        if (dataDir) throw new Error('reset() clears an in-memory sandbox; this one keeps its state in ' + dataDir);
        kmsService?.replace(createKmsService(kmsOptions()));
        s3Service?.replace(createS3Service(s3Options()));
        // A seeded sandbox starts over from its seed.
        if (seeding) await applySeedInProcess(seed, { core: kmsService?.current.core, s3Endpoint: s3?.url, region, ca: tls?.ca, credentials });
      },
    };
  } catch (err) {
    await stop();
    removeCreated();
    throw err;
  }
}
