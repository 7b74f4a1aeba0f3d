import { Agent } from 'node:https';
import { formatExplanation, parseSeed, startSealbox, type Explanation, type Sealbox } from 'sealbox';
import type { SealboxOptions } from 'sealbox';
import type { FaultRule, FaultRuleInput, SnapshotInfo, VirtualClock } from '@sealbox/runtime';

/** What addFault rejects with (a rule AWS's model does not allow), and the snapshot methods (a bad name, none of that name, over the limits). */
export { FaultRuleError, FixtureError } from '@sealbox/runtime';
export type { FaultRule, FaultRuleInput, SnapshotInfo, DecisionRecord, RequestSummary } from '@sealbox/runtime';
export type { Explanation } from 'sealbox';

/**
 * A seed: the path of a YAML or JSON seed file, or the seed itself as an object, with the seed
 * file's sections (faults: rules in force from the start and again after every reset; kmsQuotas:
 * `'aws'`, or quota names to calls per second, with `aws: true` to keep AWS's others).
 */
export type SeedInput =
  | string
  | {
      accounts?: unknown[];
      keys?: unknown[];
      buckets?: unknown[];
      faults?: FaultRuleInput[];
      kmsQuotas?: 'aws' | { aws?: boolean; [quota: string]: number | boolean | undefined };
    };

export interface SandboxOptions {
  seed?: SeedInput;
  /**
   * A `sealbox export` archive to start from, loaded into memory: build a large fixture once,
   * export it, and every suite starts from it in milliseconds. reset() returns to it.
   */
  snapshot?: string;
  /** The passphrase the archive was sealed with (sealbox export --passphrase-env). */
  snapshotPassphrase?: string;
  /** Region of the S3 endpoint and of the client configurations (default us-east-1). */
  region?: string;
  /**
   * Serve HTTPS with a generated CA (the client configurations trust it). Off by default: the
   * fixture then accepts SSE-KMS and SSE-C over plain HTTP, which AWS would refuse.
   */
  tls?: boolean;
  /** Evaluate KMS key policies, IAM policies and grants (default true). */
  enforceKmsPolicies?: boolean;
  /**
   * KMS request quotas, off by default: `{ aws: true }` for AWS's defaults, or rates by quota name
   * (`{ rates: { symmetric: 50 } }`); over them calls get ThrottlingException.
   */
  kmsQuotas?: SealboxOptions['kmsQuotas'];
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
  /** The sandbox's time: `await clock.advance(seconds)` runs due rotations and deletions (it takes effect at the next whole second and resolves a second later). */
  clock: VirtualClock;
  /** Configurations for another seeded identity. */
  configFor(credentials: ClientCredentials): { kms: ClientConfig; s3: ClientConfig };
  /**
   * Back to the starting state (empty, the seed, or the snapshot archive): keys, events, buckets,
   * objects and the clock's offset; endpoints and credentials stay. POST /_sealbox/reset does
   * the same for a process that does not hold this object.
   */
  reset(): Promise<void>;
  /** Saves the whole state (clock included) under `name`, in memory (at most 32, 1 GiB together). */
  snapshot(name: string): Promise<SnapshotInfo>;
  /** Returns to a saved state; it stays saved, to restore again. */
  restore(name: string): Promise<void>;
  deleteSnapshot(name: string): Promise<void>;
  /**
   * Fault injection (the same rules as POST /_sealbox/faults): `await sandbox.addFault({ service:
   * 'kms', operation: 'GenerateDataKey', error: 'ThrottlingException', count: 2 })`. Returns the
   * rule with its id; a rule AWS's model would not allow is refused (FaultRuleError).
   */
  addFault(rule: FaultRuleInput): Promise<FaultRule>;
  removeFault(id: string): Promise<boolean>;
  /** Every rule, with how often each has fired and how many times it has left. */
  listFaults(): Promise<FaultRule[]>;
  /** Removes every rule (reset() does too). */
  clearFaults(): Promise<void>;
  /**
   * Why a request was allowed or denied, by the request id an SDK error carries
   * (`err.$metadata.requestId`): its decision records (principal, action, resource, context keys,
   * every policy considered, the deciding statement or grant), and the KMS requests an S3 request
   * made. `text` is what `sealbox explain` prints, for a failing test's message:
   *
   *   catch (err) { throw new Error(sandbox.explain(err.$metadata.requestId)?.text ?? String(err)); }
   *
   * Undefined when neither service has the id (each keeps its last 10,000 requests; reset clears).
   */
  explain(requestId: string): (Explanation & { text: string }) | undefined;
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
    kmsQuotas: options.kmsQuotas,
    snapshot: options.snapshot,
    snapshotPassphrase: options.snapshotPassphrase,
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
    snapshot: async (name) => sealbox.snapshot(name),
    restore: async (name) => sealbox.restore(name),
    deleteSnapshot: async (name) => sealbox.deleteSnapshot(name),
    addFault: async (rule) => sealbox.faults.add(rule),
    removeFault: async (id) => sealbox.faults.remove(id),
    listFaults: async () => sealbox.faults.list(),
    clearFaults: async () => sealbox.faults.clear(),
    explain: (requestId) => {
      const found = sealbox.explain(requestId);
      return found && { ...found, text: formatExplanation(found) };
    },
    stop: async () => {
      agent?.destroy();
      await sealbox.stop();
    },
    sealbox,
  };
}
