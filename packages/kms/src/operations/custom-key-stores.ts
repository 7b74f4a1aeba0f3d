import { authorize } from '../access/authorize';
import type { OperationContext } from '../context';
import { customKeyStoreEntry, disconnect, newCustomKeyStoreId, refreshConnection, startConnecting } from '../custom-key-stores';
import {
  CloudHsmClusterInUseException,
  CustomKeyStoreHasCMKsException,
  CustomKeyStoreInvalidStateException,
  CustomKeyStoreNameInUseException,
  CustomKeyStoreNotFoundException,
  ValidationException,
  XksProxyUriInUseException,
} from '../errors';
import type { CustomKeyStoreRecord } from '../model';
import type { ValidatedInput } from '../model/validate';
import { decodeMarker, num, page, str } from './common';

/*
 * The custom key store operations: identity-based permissions only (IAM policy on "*"), never
 * across accounts, each store belonging to an account and a Region.
 * https://docs.aws.amazon.com/kms/latest/developerguide/custom-key-store-overview.html
 * Where AWS's messages are not documented, Sealbox's say what is wrong in AWS's manner; those
 * places are marked "wording not documented".
 */

interface XksCredential {
  AccessKeyId: string;
  RawSecretAccessKey: string;
}

/** The caller's custom key store, brought up to date (a CONNECTING store may have connected). */
export function findCustomKeyStore(ctx: OperationContext, id: string): CustomKeyStoreRecord {
  const store = ctx.core.store.getCustomKeyStore(id);
  // Wording not documented.
  if (!store || store.accountId !== ctx.accountId || store.region !== ctx.region) {
    throw new CustomKeyStoreNotFoundException(`Custom key store '${id}' does not exist.`);
  }
  return refreshConnection(ctx.core, store);
}

function checkNameFree(ctx: OperationContext, name: string, except?: string): void {
  if (ctx.core.store.listCustomKeyStores(ctx.accountId, ctx.region).some((s) => s.name === name && s.id !== except)) {
    // Wording not documented.
    throw new CustomKeyStoreNameInUseException(`A custom key store with the name '${name}' already exists.`);
  }
}

function checkXksUriFree(ctx: OperationContext, endpoint: string, path: string, except?: string): void {
  const taken = ctx.core.store
    .listCustomKeyStores(ctx.accountId, ctx.region)
    .some((s) => s.id !== except && s.xks !== undefined && s.xks.uriEndpoint === endpoint && s.xks.uriPath === path);
  // Wording not documented.
  if (taken) throw new XksProxyUriInUseException(`The XKS proxy URI ${endpoint}${path} is already associated with a custom key store.`);
}

function checkClusterFree(ctx: OperationContext, clusterId: string, except?: string): void {
  const taken = ctx.core.store.listCustomKeyStores(ctx.accountId, ctx.region).some((s) => s.id !== except && s.cloudHsmClusterId === clusterId);
  // Wording not documented.
  if (taken) throw new CloudHsmClusterInUseException(`The CloudHSM cluster ${clusterId} is already associated with a custom key store.`);
}

/** A required member of one store type; wording not documented. */
function need<T>(value: T | undefined, member: string, type: string): T {
  if (value === undefined) throw new ValidationException(`${member} is required for a custom key store of type ${type}.`);
  return value;
}

/**
 * AWS_CLOUDHSM (the default type): CloudHsmClusterId, TrustAnchorCertificate and
 * KeyStorePassword. EXTERNAL_KEY_STORE: the XKS proxy's URI endpoint and path, its
 * authentication credential and its connectivity (a VPC endpoint service needs its name).
 * The new store is DISCONNECTED.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateCustomKeyStore.html
 */
export function createCustomKeyStore(input: ValidatedInput, ctx: OperationContext) {
  authorize(ctx, { action: 'CreateCustomKeyStore' });
  const name = str(input, 'CustomKeyStoreName')!;
  const type = (str(input, 'CustomKeyStoreType') ?? 'AWS_CLOUDHSM') as CustomKeyStoreRecord['type'];
  const base = { id: newCustomKeyStoreId(), accountId: ctx.accountId, region: ctx.region, name, type, creationDate: ctx.now.getTime(), connectionState: 'DISCONNECTED' as const };
  let store: CustomKeyStoreRecord;
  if (type === 'AWS_CLOUDHSM') {
    const clusterId = need(str(input, 'CloudHsmClusterId'), 'CloudHsmClusterId', type);
    const trustAnchor = need(str(input, 'TrustAnchorCertificate'), 'TrustAnchorCertificate', type);
    need(str(input, 'KeyStorePassword'), 'KeyStorePassword', type);
    checkNameFree(ctx, name);
    checkClusterFree(ctx, clusterId);
    store = { ...base, cloudHsmClusterId: clusterId, trustAnchorCertificate: trustAnchor, keyStorePasswordSet: true };
  } else {
    const endpoint = need(str(input, 'XksProxyUriEndpoint'), 'XksProxyUriEndpoint', type);
    const path = need(str(input, 'XksProxyUriPath'), 'XksProxyUriPath', type);
    const credential = need(input.XksProxyAuthenticationCredential as XksCredential | undefined, 'XksProxyAuthenticationCredential', type);
    const connectivity = need(str(input, 'XksProxyConnectivity'), 'XksProxyConnectivity', type) as 'PUBLIC_ENDPOINT' | 'VPC_ENDPOINT_SERVICE';
    const serviceName = str(input, 'XksProxyVpcEndpointServiceName');
    if (connectivity === 'VPC_ENDPOINT_SERVICE') need(serviceName, 'XksProxyVpcEndpointServiceName', `${type} with VPC_ENDPOINT_SERVICE connectivity`);
    checkNameFree(ctx, name);
    checkXksUriFree(ctx, endpoint, path);
    store = {
      ...base,
      xks: {
        uriEndpoint: endpoint,
        uriPath: path,
        connectivity,
        accessKeyId: credential.AccessKeyId,
        ...(serviceName !== undefined ? { vpcEndpointServiceName: serviceName } : {}),
        ...(str(input, 'XksProxyVpcEndpointServiceOwner') !== undefined ? { vpcEndpointServiceOwner: str(input, 'XksProxyVpcEndpointServiceOwner') } : {}),
      },
    };
  }
  ctx.core.store.putCustomKeyStore(store);
  ctx.audit.responseElements = { customKeyStoreId: store.id };
  return { CustomKeyStoreId: store.id };
}

/**
 * All of the caller's custom key stores in the Region, or the one named by id or by name (the
 * two are exclusive), paged by Limit and Marker.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeCustomKeyStores.html
 */
export function describeCustomKeyStores(input: ValidatedInput, ctx: OperationContext) {
  authorize(ctx, { action: 'DescribeCustomKeyStores' });
  const id = str(input, 'CustomKeyStoreId');
  const name = str(input, 'CustomKeyStoreName');
  if (id !== undefined && name !== undefined) {
    // Wording not documented.
    throw new ValidationException('You cannot specify both CustomKeyStoreId and CustomKeyStoreName.');
  }
  let stores = ctx.core.store.listCustomKeyStores(ctx.accountId, ctx.region).map((s) => refreshConnection(ctx.core, s));
  if (id !== undefined) {
    stores = stores.filter((s) => s.id === id);
    if (stores.length === 0) throw new CustomKeyStoreNotFoundException(`Custom key store '${id}' does not exist.`);
  }
  if (name !== undefined) {
    stores = stores.filter((s) => s.name === name);
    if (stores.length === 0) throw new CustomKeyStoreNotFoundException(`Custom key store with name '${name}' does not exist.`);
  }
  const limit = num(input, 'Limit') ?? 1000;
  const after = decodeMarker(str(input, 'Marker'));
  const rest = after === undefined ? stores : stores.filter((s) => s.id > after);
  const { shown, truncated, nextMarker } = page(rest.slice(0, limit + 1), limit, (s) => s.id);
  return { CustomKeyStores: shown.map(customKeyStoreEntry), ...(nextMarker ? { NextMarker: nextMarker } : {}), Truncated: truncated };
}

/**
 * A CONNECTED store may only be renamed; every other change needs it DISCONNECTED. A CloudHSM
 * store may move only to a cluster related to its own (a backup's); Sealbox cannot tell, so
 * it accepts any cluster not used by another store.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateCustomKeyStore.html
 */
export function updateCustomKeyStore(input: ValidatedInput, ctx: OperationContext) {
  authorize(ctx, { action: 'UpdateCustomKeyStore' });
  const store = findCustomKeyStore(ctx, str(input, 'CustomKeyStoreId')!);
  const newName = str(input, 'NewCustomKeyStoreName');
  const cloudHsm = ['CloudHsmClusterId', 'KeyStorePassword'];
  const xks = ['XksProxyUriEndpoint', 'XksProxyUriPath', 'XksProxyVpcEndpointServiceName', 'XksProxyVpcEndpointServiceOwner', 'XksProxyAuthenticationCredential', 'XksProxyConnectivity'];
  const given = [...cloudHsm, ...xks].filter((m) => input[m] !== undefined);
  const foreign = given.filter((m) => (store.type === 'AWS_CLOUDHSM' ? xks : cloudHsm).includes(m));
  if (foreign.length > 0) {
    // Wording not documented.
    throw new ValidationException(`${foreign.join(', ')} cannot be used with a custom key store of type ${store.type}.`);
  }
  if (given.length > 0 && store.connectionState !== 'DISCONNECTED') {
    // Wording not documented.
    throw new CustomKeyStoreInvalidStateException(
      `Custom key store '${store.id}' is ${store.connectionState}. Only NewCustomKeyStoreName can be updated unless it is DISCONNECTED.`,
    );
  }
  if (newName !== undefined) checkNameFree(ctx, newName, store.id);
  const clusterId = str(input, 'CloudHsmClusterId');
  if (clusterId !== undefined && clusterId !== store.cloudHsmClusterId) {
    checkClusterFree(ctx, clusterId, store.id);
    store.cloudHsmClusterId = clusterId;
  }
  if (store.xks) {
    const endpoint = str(input, 'XksProxyUriEndpoint') ?? store.xks.uriEndpoint;
    const path = str(input, 'XksProxyUriPath') ?? store.xks.uriPath;
    if (endpoint !== store.xks.uriEndpoint || path !== store.xks.uriPath) checkXksUriFree(ctx, endpoint, path, store.id);
    const credential = input.XksProxyAuthenticationCredential as XksCredential | undefined;
    store.xks = {
      ...store.xks,
      uriEndpoint: endpoint,
      uriPath: path,
      ...(credential ? { accessKeyId: credential.AccessKeyId } : {}),
      ...(str(input, 'XksProxyConnectivity') !== undefined ? { connectivity: str(input, 'XksProxyConnectivity') as 'PUBLIC_ENDPOINT' | 'VPC_ENDPOINT_SERVICE' } : {}),
      ...(str(input, 'XksProxyVpcEndpointServiceName') !== undefined ? { vpcEndpointServiceName: str(input, 'XksProxyVpcEndpointServiceName') } : {}),
      ...(str(input, 'XksProxyVpcEndpointServiceOwner') !== undefined ? { vpcEndpointServiceOwner: str(input, 'XksProxyVpcEndpointServiceOwner') } : {}),
    };
  }
  if (newName !== undefined) store.name = newName;
  ctx.core.store.putCustomKeyStore(store);
  return {};
}

/**
 * Only a DISCONNECTED store without KMS keys can be deleted.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteCustomKeyStore.html
 */
export function deleteCustomKeyStore(input: ValidatedInput, ctx: OperationContext) {
  authorize(ctx, { action: 'DeleteCustomKeyStore' });
  const store = findCustomKeyStore(ctx, str(input, 'CustomKeyStoreId')!);
  if (ctx.core.store.keysInCustomKeyStore(store.id).length > 0) {
    // Wording not documented.
    throw new CustomKeyStoreHasCMKsException(`Custom key store '${store.id}' contains KMS keys. Delete them before deleting the custom key store.`);
  }
  if (store.connectionState !== 'DISCONNECTED') {
    // Wording not documented.
    throw new CustomKeyStoreInvalidStateException(`Custom key store '${store.id}' is ${store.connectionState}. It must be DISCONNECTED to be deleted.`);
  }
  ctx.core.store.deleteCustomKeyStore(store.id);
  return {};
}

/**
 * Starts connecting (CONNECTING); DescribeCustomKeyStores shows CONNECTED (or FAILED with a
 * ConnectionErrorCode) when it is done. Connecting a CONNECTED or CONNECTING store changes
 * nothing; a FAILED store must be disconnected first.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ConnectCustomKeyStore.html
 */
export function connectCustomKeyStore(input: ValidatedInput, ctx: OperationContext) {
  authorize(ctx, { action: 'ConnectCustomKeyStore' });
  const store = findCustomKeyStore(ctx, str(input, 'CustomKeyStoreId')!);
  if (store.connectionState === 'FAILED' || store.connectionState === 'DISCONNECTING') {
    // Wording not documented.
    throw new CustomKeyStoreInvalidStateException(
      `Custom key store '${store.id}' is ${store.connectionState}. Disconnect it before connecting it again.`,
    );
  }
  if (store.connectionState === 'DISCONNECTED') startConnecting(ctx.core, store);
  return {};
}

/**
 * DISCONNECTED at once; the store's keys become Unavailable.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_DisconnectCustomKeyStore.html
 */
export function disconnectCustomKeyStore(input: ValidatedInput, ctx: OperationContext) {
  authorize(ctx, { action: 'DisconnectCustomKeyStore' });
  const store = findCustomKeyStore(ctx, str(input, 'CustomKeyStoreId')!);
  if (store.connectionState === 'DISCONNECTED' || store.connectionState === 'DISCONNECTING') {
    // Wording not documented.
    throw new CustomKeyStoreInvalidStateException(`Custom key store '${store.id}' is already ${store.connectionState}.`);
  }
  disconnect(ctx.core, store);
  return {};
}
