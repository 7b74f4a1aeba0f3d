import { randomBytes } from 'node:crypto';
import { applyKmsSeed, KmsCore, KmsSeedError, seedKeysToJson } from '@sealbox/kms';
import type { Clock } from '@sealbox/runtime';
import { DEFAULT_CREDENTIALS, type Credentials } from '@sealbox/sigv4';
import { SeedError, type Seed, type SeedReport } from './seed';
import type { ProgressSink } from './progress';
import { applyS3Seed } from './seed-s3';

/**
 * Checks what parsing cannot: the keys against a throwaway in-memory KMS (so key policies, tags,
 * aliases and grants meet the KMS's own validation before anything listens), and that the
 * services the seed needs will run. Throws a SeedError naming the line.
 */
export async function checkSeed(
  seed: Seed,
  options: { clock: Clock; principalExists?: (arn: string) => boolean; only?: 'kms' | 's3'; sseKmsOverHttp: boolean },
): Promise<void> {
  if (seed.keys.length && options.only === 's3') throw new SeedError(`${seed.keys[0]!.at}: the seed declares KMS keys but only S3 is started`);
  if (seed.buckets.length && options.only === 'kms') throw new SeedError(`${seed.buckets[0]!.at}: the seed declares buckets but only KMS is started`);
  if (!options.sseKmsOverHttp) {
    for (const o of seed.buckets.flatMap((b) => b.objects ?? [])) {
      if (o.sse && o.sse.algorithm !== 'AES256') {
        throw new SeedError(`${o.sseAt ?? o.at}: S3 accepts SSE-KMS request headers only over TLS: start with --tls or --allow-http-sse-kms (or rely on the bucket's default encryption)`);
      }
    }
  }
  const scratch = new KmsCore({ clock: options.clock });
  try {
    await applyKmsSeed(scratch, seed.keys, { principalExists: options.principalExists });
  } catch (err) {
    if (err instanceof KmsSeedError) throw new SeedError(err.message);
    throw err;
  } finally {
    scratch.close();
  }
}

export const mergeReports = (...reports: SeedReport[]): SeedReport => ({
  created: reports.flatMap((r) => r.created),
  skipped: reports.flatMap((r) => r.skipped),
});

/** "seeded: 3 created, 1 skipped" */
export const seedSummary = (r: SeedReport): string => `seeded: ${r.created.length} created, ${r.skipped.length} skipped`;

/** Applies a seed to a Sealbox in this process: keys through its KmsCore, buckets through its S3 endpoint. */
export async function applySeedInProcess(
  seed: Seed,
  target: {
    core?: KmsCore;
    s3Endpoint?: string;
    region: string;
    ca?: string;
    credentials: { list(): Credentials[]; add(c: Credentials): void; principalExists?(arn: string): boolean };
    progress?: ProgressSink;
  },
): Promise<SeedReport> {
  const kms = target.core ? await applyKmsSeed(target.core, seed.keys, { principalExists: (arn) => target.credentials.principalExists?.(arn) ?? false }) : { created: [], skipped: [] };
  // The seeded keys are on disk before Sealbox says it is ready (no call's record flushes kms.db for them).
  if (target.core) await target.core.trail.settled();
  if (!seed.buckets.length || !target.s3Endpoint) return kms;
  // Buckets are created by their account's root: a root credential of the account if one is
  // configured, else a transient one whose secret never leaves this process.
  const credentialsFor = (accountId: string): Credentials => {
    const root = `arn:aws:iam::${accountId}:root`;
    const found = target.credentials.list().find((c) => c.accountId === accountId && c.principalArn === root && !c.service && !c.sessionToken);
    if (found) return found;
    const transient: Credentials = { accessKeyId: `SEALBOXSEED${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64'), accountId, principalArn: root };
    target.credentials.add(transient);
    return transient;
  };
  const s3 = await applyS3Seed(target.s3Endpoint, seed.buckets, credentialsFor, { region: target.region, ca: target.ca, progress: target.progress });
  return mergeReports(kms, s3);
}

/**
 * Applies a seed to a running Sealbox (`sealbox seed FILE`): keys through POST /_sealbox/seed on
 * the KMS port (loopback only), buckets through the S3 API signed as each bucket's account root
 * (the seed's root credentials for the account, or test/test for 000000000000).
 */
export async function applySeedRemote(
  seed: Seed,
  target: { kmsEndpoint?: string; s3Endpoint?: string; region: string; ca?: string; progress?: ProgressSink },
): Promise<SeedReport> {
  let kms: SeedReport = { created: [], skipped: [] };
  if (seed.keys.length) {
    if (!target.kmsEndpoint) throw new SeedError('the seed declares KMS keys: give --kms-endpoint');
    const res = await fetch(new URL('/_sealbox/seed', target.kmsEndpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keys: seedKeysToJson(seed.keys) }),
    });
    const body = (await res.json().catch(() => ({}))) as SeedReport & { error?: string };
    if (!res.ok) throw new SeedError(body.error ?? `POST /_sealbox/seed answered ${res.status}`);
    kms = { created: body.created, skipped: body.skipped };
  }
  if (!seed.buckets.length) return kms;
  if (!target.s3Endpoint) throw new SeedError('the seed declares buckets: give --s3-endpoint');
  const credentialsFor = (accountId: string): Credentials => {
    const root = `arn:aws:iam::${accountId}:root`;
    const found = [DEFAULT_CREDENTIALS, ...seed.credentials].find((c) => c.accountId === accountId && c.principalArn === root);
    if (!found) throw new SeedError(`a bucket of account ${accountId} needs that account's root credentials: declare accounts[].root in the seed`);
    return found;
  };
  return mergeReports(kms, await applyS3Seed(target.s3Endpoint, seed.buckets, credentialsFor, { region: target.region, ca: target.ca, progress: target.progress }));
}
