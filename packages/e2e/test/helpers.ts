import { execFile } from 'node:child_process';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request } from 'node:https';
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

/**
 * NodeHttpHandler options that make an SDK client trust the CA a `tls: true` Sealbox generated
 * (the SDK's own trust store knows nothing of it).
 */
export function tlsRequestHandler(sealbox: Sealbox): { httpsAgent: Agent } {
  return { httpsAgent: new Agent({ ca: tlsCa(sealbox) }) };
}

/** kmsClient over HTTPS, trusting the Sealbox's CA. */
export function tlsKmsClient(sealbox: Sealbox, config: Partial<KMSClientConfig> = {}): KMSClient {
  return kmsClient(sealbox, { requestHandler: tlsRequestHandler(sealbox), ...config });
}

/** s3Client over HTTPS, trusting the Sealbox's CA. */
export function tlsS3Client(sealbox: Sealbox, config: Partial<S3ClientConfig> = {}): S3Client {
  return s3Client(sealbox, { requestHandler: tlsRequestHandler(sealbox), ...config });
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One raw HTTPS request to a `tls: true` Sealbox, trusting its CA (fetch cannot take a custom CA). */
export function httpsCall(
  sealbox: Sealbox,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, ca: tlsCa(sealbox) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** The environment the AWS CLI and boto3 need for a Sealbox: endpoints, test credentials and, with tls, the CA bundle. */
export function awsEnv(sealbox: Sealbox): Record<string, string> {
  const env: Record<string, string> = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' };
  if (sealbox.kms) env.AWS_ENDPOINT_URL_KMS = sealbox.kms.url;
  if (sealbox.s3) env.AWS_ENDPOINT_URL_S3 = sealbox.s3.url;
  if (sealbox.caBundle) env.AWS_CA_BUNDLE = sealbox.caBundle;
  return env;
}

function tlsCa(sealbox: Sealbox): string {
  if (!sealbox.ca) throw new Error('this Sealbox was started without tls: true');
  return sealbox.ca;
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
