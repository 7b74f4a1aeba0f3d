import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { startKmsServer } from '@sealbox/kms';
import { startS3Server } from '@sealbox/s3';
import { VirtualClock, loadOrCreateTls, silentAccessLog, type AccessLog, type RunningServer } from '@sealbox/runtime';
import { DEFAULT_CREDENTIALS, StaticCredentialProvider, type Credentials } from '@sealbox/sigv4';
import { loadSeed } from './seed';

export interface SealboxOptions {
  host?: string;
  /** 0 (the default here) picks a free port. */
  kmsPort?: number;
  s3Port?: number;
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
  /** A seed file to read before starting (its accounts, users and roles). */
  seed?: string;
  /** Evaluate KMS key policies, IAM policies and grants (default true). */
  enforceKmsPolicies?: boolean;
}

export interface Sealbox {
  kms?: RunningServer;
  s3?: RunningServer;
  /** The KMS endpoint S3 uses: this Sealbox's KMS, or --kms-endpoint. */
  kmsEndpoint?: string;
  region: string;
  dataDir?: string;
  /** With tls: the CA certificate's file (AWS_CA_BUNDLE) and PEM. */
  caBundle?: string;
  ca?: string;
  clock: VirtualClock;
  credentials: StaticCredentialProvider;
  stop(): Promise<void>;
}

/** Starts the services in this process; used by `sealbox start` and by test fixtures. */
export async function startSealbox(options: SealboxOptions = {}): Promise<Sealbox> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const clock = options.clock ?? new VirtualClock();
  // A bad seed fails here, before anything listens.
  const seeded = options.seed === undefined ? [] : loadSeed(options.seed).credentials;
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
  const accessLog = options.accessLog ?? silentAccessLog;
  const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
  if (dataDir) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tls = options.tls ? loadOrCreateTls(dataDir, [host]) : undefined;

  const started: RunningServer[] = [];
  const stop = async () => {
    await Promise.all(started.map((s) => s.close()));
  };
  try {
    const kms =
      options.only === 's3'
        ? undefined
        : await startKmsServer({
            host,
            port: options.kmsPort ?? 0,
            clock,
            credentials,
            accessLog,
            dataDir,
            onDemandRotationLimit: options.onDemandRotationLimit,
            enforcePolicies: options.enforceKmsPolicies ?? true,
            tls,
          });
    if (kms) started.push(kms);
    const s3 =
      options.only === 'kms'
        ? undefined
        : await startS3Server({
            host,
            port: options.s3Port ?? 0,
            clock,
            credentials,
            region,
            accessLog,
            dataDir,
            kmsEndpoint: options.kmsEndpoint ?? kms?.url,
            serviceCredentials: options.kmsEndpoint ? undefined : serviceCredentials,
            allowHttpSseKms: options.allowHttpSseKms,
            kmsCa: tls?.ca,
            tls,
          });
    if (s3) started.push(s3);
    return {
      kms,
      s3,
      kmsEndpoint: options.kmsEndpoint ?? kms?.url,
      region,
      dataDir,
      caBundle: tls?.caPath,
      ca: tls?.ca,
      clock,
      credentials,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
