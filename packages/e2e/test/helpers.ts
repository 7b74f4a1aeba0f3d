import { execFile } from 'node:child_process';
import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { startSealbox, type Sealbox, type SealboxOptions } from '@sealbox/cli';

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** A Sealbox on free ports, in memory, silent. */
export function startTestSealbox(options: SealboxOptions = {}): Promise<Sealbox> {
  return startSealbox({ kmsPort: 0, s3Port: 0, ...options });
}

/** SDK clients never retry in these tests, so each request is seen exactly once. */
export function kmsClient(sealbox: Sealbox, config: Partial<KMSClientConfig> = {}): KMSClient {
  return new KMSClient({ endpoint: sealbox.kms!.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1, ...config });
}

export function s3Client(sealbox: Sealbox, config: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: sealbox.s3!.url,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
    forcePathStyle: true,
    maxAttempts: 1,
    ...config,
  });
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with a clean AWS environment (no config files, the given variables). */
export function runCommand(command: string, args: string[], env: Record<string, string>): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_MAX_ATTEMPTS: '1',
          AWS_RETRY_MODE: 'standard',
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Tries an SDK call and returns the error it fails with. */
export async function failure(promise: Promise<unknown>): Promise<Error & { name: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { name: string };
  }
  throw new Error('expected the call to fail');
}
