import { randomBytes } from 'node:crypto';
import type { KmsCore } from './core';
import type { CustomKeyStoreRecord, KeyRecord } from './model';

/**
 * Custom key stores without the hardware: Sealbox keeps a store's settings and its connection
 * state machine, and generates and keeps the key material of the store's KMS keys itself, so
 * infrastructure code that creates, connects and uses custom key stores can be tested.
 * https://docs.aws.amazon.com/kms/latest/developerguide/custom-key-store-overview.html
 *
 * ConnectionState: DISCONNECTED -> (ConnectCustomKeyStore) CONNECTING -> CONNECTED, or FAILED
 * with a ConnectionErrorCode; DisconnectCustomKeyStore -> DISCONNECTED. On AWS connecting takes
 * from seconds to many minutes; in Sealbox a store is CONNECTING for CONNECT_DELAY_MS of the
 * virtual clock, so it is CONNECTED a moment later, or at once when the clock is advanced
 * (POST /_sealbox/clock).
 *
 * Nothing is reachable from a sandbox, so any CloudHSM cluster id that matches the model's
 * pattern is accepted as an active cluster, and any XKS proxy is taken to answer, except a proxy
 * whose host ends in `.invalid` (a name that never resolves, RFC 6761): connecting it FAILs with
 * XKS_PROXY_NOT_REACHABLE, so failure handling can be tested too.
 */
export const CONNECT_DELAY_MS = 1000;

/** Custom key store ids: cks- and 17 hex digits, as AWS's look. */
export function newCustomKeyStoreId(): string {
  return `cks-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

/** Starts connecting: CONNECTING now, CONNECTED (or FAILED) once the clock passes connectedAt. */
export function startConnecting(core: KmsCore, store: CustomKeyStoreRecord): void {
  store.connectionState = 'CONNECTING';
  store.connectionErrorCode = undefined;
  store.connectedAt = core.now() + CONNECT_DELAY_MS;
  core.store.putCustomKeyStore(store);
  core.connecting.add(store.id);
}

/** Moves a CONNECTING store on when its time has come; returns the store as it now is. */
export function refreshConnection(core: KmsCore, store: CustomKeyStoreRecord): CustomKeyStoreRecord {
  if (store.connectionState !== 'CONNECTING' || store.connectedAt === undefined || store.connectedAt > core.now()) return store;
  core.store.transaction(() => {
    store.connectedAt = undefined;
    if (store.xks && /\.invalid$/i.test(new URL(store.xks.uriEndpoint).hostname)) {
      store.connectionState = 'FAILED';
      store.connectionErrorCode = 'XKS_PROXY_NOT_REACHABLE';
    } else {
      store.connectionState = 'CONNECTED';
      for (const key of core.store.keysInCustomKeyStore(store.id)) {
        if (key.state !== 'Unavailable') continue;
        key.state = key.availableState ?? 'Enabled';
        key.availableState = undefined;
        core.store.putKey(key);
      }
    }
    core.store.putCustomKeyStore(store);
  });
  return store;
}

/**
 * Disconnected: the store's keys become Unavailable, except keys pending deletion, which stay so
 * their deletion can be cancelled (key-state table, note 13).
 */
export function disconnect(core: KmsCore, store: CustomKeyStoreRecord): void {
  core.store.transaction(() => {
    store.connectionState = 'DISCONNECTED';
    store.connectionErrorCode = undefined;
    store.connectedAt = undefined;
    for (const key of core.store.keysInCustomKeyStore(store.id)) makeUnavailable(core, key);
    core.store.putCustomKeyStore(store);
  });
}

function makeUnavailable(core: KmsCore, key: KeyRecord): void {
  if (key.state !== 'Enabled' && key.state !== 'Disabled') return;
  key.availableState = key.state;
  key.state = 'Unavailable';
  core.store.putKey(key);
}

/** A custom key store as DescribeCustomKeyStores lists it (never the password or the XKS secret). */
export function customKeyStoreEntry(store: CustomKeyStoreRecord): Record<string, unknown> {
  return {
    CustomKeyStoreId: store.id,
    CustomKeyStoreName: store.name,
    ...(store.cloudHsmClusterId !== undefined ? { CloudHsmClusterId: store.cloudHsmClusterId } : {}),
    ...(store.trustAnchorCertificate !== undefined ? { TrustAnchorCertificate: store.trustAnchorCertificate } : {}),
    ConnectionState: store.connectionState,
    ...(store.connectionErrorCode !== undefined ? { ConnectionErrorCode: store.connectionErrorCode } : {}),
    CreationDate: store.creationDate / 1000,
    CustomKeyStoreType: store.type,
    ...(store.xks
      ? {
          XksProxyConfiguration: {
            Connectivity: store.xks.connectivity,
            AccessKeyId: store.xks.accessKeyId,
            UriEndpoint: store.xks.uriEndpoint,
            UriPath: store.xks.uriPath,
            ...(store.xks.vpcEndpointServiceName !== undefined ? { VpcEndpointServiceName: store.xks.vpcEndpointServiceName } : {}),
            ...(store.xks.vpcEndpointServiceOwner !== undefined ? { VpcEndpointServiceOwner: store.xks.vpcEndpointServiceOwner } : {}),
          },
        }
      : {}),
  };
}
