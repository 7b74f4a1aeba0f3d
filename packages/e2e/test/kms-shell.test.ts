/** The KMS service shell through @aws-sdk/client-kms and raw HTTP: protocol, auth, GenerateRandom. */
import { GenerateRandomCommand, KMSClient } from '@aws-sdk/client-kms';
import { KMS_OPERATIONS } from '@sealbox/kms';
import type { Sealbox } from '@sealbox/cli';
import aws4 from 'aws4';
import { failure, kmsClient, startTestSealbox } from './helpers';

let sealbox: Sealbox;
let kms: KMSClient;

beforeAll(async () => {
  sealbox = await startTestSealbox({ users: [{ accessKeyId: 'AKIDOTHER', secretAccessKey: 'other-secret', accountId: '111111111111', principalArn: 'arn:aws:iam::111111111111:root' }] });
  kms = kmsClient(sealbox);
});
afterAll(async () => {
  kms.destroy();
  await sealbox.stop();
});

/** A signed KMS request made by hand, to see exactly what comes back. */
async function rawKms(target: string | undefined, body: string, options: { sign?: boolean; contentType?: string; secret?: string } = {}) {
  const url = new URL(sealbox.kms!.url);
  const headers: Record<string, string> = { 'Content-Type': options.contentType ?? 'application/x-amz-json-1.1' };
  if (target) headers['X-Amz-Target'] = target;
  const request = { host: url.host, path: '/', method: 'POST', service: 'kms', region: 'us-east-1', body, headers };
  if (options.sign !== false) aws4.sign(request, { accessKeyId: 'test', secretAccessKey: options.secret ?? 'test' });
  const res = await fetch(`${sealbox.kms!.url}/`, { method: 'POST', headers: request.headers, body });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

describe('GenerateRandom', () => {
  it.each([1, 32, 1024])('returns %i random bytes', async (n) => {
    const out = await kms.send(new GenerateRandomCommand({ NumberOfBytes: n }));
    expect(out.Plaintext).toHaveLength(n);
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('returns different bytes each time', async () => {
    const a = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 32 }));
    const b = await kms.send(new GenerateRandomCommand({ NumberOfBytes: 32 }));
    expect(Buffer.from(a.Plaintext!).equals(Buffer.from(b.Plaintext!))).toBe(false);
  });

  it.each([
    [1025, "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024"],
    [0, "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1"],
    [undefined, 'NumberOfBytes is required.'],
  ])('NumberOfBytes %s is a ValidationException', async (n, message) => {
    const err = await failure(kms.send(new GenerateRandomCommand({ NumberOfBytes: n })));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toBe(message);
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });

  it('reports several violations at once', async () => {
    const res = await rawKms('TrentService.GenerateRandom', JSON.stringify({ NumberOfBytes: 5000, CustomKeyStoreId: '' }));
    expect(res.json).toEqual({
      __type: 'ValidationException',
      message:
        "2 validation errors detected: Value '5000' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024; Value '' at 'customKeyStoreId' failed to satisfy constraint: Member must have length greater than or equal to 1",
    });
  });

  it('a custom key store that does not exist', async () => {
    const err = await failure(kms.send(new GenerateRandomCommand({ NumberOfBytes: 8, CustomKeyStoreId: 'cks-1234567890abcdef0' })));
    expect(err.name).toBe('CustomKeyStoreNotFoundException');
  });
});

describe('authentication', () => {
  it('a wrong secret is InvalidSignatureException', async () => {
    const client = kmsClient(sealbox, { credentials: { accessKeyId: 'test', secretAccessKey: 'wrong' } });
    const err = await failure(client.send(new GenerateRandomCommand({ NumberOfBytes: 8 })));
    expect(err.name).toBe('InvalidSignatureException');
    expect(err.message).toBe(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });

  it('an unknown access key is UnrecognizedClientException', async () => {
    const client = kmsClient(sealbox, { credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' } });
    const err = await failure(client.send(new GenerateRandomCommand({ NumberOfBytes: 8 })));
    expect(err.name).toBe('UnrecognizedClientException');
    expect(err.message).toBe('The security token included in the request is invalid.');
  });

  it('a second account configured with --user works', async () => {
    const client = kmsClient(sealbox, { credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'other-secret' } });
    await expect(client.send(new GenerateRandomCommand({ NumberOfBytes: 8 }))).resolves.toHaveProperty('Plaintext');
  });

  it('a request for another region is accepted: KMS serves every region', async () => {
    const client = kmsClient(sealbox, { region: 'eu-central-1' });
    await expect(client.send(new GenerateRandomCommand({ NumberOfBytes: 8 }))).resolves.toHaveProperty('Plaintext');
  });

  it('no signature is MissingAuthenticationTokenException', async () => {
    const res = await rawKms('TrentService.GenerateRandom', '{"NumberOfBytes":8}', { sign: false });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
  });

  it('an Authorization header without its parts is IncompleteSignatureException', async () => {
    const res = await fetch(`${sealbox.kms!.url}/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.GenerateRandom', Authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kms/aws4_request' },
      body: '{}',
    });
    expect(await res.json()).toEqual({
      __type: 'IncompleteSignatureException',
      message:
        "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kms/aws4_request",
    });
  });
});

describe('clock skew', () => {
  it('a client more than 5 minutes behind is "Signature expired"; the SDK recovers from the Date header', async () => {
    const client = kmsClient(sealbox, { systemClockOffset: -6 * 60 * 1000 });
    const err = await failure(client.send(new GenerateRandomCommand({ NumberOfBytes: 8 })));
    expect(err.name).toBe('InvalidSignatureException');
    expect(err.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
    client.destroy();
    const retrying = kmsClient(sealbox, { systemClockOffset: -6 * 60 * 1000, maxAttempts: 2 });
    await expect(retrying.send(new GenerateRandomCommand({ NumberOfBytes: 8 }))).resolves.toHaveProperty('Plaintext');
    retrying.destroy();
  });

  it('advancing the virtual clock is time passing for everyone: clients keep working', async () => {
    const advanced = await startTestSealbox({ only: 'kms' });
    const client = kmsClient(advanced);
    try {
      await advanced.clock.advance(30 * 86400);
      await expect(client.send(new GenerateRandomCommand({ NumberOfBytes: 8 }))).resolves.toHaveProperty('Plaintext');
    } finally {
      client.destroy();
      await advanced.stop();
    }
  });
});

describe('protocol', () => {
  it('all 54 operations of the KMS API are served: none answers "not supported by Sealbox yet"', async () => {
    expect(KMS_OPERATIONS).toHaveLength(54);
    for (const operation of KMS_OPERATIONS) {
      const res = await rawKms(`TrentService.${operation}`, '{}');
      expect(JSON.stringify(res.json)).not.toContain('not supported by Sealbox yet');
      expect(res.status).toBeLessThan(500);
    }
  });

  it('an unknown target is UnknownOperationException, with no message', async () => {
    const res = await rawKms('TrentService.MakeCoffee', '{}');
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ __type: 'UnknownOperationException' });
  });

  it('a body that is not JSON is SerializationException', async () => {
    const res = await rawKms('TrentService.GenerateRandom', '{"NumberOfBytes":');
    expect(res.json).toEqual({ __type: 'SerializationException' });
  });

  it('a member of the wrong type is SerializationException', async () => {
    const res = await rawKms('TrentService.GenerateRandom', '{"NumberOfBytes":"32"}');
    expect(res.json).toEqual({ __type: 'SerializationException', message: 'STRING_VALUE can not be converted to an Integer' });
  });

  it('every response carries x-amzn-RequestId and the JSON 1.1 content type', async () => {
    const res = await rawKms('TrentService.GenerateRandom', '{"NumberOfBytes":4}');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
  });

  it('refuses a body over the size limit without reading it all', async () => {
    const res = await rawKms('TrentService.GenerateRandom', JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.json.__type).toBe('RequestEntityTooLargeException');
  });
});
