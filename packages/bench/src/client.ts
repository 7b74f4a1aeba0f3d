import { createHash } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import aws4 from 'aws4';
import { SigningKeys, canSignFast, signFast } from './sign';

export interface Endpoint {
  host: string;
  port: number;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** One request as a scenario describes it, before signing. Bodies are built once and reused. */
export interface RequestSpec {
  service: 'kms' | 's3';
  method: string;
  /** Path and query, already URI-encoded. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /**
   * For S3 bodies: their SHA-256 (hex), computed once when the body was built, sent as
   * x-amz-content-sha256 so the payload is signed without hashing it again on every request.
   */
  bodySha256?: string;
}

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, when the caller asked to keep it or the status is not 2xx; otherwise only its length is counted. */
  body?: Buffer;
  bodyLength: number;
}

export function sha256Hex(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** SHA-256 (hex) of KMS request bodies, which scenarios build once and reuse. */
const bodyHashes = new WeakMap<Buffer, string>();

function bodyHash(body: Buffer | undefined): string {
  if (!body) return EMPTY_SHA256;
  let hash = bodyHashes.get(body);
  if (hash === undefined) {
    hash = sha256Hex(body);
    bodyHashes.set(body, hash);
  }
  return hash;
}

/**
 * A SigV4 HTTP client over keep-alive connections: at most `maxSockets` sockets, reused from one
 * request to the next. Each request is signed afresh (a new X-Amz-Date, canonical request and
 * signature), as any real client does; the signing key is derived once per day, region and
 * service, and a reused body's SHA-256 is computed once (`signFast`; requests it does not cover
 * are signed by aws4). The client runs on the same cores as the server it measures, so what it
 * saves goes to whichever server is measured, moto and the ceiling alike.
 */
export class SignedClient {
  readonly agent: Agent;
  private readonly keys = new SigningKeys();

  constructor(
    readonly endpoint: Endpoint,
    readonly credentials: Credentials,
    readonly region: string,
    maxSockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' });
  }

  /** Signs and sends one request; resolves once the whole response has arrived. */
  send(spec: RequestSpec, keepBody = false): Promise<Response> {
    const headers: Record<string, string | number> = { ...spec.headers };
    if (spec.service === 's3') headers['X-Amz-Content-Sha256'] = spec.bodySha256 ?? (spec.body ? sha256Hex(spec.body) : EMPTY_SHA256);
    if (spec.body) headers['Content-Length'] = spec.body.length;
    const host = `${this.endpoint.host}:${this.endpoint.port}`;
    if ((!spec.body || hasContentType(headers)) && canSignFast(spec.path, headers)) {
      const payloadHash = spec.service === 's3' ? (headers['X-Amz-Content-Sha256'] as string) : bodyHash(spec.body);
      const signedHeaders = signFast(
        {
          method: spec.method,
          path: spec.path,
          host,
          service: spec.service,
          region: this.region,
          headers,
          payloadHash,
          accessKeyId: this.credentials.accessKeyId,
          secretAccessKey: this.credentials.secretAccessKey,
          now: Date.now(),
        },
        this.keys,
      );
      return this.transmit(spec, spec.path, signedHeaders, keepBody);
    }
    const signed = aws4.sign(
      {
        host: this.endpoint.host,
        port: this.endpoint.port,
        method: spec.method,
        path: spec.path,
        service: spec.service,
        region: this.region,
        headers,
        body: spec.body,
      },
      this.credentials,
    );
    return this.transmit(spec, signed.path as string, signed.headers as Record<string, string | number>, keepBody);
  }

  private transmit(spec: RequestSpec, path: string, headers: Record<string, string | number>, keepBody: boolean): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const req = httpRequest(
        {
          agent: this.agent,
          host: this.endpoint.host,
          port: this.endpoint.port,
          method: spec.method,
          path,
          headers,
        },
        (res) => {
          // Failures keep their body too: its error code says what went wrong.
          const keep = keepBody || (res.statusCode ?? 0) >= 300;
          const chunks: Buffer[] = [];
          let length = 0;
          res.on('data', (chunk: Buffer) => {
            length += chunk.length;
            if (keep) chunks.push(chunk);
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: keep ? Buffer.concat(chunks) : undefined,
              bodyLength: length,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(spec.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export const EMPTY_SHA256 = sha256Hex('');

function hasContentType(headers: Record<string, unknown>): boolean {
  for (const name in headers) if (name.toLowerCase() === 'content-type') return true;
  return false;
}

/** "503 SlowDown: Please reduce..." from a response, for error samples. */
export function describeFailure(res: Response): string {
  const text = res.body ? res.body.toString('utf8', 0, Math.min(res.body.length, 300)) : '';
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? /"__type"\s*:\s*"([^"]+)"/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? /"[Mm]essage"\s*:\s*"([^"]*)"/.exec(text)?.[1];
  return [String(res.status), code, message].filter(Boolean).join(' ').slice(0, 200) || `HTTP ${res.status}`;
}
