import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RequestListener } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { createKmsService, kmsFaultErrors, reconcileKmsEventLog, simulateKms, type KmsCore, type KmsImage, type KmsQuotaConfig } from '@sealbox/kms';
import { blobFile, createS3Service, referencedBlobIds, s3FaultErrors, simulateS3, type S3Image } from '@sealbox/s3';
import {
  checkSnapshotName,
  FaultRules,
  FixtureError,
  RootKey,
  VirtualClock,
  listen,
  listenService,
  loadOrCreateTls,
  privateDir,
  silentAccessLog,
  type AccessLog,
  type ClientErrorKind,
  type ClockState,
  type ErrorResponse,
  type Fixture,
  type ListenOptions,
  type RunningServer,
  type SnapshotInfo,
  RequestLog,
} from '@sealbox/runtime';
import { DEFAULT_CREDENTIALS, StaticCredentialProvider, type Credentials } from '@sealbox/sigv4';
import { consoleHandler } from './console/server';
import { explainRequest, type Explanation } from './explain';
import { fsReason } from './fs-errors';
import type { ProgressSink } from './progress';
import { DataDirLockedError, lockDataDir } from './lock';
import { applySeedInProcess, checkSeed } from './apply-seed';
import { EMPTY_SEED, loadSeed, type Seed, type SeedReport } from './seed';
import { importSnapshot } from './snapshot/snapshot';

/** How many named snapshots a sandbox keeps, and how much memory they may hold together. */
export const SNAPSHOT_LIMITS = { count: 32, bytes: 1024 * 1024 * 1024 } as const;

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
  /**
   * Serve HTTPS as well as HTTP on every port (the first byte of a connection tells them apart),
   * with a certificate from a local CA: `url`s are then https, `httpUrl`s plain HTTP. Off here
   * (HTTP only); `sealbox start` turns it on unless --no-tls.
   */
  tls?: boolean;
  /**
   * Where a hint for the user goes (one line): an SSE-KMS or SSE-C request refused over plain
   * HTTP names the https endpoint and --allow-http-sse-kms, once per process. None by default.
   */
  hint?: (line: string) => void;
  /** A seed file: checked before anything starts, applied once the services listen. */
  seed?: string;
  /**
   * A `sealbox export` archive to start from, loaded into memory (no data directory): reset()
   * returns to it. A seed given too is applied on top of it.
   */
  snapshot?: string;
  /** The passphrase the archive's root keys are sealed with (sealbox export --passphrase-env). */
  snapshotPassphrase?: string;
  /** Accept the reset and snapshot endpoints from any address, not only loopback. */
  allowRemoteAdmin?: boolean;
  /** Bounds of the named snapshots (default SNAPSHOT_LIMITS). */
  snapshotLimits?: { count?: number; bytes?: number };
  /** A seed already parsed (parseSeed), used instead of `seed`. */
  seedData?: Seed;
  /** Evaluate KMS key policies, IAM policies and grants (default true). */
  enforceKmsPolicies?: boolean;
  /** How long S3 waits for a silent KMS (default 10 s; fault tests shorten it). */
  kmsTimeoutMs?: number;
  /** Where progress of long work goes (applying a seed with large objects); none by default. */
  progress?: ProgressSink;
  /** KMS request quotas (--kms-quotas); over the seed file's kmsQuotas. Off by default. */
  kmsQuotas?: KmsQuotaConfig;
  /**
   * Idle, header, keep-alive and TLS handshake timeouts, the minimum body rate and the connection
   * cap of every server (tests shorten them; AWS's timeouts are about 20 s).
   */
  /** How many recent requests each service keeps with their decision records (10,000). */
  requestLogSize?: number;
  /** Told one line for each request an authorization denied, naming the deciding statement (sealbox start: stderr, off with --quiet). */
  onDenied?: (line: string) => void;
  timeouts?: Pick<ListenOptions, 'idleTimeoutMs' | 'headersTimeoutMs' | 'keepAliveTimeoutMs' | 'handshakeTimeoutMs' | 'minBodyBytesPerSecond' | 'bodyGraceMs' | 'maxConnections'>;
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
  /**
   * The fault rules of both services (POST /_sealbox/faults on either port does the same):
   * `faults.add({service: 'kms', operation: 'Encrypt', error: 'ThrottlingException', count: 2})`.
   * A reset removes the rules added since the start (a seed's own rules are in force again).
   */
  faults: FaultRules;
  /** What the seed created and what already existed (skipped). */
  seedReport?: SeedReport;
  stop(): Promise<void>;
  /**
   * Returns the whole sandbox to its starting state (empty, the seed, or the archive it started
   * from): keys, aliases, grants, the event log, buckets and objects, and the clock's offset.
   * The endpoints and credentials stay: fresh services take over the listening sockets, and a
   * request in flight finishes against the state it started with. In-memory only. The same as
   * POST /_sealbox/reset (and moto's POST /moto-api/reset) on either port.
   */
  reset(): Promise<void>;
  /** Saves the whole state under `name` (replacing one of that name), in memory. */
  snapshot(name: string): SnapshotInfo;
  /** Returns the whole sandbox (clock included) to a saved state; it stays saved. */
  restore(name: string): void;
  deleteSnapshot(name: string): void;
  listSnapshots(): { snapshots: SnapshotInfo[]; limits: { count: number; bytes: number } };
  /** Each service's recent requests and their decision records (cleared by reset). */
  requests: { kms?: RequestLog; s3?: RequestLog };
  /**
   * Why a request was allowed or denied: its decision records by request id (the
   * `x-amz-request-id` or `x-amzn-RequestId` an SDK error carries), with the KMS requests an S3
   * request made; undefined when neither service has it. `formatExplanation` prints it.
   */
  explain(requestId: string): Explanation | undefined;
}

/** An in-memory sandbox's whole state: what a snapshot holds. */
interface SandboxImage {
  kms?: KmsImage;
  s3?: S3Image;
  clock: ClockState;
  bytes: number;
}

type Service = { app: RequestListener; listener?: RequestListener; close(): void; errorResponse?: (kind: ClientErrorKind) => ErrorResponse | undefined };

/** A service and the requests it is answering. */
interface Slot<S> {
  service: S;
  /** Requests being answered, and pins (a retired S3 state still calling this KMS state). */
  active: number;
  retired: boolean;
  /** Names this state to S3's own calls (STATE_HEADER): random, known only in this process. */
  token: string;
  /** Runs once the service is closed. */
  onClose?: () => void;
}

/**
 * The header with which S3's own calls to this sandbox's KMS name the KMS state the calling S3
 * state was created with: an SSE-KMS PUT in flight across a reset finishes against the keys it
 * started with, not the reset ones.
 */
const STATE_HEADER = 'x-sealbox-state';

/**
 * A service whose state can be replaced while its server keeps listening: requests go to the
 * current one. A replaced one is closed once the requests it was answering are done, so a reset
 * from one test worker never breaks another worker's request mid-way (it completes against the
 * state it started with).
 */
class Switchable<S extends Service> {
  private slot: Slot<S>;
  private readonly retired = new Set<Slot<S>>();

  constructor(current: S, onClose?: () => void) {
    this.slot = { service: current, active: 0, retired: false, token: randomBytes(16).toString('hex'), onClose };
  }

  get current(): S {
    return this.slot.service;
  }

  /** The current state's token (STATE_HEADER). */
  get token(): string {
    return this.slot.token;
  }

  /** Keeps the current state open, even once replaced, until the returned function is called. */
  pin(): () => void {
    const slot = this.slot;
    slot.active++;
    let pinned = true;
    return () => {
      if (!pinned) return;
      pinned = false;
      if (--slot.active === 0 && slot.retired) this.retire(slot);
    };
  }

  readonly app: RequestListener = (req, res) => {
    const named = req.headers[STATE_HEADER];
    let slot = this.slot;
    if (typeof named === 'string' && named !== slot.token) {
      for (const old of this.retired) if (old.token === named) slot = old;
    }
    slot.active++;
    res.once('close', () => {
      if (--slot.active === 0 && slot.retired) this.retire(slot);
    });
    (slot.service.listener ?? slot.service.app)(req, res);
  };

  errorResponse(kind: ClientErrorKind): ErrorResponse | undefined {
    return this.current.errorResponse?.(kind);
  }

  replace(next: S, onClose?: () => void): void {
    const previous = this.slot;
    this.slot = { service: next, active: 0, retired: false, token: randomBytes(16).toString('hex'), onClose };
    previous.retired = true;
    if (previous.active === 0) this.retire(previous);
    else this.retired.add(previous);
  }

  private retire(slot: Slot<S>): void {
    this.retired.delete(slot);
    slot.service.close();
    slot.onClose?.();
  }

  close(): void {
    this.slot.service.close();
    for (const slot of this.retired) slot.service.close();
    this.retired.clear();
  }
}

/**
 * A `sealbox export` archive as an in-memory image: imported (checked completely) into a
 * temporary directory, read, and the directory removed.
 */
async function loadArchive(file: string, passphrase: string | undefined, clock: ClockState): Promise<SandboxImage> {
  const work = mkdtempSync(join(tmpdir(), 'sealbox-archive-'));
  const dir = join(work, 'state');
  try {
    await importSnapshot({ file, dataDir: dir, passphrase });
    reconcileKmsEventLog(dir); // an export of a running Sealbox: its newest records may be in cloudtrail.jsonl alone
    const image: SandboxImage = { clock, bytes: 0 };
    if (existsSync(join(dir, 'kms.db'))) {
      image.kms = { db: rollbackJournal(readFileSync(join(dir, 'kms.db'))), rootKey: RootKey.fromBytes(readFileSync(join(dir, 'root.key'))) };
    }
    if (existsSync(join(dir, 's3.db'))) {
      const blobs = new Map<string, Buffer>();
      for (const id of referencedBlobIds(join(dir, 's3.db'))) blobs.set(id, readFileSync(join(dir, 's3', blobFile(id))));
      image.s3 = { db: rollbackJournal(readFileSync(join(dir, 's3.db'))), rootKey: RootKey.fromBytes(readFileSync(join(dir, 's3.key'))), blobs };
    }
    image.bytes = imageBytes(image);
    return image;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A database file opened in memory must not be in WAL mode (https://www.sqlite.org/c3ref/deserialize.html),
 * and an exported one is (https://www.sqlite.org/fileformat.html#the_database_header: bytes 18
 * and 19 are 2 for WAL); VACUUM INTO left everything in the main file, so 1 (rollback) is exact.
 */
function rollbackJournal(db: Buffer): Buffer {
  if (db.length >= 100 && db[18] === 2 && db[19] === 2) {
    db[18] = 1;
    db[19] = 1;
  }
  return db;
}

function imageBytes(image: Omit<SandboxImage, 'bytes'>): number {
  let bytes = (image.kms?.db.length ?? 0) + (image.s3?.db.length ?? 0);
  for (const blob of image.s3?.blobs.values() ?? []) bytes += blob.length;
  return bytes;
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
function reachableUrl(url: string, host: string): string;
function reachableUrl(url: string | undefined, host: string): string | undefined;
function reachableUrl(url: string | undefined, host: string): string | undefined {
  if (url === undefined) return undefined;
  if (host === '0.0.0.0') return url.replace('//0.0.0.0:', '//127.0.0.1:');
  if (host === '::' || host === '[::]') return url.replace('//[::]:', '//[::1]:');
  return url;
}

/**
 * Plain HTTP to the address a listener bound (the loopback address for 0.0.0.0 and ::), never to
 * the --host name resolved again: nothing authenticates the plain hop from S3 to its own KMS, so
 * a name that later resolves elsewhere (hosts file, DNS) must not take S3's calls, signed with its
 * service credential and answered with plaintext data keys, off this machine or to another
 * listener.
 */
function boundHttpUrl(server: RunningServer): string {
  const { address, port } = server.server.address() as AddressInfo;
  const ip = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  return `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

/** The hint about SSE-KMS over plain HTTP is given once per process, whatever starts or resets. */
let hinted = false;

/** Starts the services in this process; used by `sealbox start` and by test fixtures. */
export async function startSealbox(options: SealboxOptions = {}): Promise<Sealbox> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const clock = options.clock ?? new VirtualClock();
  if (options.consolePort !== undefined && (options.only !== undefined || options.kmsEndpoint !== undefined)) {
    throw new Error('the console shows both services: it cannot be served with only or kmsEndpoint');
  }
  if (options.snapshot !== undefined && options.dataDir !== undefined) {
    throw new Error('a sandbox started from an archive (snapshot) keeps its state in memory: to run on a data directory, sealbox import the archive into it instead');
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
  const startClock = clock.state();
  // A bad archive, too, fails before anything listens.
  const archive = options.snapshot === undefined ? undefined : await loadArchive(options.snapshot, options.snapshotPassphrase, startClock);
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
    // The certificate names the listening address and the --allow-host names clients reach it by.
    tls = options.tls ? loadOrCreateTls(dataDir, [host.replace(/^\[|\]$/g, ''), ...(options.allowHosts ?? [])]) : undefined;
  } catch (err) {
    unlock();
    removeCreated();
    throw err;
  }

  // One set of rules for both services, whichever port adds them: S3's own calls to this KMS
  // meet the KMS rules. The seed's rules are checked already (parseSeed).
  const faults = new FaultRules({ ...(options.only !== 's3' ? { kms: kmsFaultErrors } : {}), ...(options.only !== 'kms' ? { s3: s3FaultErrors } : {}) });
  const started: RunningServer[] = [];
  let stopped = false;
  const stop = async () => {
    stopped = true;
    // Calls held by a latency rule go on at once (the rules are cleared below): their timers
    // would keep the process alive for up to 10 minutes after stop.
    faults.clear();
    try {
      await Promise.all(started.map((s) => s.close()));
    } finally {
      unlock();
    }
  };
  const reachable = <T extends RunningServer>(server: T): T => ({
    ...server,
    url: reachableUrl(server.url, host),
    httpUrl: reachableUrl(server.httpUrl, host),
    ...(server.httpsUrl ? { httpsUrl: reachableUrl(server.httpsUrl, host) } : {}),
  });
  // Filled in once S3 listens: the https endpoint the hint names.
  let s3HttpsUrl: string | undefined;
  const plainHttpEncryption = options.hint
    ? () => {
        if (hinted) return;
        hinted = true;
        const fix = s3HttpsUrl ? `use ${s3HttpsUrl} (trusting AWS_CA_BUNDLE=${tls!.caPath})` : 'start Sealbox without --no-tls and use its https:// endpoint';
        options.hint!(`sealbox: hint: S3 refuses SSE-KMS and SSE-C requests over plain HTTP, as AWS does; ${fix}, or start Sealbox with --allow-http-sse-kms`);
      }
    : undefined;
  const adminHosts = [host, ...(options.allowHosts ?? [])];
  const seedFaults = () => {
    faults.clear();
    for (const rule of seed.faults ?? []) faults.add(rule);
  };
  const kmsQuotas = options.kmsQuotas ?? seed.kmsQuotas;
  // The request logs belong to the sandbox: a snapshot restore keeps them, a reset clears them.
  const requests = {
    kms: options.only === 's3' ? undefined : new RequestLog(options.requestLogSize, options.onDenied),
    s3: options.only === 'kms' ? undefined : new RequestLog(options.requestLogSize, options.onDenied),
  };
  // Filled in below, once the services exist; the admin routes of both services call it.
  let fixture: Fixture | undefined;
  const fixtureHooks: Fixture = {
    allowRemote: options.allowRemoteAdmin ?? false,
    reset: () => fixture!.reset(),
    saveSnapshot: (name) => fixture!.saveSnapshot(name),
    restoreSnapshot: (name) => fixture!.restoreSnapshot(name),
    deleteSnapshot: (name) => fixture!.deleteSnapshot(name),
    listSnapshots: () => fixture!.listSnapshots(),
  };
  const kmsOptions = () => ({
    clock,
    credentials,
    accessLog,
    dataDir,
    onDemandRotationLimit: options.onDemandRotationLimit,
    enforcePolicies: options.enforceKmsPolicies ?? true,
    adminHosts,
    fixture: fixtureHooks,
    faults,
    quotas: kmsQuotas,
    requests: requests.kms,
  });
  try {
    const kmsService = options.only === 's3' ? undefined : new Switchable(createKmsService({ ...kmsOptions(), image: archive?.kms }));
    const kmsBound = kmsService ? await listenService(kmsService, host, options.kmsPort ?? 0, tls, options.timeouts) : undefined;
    if (kmsBound) started.push(kmsBound);
    const kmsListening = kmsBound && reachable(kmsBound);
    // S3 reaches the KMS of this process over plain HTTP at the address the listener bound (see
    // boundHttpUrl; docs/kms.md says what that exposes): a TLS session per call cost 5-8% of a
    // 1 MiB SSE-KMS request's CPU. KMS gives S3's calls aws:SecureTransport true, as AWS's (over
    // TLS) have.
    const kmsHop = options.kmsEndpoint ?? (kmsBound && boundHttpUrl(kmsBound));
    // What users are shown (the console, Sealbox.kmsEndpoint): the address they call.
    const kmsEndpoint = options.kmsEndpoint ?? kmsListening?.url;
    const s3Options = () => ({
      clock,
      credentials,
      region,
      accessLog,
      dataDir,
      kmsEndpoint: kmsHop,
      serviceCredentials: options.kmsEndpoint ? undefined : serviceCredentials,
      allowHttpSseKms: options.allowHttpSseKms,
      onPlainHttpEncryption: plainHttpEncryption,
      kmsCa: kmsTrust(tls?.ca, options.kmsEndpoint),
      kmsTimeoutMs: options.kmsTimeoutMs,
      kmsServiceHeaders: kmsService && !options.kmsEndpoint ? { [STATE_HEADER]: kmsService.token } : undefined,
      adminHosts,
      fixture: fixtureHooks,
      faults,
      requests: requests.s3,
    });
    // Each S3 state calls the KMS state current when it was made, and keeps it open until it
    // is itself closed (--kms-endpoint: another KMS, nothing to name).
    const s3Service = options.only === 'kms' ? undefined : new Switchable(createS3Service({ ...s3Options(), image: archive?.s3 }), kmsService?.pin());
    const s3Bound = s3Service ? await listenService(s3Service, host, options.s3Port ?? 0, tls, options.timeouts) : undefined;
    if (s3Bound) started.push(s3Bound);
    const s3 = s3Bound && reachable(s3Bound);
    s3HttpsUrl = s3?.httpsUrl;
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
              endpoints: {
                // The endpoint a user calls (https with TLS on), not S3's own plain-HTTP hop.
                kms: kmsListening!.url,
                s3: s3.url,
                region,
                // What the empty console tells a user to run: the exports' endpoints (HTTPS when served).
                cli: { kms: kmsListening!.url, s3: s3.httpsUrl ?? s3.url, ...(tls ? { caBundle: tls.caPath } : {}) },
              },
              credentials: () => credentials.list(),
              requests,
              simulate: (service, input) =>
                service === 'kms' ? simulateKms(kmsService.current.core, credentials, clock.now(), input) : simulateS3(s3Service.current.state, credentials, clock.now(), input),
            }),
            host,
            options.consolePort,
            tls,
            options.timeouts,
          )
        : undefined;
    if (consoleBound) started.push(consoleBound);
    const consoleServer = consoleBound && reachable(consoleBound);
    // The seed's fault rules take effect once the seed is applied (they would fail its calls).
    const seedReport = seeding
      ? await applySeedInProcess(seed, { core: kmsService?.current.core, s3Endpoint: s3?.url, region, ca: tls?.ca, credentials, progress: options.progress })
      : undefined;

    seedFaults();
    const inMemory = () => {
      // New states for a sandbox whose servers are gone would never be closed.
      if (stopped) throw new FixtureError(409, 'this sandbox is stopped: start a new one');
      if (dataDir) throw new FixtureError(409, `reset and snapshots work on an in-memory Sealbox (sealbox start --in-memory); this one keeps its state in ${dataDir}`);
    };
    const capture = (): SandboxImage => {
      const image = { kms: kmsService?.current.core.image(), s3: s3Service?.current.state.image(), clock: clock.state() };
      return { ...image, bytes: imageBytes(image) };
    };
    /** Fresh services from the image take over the sockets (none: empty ones), and the clock goes back. */
    const restoreImage = (image: SandboxImage | undefined) => {
      // The clock first: a new KMS runs what falls due at once, by the restored time.
      clock.restore(image?.clock ?? startClock);
      kmsService?.replace(createKmsService({ ...kmsOptions(), image: image?.kms }));
      s3Service?.replace(createS3Service({ ...s3Options(), image: image?.s3 }), kmsService?.pin());
    };
    // The starting state: nothing, or the archive and seed as applied once (reset restores that
    // image rather than applying the seed again, so it takes milliseconds whatever the seed holds).
    const startImage = !dataDir && (archive || seeding) ? capture() : undefined;
    const limits = { count: options.snapshotLimits?.count ?? SNAPSHOT_LIMITS.count, bytes: options.snapshotLimits?.bytes ?? SNAPSHOT_LIMITS.bytes };
    const snapshots = new Map<string, { image: SandboxImage; info: SnapshotInfo }>();
    const held = () => [...snapshots.values()].reduce((n, s) => n + s.image.bytes, 0);
    fixture = {
      reset() {
        inMemory();
        restoreImage(startImage);
        seedFaults();
        requests.kms?.clear();
        requests.s3?.clear();
      },
      saveSnapshot(name) {
        checkSnapshotName(name);
        inMemory();
        const replaced = snapshots.get(name);
        if (!replaced && snapshots.size >= limits.count) {
          throw new FixtureError(409, `a sandbox keeps at most ${limits.count} snapshots; delete one first (DELETE /_sealbox/snapshots/NAME)`);
        }
        const image = capture();
        const total = held() - (replaced?.image.bytes ?? 0) + image.bytes;
        if (total > limits.bytes) {
          throw new FixtureError(409, `snapshots may hold at most ${limits.bytes} bytes together; this one (${image.bytes} bytes) would make ${total}; delete one first (DELETE /_sealbox/snapshots/NAME)`);
        }
        const info = { name, created: clock.wallNow().toISOString(), bytes: image.bytes };
        snapshots.set(name, { image, info });
        return info;
      },
      restoreSnapshot(name) {
        checkSnapshotName(name);
        inMemory();
        const saved = snapshots.get(name);
        if (!saved) throw new FixtureError(404, `there is no snapshot named ${name}`);
        restoreImage(saved.image);
      },
      deleteSnapshot(name) {
        checkSnapshotName(name);
        if (!snapshots.delete(name)) throw new FixtureError(404, `there is no snapshot named ${name}`);
      },
      listSnapshots: () => ({ snapshots: [...snapshots.values()].map((s) => s.info), limits }),
    };
    const live = fixture;
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
      faults,
      stop,
      async reset() {
        live.reset();
      },
      snapshot: (name) => live.saveSnapshot(name),
      restore: (name) => live.restoreSnapshot(name),
      deleteSnapshot: (name) => live.deleteSnapshot(name),
      listSnapshots: () => live.listSnapshots(),
      requests,
      explain: (requestId) => explainRequest(requests, requestId),
    };
  } catch (err) {
    await stop();
    removeCreated();
    throw err;
  }
}

/**
 * The CAs S3 trusts for its KMS besides the public roots: this Sealbox's own, and for another KMS
 * (`--kms-endpoint`, perhaps another Sealbox with its own local CA) the bundle the user's AWS
 * clients trust, `AWS_CA_BUNDLE`, as the printed exports set it.
 */
export function kmsTrust(ownCa: string | undefined, kmsEndpoint: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  const cas = ownCa ? [ownCa] : [];
  const bundle = env.AWS_CA_BUNDLE;
  if (kmsEndpoint?.startsWith('https:') && bundle) {
    // Unreadable: S3 then reports the untrusted certificate on its first call (cannot reach KMS).
    if (existsSync(bundle)) cas.push(readFileSync(bundle, 'utf8'));
  }
  return cas;
}
