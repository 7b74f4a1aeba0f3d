import { createHash } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import aws4 from 'aws4';

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

/**
 * A SigV4 HTTP client over keep-alive connections: at most `maxSockets` sockets, reused from one
 * request to the next. Each request is signed afresh (a new X-Amz-Date), which is part of what
 * any real client pays.
 */
export class SignedClient {
  readonly agent: Agent;

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
    return new Promise<Response>((resolve, reject) => {
      const req = httpRequest(
        {
          agent: this.agent,
          host: this.endpoint.host,
          port: this.endpoint.port,
          method: spec.method,
          path: signed.path,
          headers: signed.headers,
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

/** "503 SlowDown: Please reduce..." from a response, for error samples. */
export function describeFailure(res: Response): string {
  const text = res.body ? res.body.toString('utf8', 0, Math.min(res.body.length, 300)) : '';
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? /"__type"\s*:\s*"([^"]+)"/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? /"[Mm]essage"\s*:\s*"([^"]*)"/.exec(text)?.[1];
  return [String(res.status), code, message].filter(Boolean).join(' ').slice(0, 200) || `HTTP ${res.status}`;
}
