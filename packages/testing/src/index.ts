import { Agent } from 'node:https';
import { parseSeed, startSealbox, type Sealbox } from 'sealbox';
import type { VirtualClock } from '@sealbox/runtime';

/** A seed: the path of a YAML or JSON seed file, or the seed itself as an object. */
export type SeedInput = string | { accounts?: unknown[]; keys?: unknown[]; buckets?: unknown[] };

export interface SandboxOptions {
  seed?: SeedInput;
  /** Region of the S3 endpoint and of the client configurations (default us-east-1). */
  region?: string;
  /**
   * Serve HTTPS with a generated CA (the client configurations trust it). Off by default: the
   * fixture then accepts SSE-KMS and SSE-C over plain HTTP, which AWS would refuse.
   */
  tls?: boolean;
  /** Evaluate KMS key policies, IAM policies and grants (default true). */
  enforceKmsPolicies?: boolean;
}

export interface ClientCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What a KMSClient or S3Client constructor takes, ready to spread: `new KMSClient(sandbox.kmsConfig)`. */
export interface ClientConfig {
  endpoint: string;
  region: string;
  credentials: ClientCredentials;
  /** With tls: NodeHttpHandler options trusting the sandbox's CA. */
  requestHandler?: { httpsAgent: Agent };
  /** S3 only: path-style URLs (http://127.0.0.1:port/bucket/key). */
  forcePathStyle?: boolean;
}

export interface Sandbox {
  region: string;
  /** The default credentials, root of account 000000000000. */
  credentials: ClientCredentials;
  kms: { endpoint: string };
  s3: { endpoint: string };
  kmsConfig: ClientConfig;
  s3Config: ClientConfig;
  /** AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL_S3, credentials, region (and AWS_CA_BUNDLE with tls), for child processes. */
  env: Record<string, string>;
  /** The sandbox's time: `clock.advance(seconds)` runs due rotations and deletions. */
  clock: VirtualClock;
  /** Configurations for another seeded identity. */
  configFor(credentials: ClientCredentials): { kms: ClientConfig; s3: ClientConfig };
  /** Forgets all keys, events, buckets and objects; endpoints, credentials and clock stay. */
  reset(): Promise<void>;
  stop(): Promise<void>;
  /** The underlying Sealbox, for what the fixture does not wrap. */
  sealbox: Sealbox;
}

/**
 * Starts KMS and S3 in this process on free ports, keeping everything in memory, for a test suite.
 *
 *   const sandbox = await startSandbox({ seed: { accounts: [...] } });
 *   const kms = new KMSClient(sandbox.kmsConfig);
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const region = options.region ?? 'us-east-1';
  const seed = options.seed;
  const sealbox = await startSealbox({
    kmsPort: 0,
    s3Port: 0,
    region,
    tls: options.tls ?? false,
    allowHttpSseKms: !options.tls,
    enforceKmsPolicies: options.enforceKmsPolicies,
    ...(typeof seed === 'string' ? { seed } : seed ? { seedData: parseSeed(JSON.stringify(seed), 'seed') } : {}),
  });
  const agent = sealbox.ca ? new Agent({ ca: sealbox.ca, keepAlive: true }) : undefined;
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const configFor = (c: ClientCredentials) => ({
    kms: { endpoint: sealbox.kms!.url, region, credentials: { ...c }, ...(agent ? { requestHandler: { httpsAgent: agent } } : {}) },
    s3: { endpoint: sealbox.s3!.url, region, credentials: { ...c }, forcePathStyle: true, ...(agent ? { requestHandler: { httpsAgent: agent } } : {}) },
  });
  const own = configFor(credentials);
  return {
    region,
    credentials,
    kms: { endpoint: sealbox.kms!.url },
    s3: { endpoint: sealbox.s3!.url },
    kmsConfig: own.kms,
    s3Config: own.s3,
    env: {
      AWS_ENDPOINT_URL_KMS: sealbox.kms!.url,
      AWS_ENDPOINT_URL_S3: sealbox.s3!.url,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      ...(sealbox.caBundle ? { AWS_CA_BUNDLE: sealbox.caBundle } : {}),
    },
    clock: sealbox.clock,
    configFor,
    reset: () => sealbox.reset(),
    stop: async () => {
      agent?.destroy();
      await sealbox.stop();
    },
    sealbox,
  };
}
