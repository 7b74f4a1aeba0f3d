import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createSecureContext, rootCertificates } from 'node:tls';
import type { Credentials } from '@sealbox/sigv4';
import aws4 from 'aws4';
import { S3Error } from './errors';

/** Where a KMS call's request id (x-amzn-RequestId) is noted: the S3 request it is made for. */
export interface KmsCallTrace {
  kmsRequestIds?: string[];
}

/** The KMS operations S3 needs, on behalf of the caller of an S3 request. */
export interface KmsClient {
  generateDataKey(caller: Credentials, region: string, keyId: string, context: Record<string, string>, trace?: KmsCallTrace): Promise<{ plaintext: Buffer; ciphertextBlob: Buffer; keyArn: string }>;
  decrypt(caller: Credentials, region: string, ciphertextBlob: Buffer, context: Record<string, string>, keyId: string, trace?: KmsCallTrace): Promise<Buffer>;
}

export interface HttpKmsClientOptions {
  endpoint: string;
  /**
   * S3's own credential, trusted by the KMS of the same Sealbox to act for the caller (named in
   * x-sealbox-on-behalf-of). Without it (another KMS endpoint), requests are signed with the
   * caller's own credentials.
   */
  serviceCredentials?: Credentials;
  /**
   * Headers sent with every call made with serviceCredentials: the KMS of the same sandbox routes
   * a call carrying its state's token to that state (a request in flight across a reset).
   */
  serviceHeaders?: Record<string, string>;
  timeoutMs?: number;
  /**
   * CA certificates (PEM) to trust for an HTTPS endpoint, beside the public roots: this Sealbox's
   * own local CA, and for another KMS (`--kms-endpoint`) the bundle its user trusts.
   */
  ca?: string | readonly string[];
  /** Told when KMS cannot be reached at all (refused, reset, untrusted certificate), at most every 10 s. */
  onUnreachable?: (endpoint: string, err: Error) => void;
}

const UNREACHABLE_REPORT_MS = 10_000;

/** KMS's JSON errors as S3 reports them: KMS.<code> with KMS's message; access denial is 403. */
function s3ErrorFromKms(type: string, message: string | undefined): S3Error {
  if (type === 'AccessDeniedException') return new S3Error('AccessDenied', 403, message ?? 'Access Denied');
  if (type === 'UnrecognizedClientException' || type === 'InvalidSignatureException') {
    return new S3Error('KMS.' + type, 403, message ?? '');
  }
  // KMS throttling S3's own call: S3 answers 503 SlowDown with its own message, which SDKs back
  // off and retry (recorded: "Please reduce your request rate for operations involving AWS KMS.
  // (Service: Amazon S3; Status Code: 503; Error Code: SlowDown ...)",
  // https://github.com/aws-samples/cql-replicator/issues/92).
  if (type === 'ThrottlingException') return new S3Error('SlowDown', 503, 'Please reduce your request rate for operations involving AWS KMS.');
  if (type === 'KMSInternalException' || type === 'DependencyTimeoutException') return new S3Error('KMS.' + type, 500, message ?? '');
  return new S3Error('KMS.' + type, 400, message ?? '');
}

/**
 * S3's client for KMS: the KMS JSON 1.1 protocol over HTTP(S), signed with SigV4 (aws4), with
 * keep-alive connections and a bounded wait.
 */
export class HttpKmsClient implements KmsClient {
  private readonly url: URL;
  /**
   * The address to dial: an IPv6 literal without the brackets URL keeps on it (`[::1]` would be
   * looked up as a host name and fail, so `--host ::1`, `--host ::` and `--kms-endpoint
   * http://[::1]:PORT` left every SSE-KMS request answering 503).
   */
  private readonly hostname: string;
  private readonly agent: HttpAgent | HttpsAgent;
  private lastUnreachableReport = -Infinity;

  constructor(private readonly options: HttpKmsClientOptions) {
    this.url = new URL(options.endpoint);
    this.hostname = this.url.hostname.replace(/^\[(.*)\]$/, '$1');
    // A `ca` list replaces Node's roots, so they are added back: a KMS with a public certificate
    // stays trusted beside the local CAs.
    const extra = options.ca === undefined ? [] : typeof options.ca === 'string' ? [options.ca] : options.ca;
    // The trust goes in as one secure context, made once: a `ca` option is part of the name the
    // agent files its sockets under, built afresh for every request (the public roots and the
    // local CAs, some 200 KB, concatenated and hashed per KMS call).
    const secureContext = extra.length ? createSecureContext({ ca: [...rootCertificates, ...extra] }) : undefined;
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, secureContext }) : new HttpAgent({ keepAlive: true });
  }

  /** A KMS that cannot be reached fails every SSE-KMS request; the operator gets one line saying why. */
  private unreachable(err: Error): void {
    const now = Date.now();
    if (now - this.lastUnreachableReport < UNREACHABLE_REPORT_MS) return;
    this.lastUnreachableReport = now;
    const report = this.options.onUnreachable ?? ((endpoint: string, e: Error) => process.stderr.write(`sealbox s3: cannot reach KMS at ${endpoint}: ${(e as NodeJS.ErrnoException).code ?? e.message}; SSE-KMS requests answer 503 until it answers\n`));
    report(this.options.endpoint, err);
  }

  private call(caller: Credentials, region: string, operation: string, input: Record<string, unknown>, trace?: KmsCallTrace): Promise<Record<string, unknown>> {
    const body = JSON.stringify(input);
    const signer = this.options.serviceCredentials ?? caller;
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `TrentService.${operation}`,
    };
    if (this.options.serviceCredentials) Object.assign(headers, this.options.serviceHeaders, { 'x-sealbox-on-behalf-of': caller.accessKeyId });
    const req = aws4.sign(
      { host: this.url.host, path: '/', method: 'POST', service: 'kms', region, body, headers },
      { accessKeyId: signer.accessKeyId, secretAccessKey: signer.secretAccessKey, sessionToken: signer.sessionToken },
    );
    const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const r = send(
        { hostname: this.hostname, port: this.url.port, path: '/', method: 'POST', headers: req.headers as Record<string, string>, agent: this.agent, timeout: this.options.timeoutMs ?? 10_000 },
        (res) => {
          // The S3 request log links the KMS request (its decision record) to the S3 request.
          const kmsRequestId = res.headers['x-amzn-requestid'];
          if (trace && typeof kmsRequestId === 'string') (trace.kmsRequestIds ??= []).push(kmsRequestId);
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let parsed: Record<string, unknown>;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
            } catch {
              reject(new S3Error('KMS.KMSInternalException', 500, 'KMS returned an unreadable response'));
              return;
            }
            if (res.statusCode === 200) resolve(parsed);
            else reject(s3ErrorFromKms(String(parsed.__type ?? 'KMSInternalException').replace(/^.*#/, ''), parsed.message as string | undefined));
          });
          res.on('error', reject);
        },
      );
      r.on('timeout', () => r.destroy(new S3Error('KMS.DependencyTimeoutException', 500, 'KMS did not answer in time')));
      r.on('error', (err) => {
        if (err instanceof S3Error) return reject(err);
        this.unreachable(err);
        reject(new S3Error('ServiceUnavailable', 503, 'Please reduce your request rate.'));
      });
      r.end(body);
    });
  }

  async generateDataKey(caller: Credentials, region: string, keyId: string, context: Record<string, string>, trace?: KmsCallTrace) {
    const out = await this.call(caller, region, 'GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }, trace);
    return {
      plaintext: Buffer.from(out.Plaintext as string, 'base64'),
      ciphertextBlob: Buffer.from(out.CiphertextBlob as string, 'base64'),
      keyArn: out.KeyId as string,
    };
  }

  async decrypt(caller: Credentials, region: string, ciphertextBlob: Buffer, context: Record<string, string>, keyId: string, trace?: KmsCallTrace) {
    const out = await this.call(caller, region, 'Decrypt', { CiphertextBlob: ciphertextBlob.toString('base64'), EncryptionContext: context, KeyId: keyId }, trace);
    return Buffer.from(out.Plaintext as string, 'base64');
  }

  close(): void {
    this.agent.destroy();
  }
}
