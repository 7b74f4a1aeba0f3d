import { describeFailure, type RequestSpec, type SignedClient } from './client';
import type { MultipartPrepared, Body } from './scenarios';
import { makeBody } from './scenarios';
import { newSamples, recordError, summarise, type Stats } from './stats';
import { sampleRss, type RssSummary } from './targets';

export interface MultipartOptions {
  totalBytes: number;
  partBytes: number;
  /** Parts uploaded in parallel. */
  concurrency: number;
  /** Check the answers' content (off against the bare server, which answers with nothing). */
  verify: boolean;
  /** A process whose RSS is sampled during the upload (the server's). */
  rssPid?: number;
}

export interface MultipartStats extends Stats {
  /** Wall time of the whole upload: create, every part, complete. */
  totalSeconds: number;
  parts: number;
  rss: RssSummary | null;
}

const partBodies = new Map<number, Body>();

/** One random part body of each size, reused by every part and every run (built once). */
function partBody(size: number): Body {
  let body = partBodies.get(size);
  if (!body) {
    body = makeBody(size);
    partBodies.set(size, body);
  }
  return body;
}

/**
 * One multipart upload of `totalBytes` (CreateMultipartUpload, UploadPart with `concurrency`
 * parts in flight, CompleteMultipartUpload), timed as a whole. ops/s are parts per second over
 * the whole upload, latencies those of the parts, MiB/s the object's size over the total time.
 * The object is checked (HEAD) and deleted afterwards, untimed.
 */
export async function runMultipart(client: SignedClient, prepared: MultipartPrepared, options: MultipartOptions): Promise<MultipartStats> {
  const { bucket, key } = prepared;
  const objectPath = `/${bucket}/${encodeURIComponent(key)}`;
  const parts = Math.ceil(options.totalBytes / options.partBytes);
  const fullPart = partBody(options.partBytes);
  const lastSize = options.totalBytes - (parts - 1) * options.partBytes;
  const lastPart = lastSize === options.partBytes ? fullPart : partBody(lastSize);
  const samples = newSamples();
  const etags: string[] = new Array(parts);
  const rss = options.rssPid !== undefined ? sampleRss(options.rssPid) : undefined;

  const t0 = process.hrtime.bigint();
  try {
    const created = await client.send({ service: 's3', method: 'POST', path: `${objectPath}?uploads`, headers: prepared.createHeaders }, true);
    let uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body?.toString('utf8') ?? '')?.[1];
    if (created.status !== 200 || (!uploadId && options.verify)) {
      recordError(samples, `CreateMultipartUpload: ${describeFailure(created)}`);
      return { ...summarise(samples, 0, true), totalSeconds: 0, parts, rss: rss?.stop() ?? null };
    }
    uploadId ??= 'ceiling';
    const query = `uploadId=${encodeURIComponent(uploadId)}`;

    let nextPart = 1;
    const worker = async () => {
      while (nextPart <= parts) {
        const partNumber = nextPart++;
        const body = partNumber === parts ? lastPart : fullPart;
        const spec: RequestSpec = {
          service: 's3',
          method: 'PUT',
          path: `${objectPath}?partNumber=${partNumber}&${query}`,
          headers: { 'Content-Type': 'application/octet-stream' },
          body: body.bytes,
          bodySha256: body.sha256,
        };
        const p0 = process.hrtime.bigint();
        try {
          const res = await client.send(spec);
          const p1 = process.hrtime.bigint();
          const etag = res.headers.etag;
          if (res.status !== 200 || (!etag && options.verify)) {
            recordError(samples, `UploadPart: ${describeFailure(res)}`);
          } else {
            etags[partNumber - 1] = etag ?? '"ceiling"';
            samples.latenciesNs.push(Number(p1 - p0));
            samples.bytes += body.bytes.length;
          }
        } catch (err) {
          recordError(samples, `UploadPart: network error: ${(err as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, parts) }, worker));

    const xml =
      '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`).join('') +
      '</CompleteMultipartUpload>';
    const completed = await client.send({ service: 's3', method: 'POST', path: `${objectPath}?${query}`, headers: { 'Content-Type': 'application/xml' }, body: Buffer.from(xml) }, true);
    const t1 = process.hrtime.bigint();
    const rssSummary = rss?.stop() ?? null;
    // CompleteMultipartUpload can fail with 200 and an <Error> body once it has started answering.
    if (completed.status !== 200 || /<Error>/.test(completed.body?.toString('utf8') ?? '')) {
      recordError(samples, `CompleteMultipartUpload: ${describeFailure(completed)}`);
    } else if (options.verify) {
      const head = await client.send({ service: 's3', method: 'HEAD', path: objectPath });
      const length = Number(head.headers['content-length']);
      if (head.status !== 200 || length !== options.totalBytes) recordError(samples, `HeadObject after the upload: ${head.status}, ${length} bytes, expected ${options.totalBytes}`);
    }
    await client.send({ service: 's3', method: 'DELETE', path: objectPath }).catch(() => undefined);

    const totalSeconds = Number(t1 - t0) / 1e9;
    return { ...summarise(samples, totalSeconds, true), totalSeconds, parts, rss: rssSummary };
  } finally {
    rss?.stop();
  }
}
