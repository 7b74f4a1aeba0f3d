// A plain node:test suite with a Sealbox sandbox: node --test packages/testing/examples/node-test.mjs
// (In your project: import { startSandbox } from '@sealbox/testing'.)
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';

const { startSandbox } = createRequire(import.meta.url)('..');

let sandbox;
let kms;
before(async () => {
  sandbox = await startSandbox();
  kms = new KMSClient(sandbox.kmsConfig);
});
beforeEach(() => sandbox.reset());
after(() => sandbox.stop());

test('encrypts and decrypts with a new key', async () => {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: KeyMetadata.KeyId, Plaintext: Buffer.from('hello') }));
  const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob }));
  assert.equal(Buffer.from(Plaintext).toString(), 'hello');
});

test('starts every test from an empty sandbox', async () => {
  assert.deepEqual((await kms.send(new ListKeysCommand({}))).Keys, []);
});
