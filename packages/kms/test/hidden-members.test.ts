import model from '../src/model/kms-model.json';
import { hiddenValues, recordedRequest, withoutHidden } from '../src/trail/hidden-members';
import { apiCallEvent, type ApiCall } from '../src/trail/records';

/*
 * The rule that keeps secrets, plaintext and ciphertext out of event records, checked over the
 * whole AWS KMS model: every sensitive member of every operation's request, at any depth.
 */

interface Shape {
  type: string;
  members?: Record<string, { shape: string }>;
  member?: { shape: string };
  sensitive?: boolean;
}
const shapes = model.shapes as Record<string, Shape>;
const operations = model.operations as Record<string, { input: string; output: string | null }>;

const CANARY = 'canary-7f3a9c-SECRET';
const CANARY_B64 = Buffer.from(CANARY).toString('base64');

/** A value of `shape` for a request: the canary in every sensitive place, harmless values elsewhere. */
function fill(shape: Shape, sensitive: boolean, paths: string[], path: string): unknown {
  if (sensitive || shape.sensitive) {
    paths.push(path);
    return shape.type === 'blob' ? CANARY_B64 : CANARY;
  }
  switch (shape.type) {
    case 'structure':
      return Object.fromEntries(Object.entries(shape.members ?? {}).map(([name, ref]) => [name, fill(shapes[ref.shape]!, false, paths, `${path}.${name}`)]));
    case 'list':
      return [fill(shapes[shape.member!.shape]!, false, paths, `${path}[]`)];
    case 'map':
      return { k: 'v' };
    case 'blob':
      return Buffer.from('harmless').toString('base64');
    case 'integer':
    case 'long':
      return 1;
    case 'boolean':
      return true;
    case 'timestamp':
      return 1700000000;
    default:
      return 'x';
  }
}

const requests = Object.entries(operations).map(([operation, op]) => {
  const paths: string[] = [];
  const request = fill(shapes[op.input]!, false, paths, operation) as Record<string, unknown>;
  return { operation, request, paths };
});
const withSecrets = requests.filter((r) => r.paths.length > 0);

const call = (operation: string, request: Record<string, unknown>, extra: Partial<ApiCall> = {}): ApiCall => ({
  credentials: { accessKeyId: 'test', secretAccessKey: 'test', accountId: '000000000000', principalArn: 'arn:aws:iam::000000000000:root' },
  eventName: operation,
  region: 'us-east-1',
  time: 0,
  sourceIp: '127.0.0.1',
  userAgent: 'jest',
  requestId: 'r',
  readOnly: false,
  request,
  responseElements: null,
  resources: [],
  ...extra,
});

describe('members left out of event records', () => {
  it('are found by the model: every password, proxy credential, plaintext and message', () => {
    const all = withSecrets.flatMap((r) => r.paths);
    for (const path of [
      'CreateCustomKeyStore.KeyStorePassword',
      'UpdateCustomKeyStore.KeyStorePassword',
      'CreateCustomKeyStore.XksProxyAuthenticationCredential.AccessKeyId',
      'CreateCustomKeyStore.XksProxyAuthenticationCredential.RawSecretAccessKey',
      'UpdateCustomKeyStore.XksProxyAuthenticationCredential.RawSecretAccessKey',
      'Encrypt.Plaintext',
      'Sign.Message',
      'Verify.Message',
      'GenerateMac.Message',
      'VerifyMac.Message',
    ]) {
      expect(all).toContain(path);
    }
  });

  it.each(withSecrets.map((r) => [r.operation, r]))('%s: no sensitive value reaches requestParameters', (operation, { request }) => {
    const recorded = JSON.stringify(recordedRequest(operation, request));
    expect(recorded).not.toContain(CANARY);
    expect(recorded).not.toContain(CANARY_B64);
    // The rest of the request is recorded.
    expect(Object.keys(JSON.parse(recorded)).length).toBeGreaterThan(0);
  });

  it.each(withSecrets.map((r) => [r.operation, r]))('%s: the whole record, failed or not, holds no sensitive value', (operation, { request }) => {
    const failed = apiCallEvent(call(operation, request, { errorCode: 'ValidationException', errorMessage: `bad value ${CANARY}` }));
    const succeeded = apiCallEvent(call(operation, request));
    for (const event of [failed, succeeded]) {
      expect(event.record).not.toContain(CANARY);
      expect(event.record).not.toContain(CANARY_B64);
    }
  });

  it('leaves the password out of CreateCustomKeyStore as CloudTrail does, keeping the rest', () => {
    const request = { CustomKeyStoreName: 'ExampleKeyStore', CloudHsmClusterId: 'cluster-1a23b4cdefg', TrustAnchorCertificate: 'cert', KeyStorePassword: 'kmsPswd1' };
    expect(recordedRequest('CreateCustomKeyStore', request)).toEqual({ customKeyStoreName: 'ExampleKeyStore', cloudHsmClusterId: 'cluster-1a23b4cdefg', trustAnchorCertificate: 'cert' });
  });

  it('leaves the XKS proxy credential out whole, keeping the proxy settings', () => {
    const request = {
      CustomKeyStoreName: 'xks',
      CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
      XksProxyUriEndpoint: 'https://proxy.example.com',
      XksProxyUriPath: '/kms/xks/v1',
      XksProxyConnectivity: 'PUBLIC_ENDPOINT',
      XksProxyAuthenticationCredential: { AccessKeyId: 'ABCDEFGHIJKLMNOPQRST', RawSecretAccessKey: 'a'.repeat(43) },
    };
    expect(recordedRequest('CreateCustomKeyStore', request)).toEqual({
      customKeyStoreName: 'xks',
      customKeyStoreType: 'EXTERNAL_KEY_STORE',
      xksProxyUriEndpoint: 'https://proxy.example.com',
      xksProxyUriPath: '/kms/xks/v1',
      xksProxyConnectivity: 'PUBLIC_ENDPOINT',
    });
  });

  it('leaves out ciphertexts, signatures, MACs and import material, which CloudTrail does not show either', () => {
    expect(recordedRequest('Decrypt', { CiphertextBlob: 'AAAA', KeyId: 'k', EncryptionContext: { a: 'b' } })).toEqual({ keyId: 'k', encryptionContext: { a: 'b' } });
    expect(recordedRequest('ReEncrypt', { CiphertextBlob: 'AAAA', DestinationKeyId: 'd' })).toEqual({ destinationKeyId: 'd' });
    expect(recordedRequest('Verify', { KeyId: 'k', Message: 'AAAA', Signature: 'AAAA', SigningAlgorithm: 'ECDSA_SHA_256' })).toEqual({ keyId: 'k', signingAlgorithm: 'ECDSA_SHA_256' });
    expect(recordedRequest('VerifyMac', { KeyId: 'k', Message: 'AAAA', Mac: 'AAAA', MacAlgorithm: 'HMAC_SHA_256' })).toEqual({ keyId: 'k', macAlgorithm: 'HMAC_SHA_256' });
    expect(recordedRequest('ImportKeyMaterial', { KeyId: 'k', ImportToken: 'AAAA', EncryptedKeyMaterial: 'AAAA' })).toEqual({ keyId: 'k' });
  });

  it('leaves out a sensitive member sent with the wrong JSON type, and members the model does not know', () => {
    expect(recordedRequest('UpdateCustomKeyStore', { CustomKeyStoreId: 'cks-1', KeyStorePassword: 12345678 })).toEqual({ customKeyStoreId: 'cks-1' });
    expect(recordedRequest('UpdateCustomKeyStore', { CustomKeyStoreId: 'cks-1', KeyStorePassword: { p: CANARY } })).toEqual({ customKeyStoreId: 'cks-1' });
    expect(recordedRequest('UpdateCustomKeyStore', { CustomKeyStoreId: 'cks-1', XksProxyAuthenticationCredential: 'not a structure' })).toEqual({ customKeyStoreId: 'cks-1' });
    expect(recordedRequest('Encrypt', { KeyId: 'k', Plaintext: 'AAAA', keyStorePassword: CANARY, Password: CANARY })).toEqual({ keyId: 'k' });
    // An empty structure is shown as sent; one emptied by the rule is not.
    expect(recordedRequest('CreateGrant', { KeyId: 'k', Constraints: {} })).toEqual({ keyId: 'k', constraints: {} });
    expect(recordedRequest('UpdateCustomKeyStore', { CustomKeyStoreId: 'c', XksProxyAuthenticationCredential: { RawSecretAccessKey: CANARY } })).toEqual({ customKeyStoreId: 'c' });
  });

  it('applies to what an operation recorded itself, and to response elements', () => {
    expect(withoutHidden('ImportKeyMaterialRequest', { keyId: 'k', importToken: 'AAAA', validTo: 'Jan 1, 2030, 12:00:00 AM' })).toEqual({ keyId: 'k', validTo: 'Jan 1, 2030, 12:00:00 AM' });
    const event = apiCallEvent(call('GenerateDataKey', { KeyId: 'k' }, { responseElements: { keyId: 'k', plaintext: CANARY_B64, ciphertextBlob: 'AAAA' } }));
    expect(JSON.parse(event.record).responseElements).toEqual({ keyId: 'k' });
  });

  it('drops an error message that would repeat a secret of the request, and keeps any other', () => {
    const request = { CustomKeyStoreId: 'cks-1', KeyStorePassword: 'kmsPswd1' };
    const leaky = JSON.parse(apiCallEvent(call('UpdateCustomKeyStore', request, { errorCode: 'ValidationException', errorMessage: "password 'kmsPswd1' is wrong" })).record);
    expect(leaky).toMatchObject({ errorCode: 'ValidationException' });
    expect(leaky.errorMessage).toBeUndefined();
    // Plaintext is base64 on the wire: a message holding the decoded text is caught as well.
    const plain = JSON.parse(apiCallEvent(call('Encrypt', { KeyId: 'k', Plaintext: CANARY_B64 }, { errorCode: 'X', errorMessage: `oops ${CANARY}` })).record);
    expect(plain.errorMessage).toBeUndefined();
    const fine = JSON.parse(apiCallEvent(call('UpdateCustomKeyStore', request, { errorCode: 'CustomKeyStoreNotFoundException', errorMessage: "Custom key store 'cks-1' does not exist." })).record);
    expect(fine.errorMessage).toBe("Custom key store 'cks-1' does not exist.");
    expect(fine.requestParameters).toEqual({ customKeyStoreId: 'cks-1' });
  });

  it('finds the values of hidden members at any depth, as sent and decoded', () => {
    expect(hiddenValues('UpdateCustomKeyStore', { CustomKeyStoreId: 'cks-1', XksProxyAuthenticationCredential: { AccessKeyId: 'AKIDEXAMPLE1', RawSecretAccessKey: 'rawsecret' } })).toEqual([
      'AKIDEXAMPLE1',
      'rawsecret',
    ]);
    expect(hiddenValues('Encrypt', { KeyId: 'k', Plaintext: CANARY_B64 })).toEqual([CANARY_B64, CANARY]);
  });
});
