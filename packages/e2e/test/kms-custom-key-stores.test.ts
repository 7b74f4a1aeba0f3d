/** Custom key stores through @aws-sdk/client-kms: the connection state machine and keys in the stores. */
import {
  CancelKeyDeletionCommand,
  ConnectCustomKeyStoreCommand,
  CreateCustomKeyStoreCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteCustomKeyStoreCommand,
  DescribeCustomKeyStoresCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisconnectCustomKeyStoreCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateRandomCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
  UpdateCustomKeyStoreCommand,
} from '@aws-sdk/client-kms';
import type { Sealbox } from '@sealbox/cli';
import { failure, kmsClient, startTestSealbox } from './helpers';

let sealbox: Sealbox;
let kms: KMSClient;
const DAY = 86400;

beforeAll(async () => {
  sealbox = await startTestSealbox({ only: 'kms' });
  kms = kmsClient(sealbox);
});
afterAll(async () => {
  kms.destroy();
  await sealbox.stop();
});

async function expectError(promise: Promise<unknown>, name: string, message?: string) {
  const err = await failure(promise);
  expect({ name: err.name, status: err.$metadata?.httpStatusCode }).toEqual({ name, status: 400 });
  if (message !== undefined) expect(err.message).toBe(message);
  return err;
}

/** Advances the virtual clock (it takes effect, and resolves, at the next whole second of wall time). */
async function advance(seconds: number) {
  await sealbox.clock.advance(seconds);
}

let clusters = 0;
/** Cluster ids follow the model's pattern cluster-[2-7a-zA-Z]{11,16}. */
const newClusterId = () => `cluster-${'abcdefghijk'.slice(0, 10)}${'abcdefghijklmnopqrstuvwxyz'[clusters++ % 26]}`;

async function cloudHsmStore(name: string) {
  const clusterId = newClusterId();
  const { CustomKeyStoreId } = await kms.send(
    new CreateCustomKeyStoreCommand({ CustomKeyStoreName: name, CloudHsmClusterId: clusterId, TrustAnchorCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', KeyStorePassword: 'kmsPswd1' }),
  );
  return { id: CustomKeyStoreId!, clusterId };
}
const describeStore = async (id: string) => (await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id }))).CustomKeyStores![0]!;
async function connect(id: string) {
  await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
  await advance(2);
}
const xksCredential = { AccessKeyId: 'ABCDEFGHIJKLMNOPQRST', RawSecretAccessKey: 'a'.repeat(43) };
let proxies = 0;
async function xksStore(name: string, host = `xks${proxies++}.example.com`) {
  const { CustomKeyStoreId } = await kms.send(
    new CreateCustomKeyStoreCommand({
      CustomKeyStoreName: name,
      CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
      XksProxyUriEndpoint: `https://${host}`,
      XksProxyUriPath: '/example/kms/xks/v1',
      XksProxyAuthenticationCredential: xksCredential,
      XksProxyConnectivity: 'PUBLIC_ENDPOINT',
    }),
  );
  return CustomKeyStoreId!;
}

describe('CloudHSM key stores', () => {
  it('DISCONNECTED -> CONNECTING -> CONNECTED; keys in it do cryptography; disconnected they are Unavailable', async () => {
    const before = Date.now();
    const { id, clusterId } = await cloudHsmStore('hsm-main');
    expect(id).toMatch(/^cks-[0-9a-f]{17}$/);
    const created = await describeStore(id);
    expect(created).toEqual({
      CustomKeyStoreId: id,
      CustomKeyStoreName: 'hsm-main',
      CloudHsmClusterId: clusterId,
      TrustAnchorCertificate: expect.stringContaining('BEGIN CERTIFICATE'),
      ConnectionState: 'DISCONNECTED',
      CreationDate: expect.any(Date),
      CustomKeyStoreType: 'AWS_CLOUDHSM',
    });
    expect(created.CreationDate!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);

    // Not connected: no keys, no random bytes.
    await expectError(kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: id })), 'CustomKeyStoreInvalidStateException');
    await expectError(kms.send(new GenerateRandomCommand({ NumberOfBytes: 16, CustomKeyStoreId: id })), 'CustomKeyStoreInvalidStateException');

    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect((await describeStore(id)).ConnectionState).toBe('CONNECTING');
    await expectError(kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: id })), 'CustomKeyStoreInvalidStateException');
    await advance(2);
    expect((await describeStore(id)).ConnectionState).toBe('CONNECTED');
    // Connecting a connected store changes nothing.
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect((await describeStore(id)).ConnectionState).toBe('CONNECTED');

    const key = (await kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: id, Description: 'in the hsm' }))).KeyMetadata!;
    expect(key).toMatchObject({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: id, CloudHsmClusterId: clusterId, KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT' });
    const enc = await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('secret') }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!).toString()).toBe('secret');
    expect((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 24, CustomKeyStoreId: id }))).Plaintext).toHaveLength(24);
    // Keys in custom key stores never rotate.
    await expectError(kms.send(new EnableKeyRotationCommand({ KeyId: key.KeyId })), 'UnsupportedOperationException');
    await expectError(kms.send(new GetKeyRotationStatusCommand({ KeyId: key.KeyId })), 'UnsupportedOperationException');
    // Other key specs and multi-Region keys do not go in custom key stores.
    await expectError(kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: id, KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' })), 'UnsupportedOperationException');
    await expectError(kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: id, MultiRegion: true })), 'UnsupportedOperationException');

    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect((await describeStore(id)).ConnectionState).toBe('DISCONNECTED');
    const unavailable = (await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
    expect(unavailable).toMatchObject({ KeyState: 'Unavailable', Enabled: false });
    await expectError(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x') })), 'KMSInvalidStateException', `${key.Arn} is unavailable.`);
    await expectError(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })), 'KMSInvalidStateException', `${key.Arn} is unavailable.`);
    await expectError(kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id })), 'CustomKeyStoreInvalidStateException');

    // DisableKey succeeds while Unavailable; the key shows Disabled once the store is back.
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.KeyState).toBe('Unavailable');
    await connect(id);
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.KeyState).toBe('Disabled');
  });

  it('a key pending deletion stays so while disconnected; cancelled meanwhile it is Unavailable, then Disabled', async () => {
    const { id } = await cloudHsmStore('hsm-deletion');
    await connect(id);
    const key = (await kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: id }))).KeyMetadata!;
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.KeyState).toBe('PendingDeletion');
    await kms.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.KeyState).toBe('Unavailable');
    await connect(id);
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.KeyState).toBe('Disabled');
  });

  it('UpdateCustomKeyStore and DeleteCustomKeyStore follow the connection state and the keys', async () => {
    const { id } = await cloudHsmStore('hsm-update');
    await connect(id);
    // Connected: only the name may change.
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, NewCustomKeyStoreName: 'hsm-renamed' }));
    expect((await describeStore(id)).CustomKeyStoreName).toBe('hsm-renamed');
    await expectError(kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, KeyStorePassword: 'another1' })), 'CustomKeyStoreInvalidStateException');
    await expectError(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id })), 'CustomKeyStoreInvalidStateException');
    const key = (await kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: id }))).KeyMetadata!;
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    const newCluster = newClusterId();
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, CloudHsmClusterId: newCluster, KeyStorePassword: 'another1' }));
    expect((await describeStore(id)).CloudHsmClusterId).toBe(newCluster);
    await expectError(kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, XksProxyUriPath: '/kms/xks/v1' })), 'ValidationException');
    await expectError(kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id })), 'CustomKeyStoreHasCMKsException');
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    await advance(8 * DAY);
    await kms.send(new DeleteCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    await expectError(kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id })), 'CustomKeyStoreNotFoundException');
    await expectError(kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id })), 'CustomKeyStoreNotFoundException');
  });

  it("AWS's refusals: name in use, cluster in use, missing members, a bad cluster id, another Region", async () => {
    const { id, clusterId } = await cloudHsmStore('hsm-unique');
    await expectError(
      kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'hsm-unique', CloudHsmClusterId: newClusterId(), TrustAnchorCertificate: 'c', KeyStorePassword: 'kmsPswd1' })),
      'CustomKeyStoreNameInUseException',
    );
    await expectError(
      kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'hsm-other', CloudHsmClusterId: clusterId, TrustAnchorCertificate: 'c', KeyStorePassword: 'kmsPswd1' })),
      'CloudHsmClusterInUseException',
    );
    await expectError(kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'hsm-x', CloudHsmClusterId: newClusterId(), TrustAnchorCertificate: 'c' })), 'ValidationException');
    await expectError(
      kms.send(new CreateCustomKeyStoreCommand({ CustomKeyStoreName: 'hsm-y', CloudHsmClusterId: 'cluster-1', TrustAnchorCertificate: 'c', KeyStorePassword: 'kmsPswd1' })),
      'ValidationException',
    );
    const west = kmsClient(sealbox, { region: 'us-west-2' });
    await expectError(west.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: id })), 'CustomKeyStoreNotFoundException');
    west.destroy();
    await expectError(kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM' })), 'ValidationException');
    await expectError(kms.send(new CreateKeyCommand({ CustomKeyStoreId: id })), 'UnsupportedOperationException');
    await expectError(kms.send(new GenerateRandomCommand({ NumberOfBytes: 8, CustomKeyStoreId: 'cks-00000000000000000' })), 'CustomKeyStoreNotFoundException');
  });
});

describe('external key stores', () => {
  it('keys with an XksKeyId; the proxy settings are shown without the secret', async () => {
    const id = await xksStore('xks-main', 'xks-main.example.com');
    expect(await describeStore(id)).toEqual({
      CustomKeyStoreId: id,
      CustomKeyStoreName: 'xks-main',
      ConnectionState: 'DISCONNECTED',
      CreationDate: expect.any(Date),
      CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
      XksProxyConfiguration: {
        Connectivity: 'PUBLIC_ENDPOINT',
        AccessKeyId: xksCredential.AccessKeyId,
        UriEndpoint: 'https://xks-main.example.com',
        UriPath: '/example/kms/xks/v1',
      },
    });
    await connect(id);
    await expectError(kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: id })), 'ValidationException');
    await expectError(kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: id })), 'UnsupportedOperationException');
    const key = (await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: id, XksKeyId: 'ext-key-1' }))).KeyMetadata!;
    expect(key).toMatchObject({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: id, XksKeyConfiguration: { Id: 'ext-key-1' } });
    expect(key.CloudHsmClusterId).toBeUndefined();
    await expectError(kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL_KEY_STORE', CustomKeyStoreId: id, XksKeyId: 'ext-key-1' })), 'XksKeyAlreadyInUseException');
    const enc = await kms.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Buffer.from('external') }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!).toString()).toBe('external');
    // GenerateRandom takes CloudHSM key stores only.
    await expectError(kms.send(new GenerateRandomCommand({ NumberOfBytes: 8, CustomKeyStoreId: id })), 'UnsupportedOperationException');
    // The same proxy URI cannot back two stores.
    await expectError(
      kms.send(
        new CreateCustomKeyStoreCommand({
          CustomKeyStoreName: 'xks-copy',
          CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
          XksProxyUriEndpoint: 'https://xks-main.example.com',
          XksProxyUriPath: '/example/kms/xks/v1',
          XksProxyAuthenticationCredential: xksCredential,
          XksProxyConnectivity: 'PUBLIC_ENDPOINT',
        }),
      ),
      'XksProxyUriInUseException',
    );
  });

  it('a proxy that cannot be reached FAILs with XKS_PROXY_NOT_REACHABLE; it must be disconnected before connecting again', async () => {
    const id = await xksStore('xks-broken', 'proxy.invalid');
    await connect(id);
    expect(await describeStore(id)).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'XKS_PROXY_NOT_REACHABLE' });
    await expectError(kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: id })), 'CustomKeyStoreInvalidStateException');
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: id }));
    const store = await describeStore(id);
    expect(store.ConnectionState).toBe('DISCONNECTED');
    expect(store.ConnectionErrorCode).toBeUndefined();
    // Fixed by pointing it at a reachable proxy.
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: id, XksProxyUriEndpoint: 'https://fixed.example.com' }));
    await connect(id);
    expect((await describeStore(id)).ConnectionState).toBe('CONNECTED');
  });

  it('VPC endpoint service connectivity needs the service name', async () => {
    await expectError(
      kms.send(
        new CreateCustomKeyStoreCommand({
          CustomKeyStoreName: 'xks-vpc',
          CustomKeyStoreType: 'EXTERNAL_KEY_STORE',
          XksProxyUriEndpoint: 'https://vpc.example.com',
          XksProxyUriPath: '/kms/xks/v1',
          XksProxyAuthenticationCredential: xksCredential,
          XksProxyConnectivity: 'VPC_ENDPOINT_SERVICE',
        }),
      ),
      'ValidationException',
    );
  });
});

describe('DescribeCustomKeyStores', () => {
  it('filters by id or name and pages with Limit and Marker', async () => {
    const region = kmsClient(sealbox, { region: 'ap-south-1' });
    const ids: string[] = [];
    for (const name of ['p-one', 'p-two', 'p-three']) {
      const { CustomKeyStoreId } = await region.send(
        new CreateCustomKeyStoreCommand({ CustomKeyStoreName: name, CloudHsmClusterId: newClusterId(), TrustAnchorCertificate: 'c', KeyStorePassword: 'kmsPswd1' }),
      );
      ids.push(CustomKeyStoreId!);
    }
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await region.send(new DescribeCustomKeyStoresCommand({ Limit: 2, Marker: marker }));
      seen.push(...page.CustomKeyStores!.map((s) => s.CustomKeyStoreId!));
      expect(page.Truncated).toBe(page.NextMarker !== undefined);
      marker = page.NextMarker;
      pages++;
    } while (marker);
    expect(pages).toBe(2);
    expect(seen.sort()).toEqual([...ids].sort());
    const byName = await region.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreName: 'p-two' }));
    expect(byName.CustomKeyStores!.map((s) => s.CustomKeyStoreId)).toEqual([ids[1]]);
    await expectError(region.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreName: 'nope' })), 'CustomKeyStoreNotFoundException');
    await expectError(region.send(new DescribeCustomKeyStoresCommand({ Marker: 'garbage' })), 'InvalidMarkerException');
    region.destroy();
  });
});
