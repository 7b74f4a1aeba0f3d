import { VirtualClock } from '@sealbox/runtime';
import type { CredentialProvider } from '@sealbox/sigv4';
import * as guard from '../src/deletion-guard';
import { parseLifecycleConfiguration } from '../src/lifecycle';
import { runLifecycle, startLifecycle } from '../src/lifecycle-runner';
import { S3State } from '../src/state';
import type { BucketRecord, ObjectVersion } from '../src/store/model';

const DAY = 86_400_000;
const T0 = Date.parse('2030-03-10T15:00:00Z');
const rules = (xml: string) => parseLifecycleConfiguration(`<LifecycleConfiguration>${xml}</LifecycleConfiguration>`, undefined);
const EXPIRE_ALL = rules('<Rule><ID>all</ID><Status>Enabled</Status><Filter/><Expiration><Days>1</Days></Expiration></Rule>');

function setup(bucket: Partial<BucketRecord>): S3State {
  const state = new S3State(undefined, {} as CredentialProvider);
  state.meta.putBucket({ name: 'b', accountId: '000000000000', region: 'us-east-1', creationDate: T0, lifecycle: EXPIRE_ALL, ...bucket });
  return state;
}

function put(state: S3State, key: string, versionId: string, at: number): ObjectVersion {
  const blobId = state.blobs.writeNow(Buffer.from(`${key}@${versionId}`));
  const v: ObjectVersion = {
    bucket: 'b', key, versionId, seq: state.meta.nextSeq(), isLatest: true, deleteMarker: false, lastModified: at, etag: 'e', size: 4,
    ownerAccountId: '000000000000', parts: [{ blobId, size: 4 }], meta: { userMetadata: [] },
  };
  state.meta.putLatest(v, versionId === 'null' && state.meta.version('b', key, 'null')?.isLatest === true);
  return v;
}

const versions = (state: S3State) => state.meta.listVersions('b', { key: '', seq: Infinity }, 100).map((v) => `${v.key}:${v.versionId}:${v.deleteMarker ? 'marker' : 'data'}${v.isLatest ? ':latest' : ''}`);

afterEach(() => jest.restoreAllMocks());

describe('runLifecycle', () => {
  it('expires nothing before the due midnight, and then deletes the object and its bytes', () => {
    const state = setup({});
    const v = put(state, 'k', 'null', T0);
    const deleted = jest.spyOn(state.blobs, 'delete');
    expect(runLifecycle(state, new Date(Date.parse('2030-03-11T23:59:59Z')))).toEqual([]);
    expect(versions(state)).toEqual(['k:null:data:latest']);
    expect(runLifecycle(state, new Date(Date.parse('2030-03-12T00:00:00Z'))).map((e) => e.action)).toEqual(['expired']);
    expect(versions(state)).toEqual([]);
    expect(deleted).toHaveBeenCalledWith(v.parts[0]!.blobId);
    state.close();
  });

  it('in a Suspended bucket, the null delete marker replaces the null version and its bytes go', () => {
    const state = setup({ versioning: 'Suspended' });
    put(state, 'k', 'A'.repeat(32), T0 - DAY);
    const nullVersion = put(state, 'k', 'null', T0);
    const deleted = jest.spyOn(state.blobs, 'delete');
    runLifecycle(state, new Date(T0 + 3 * DAY));
    expect(versions(state)).toEqual(['k:null:marker:latest', `k:${'A'.repeat(32)}:data`]);
    expect(deleted).toHaveBeenCalledWith(nullVersion.parts[0]!.blobId);
    state.close();
  });

  it('never removes a version isDeletionBlocked protects (the Object Lock hook)', () => {
    const state = setup({});
    put(state, 'locked', 'null', T0);
    put(state, 'free', 'null', T0);
    const hook = jest.spyOn(guard, 'isDeletionBlocked').mockImplementation((_s, _b, v) => v.key === 'locked');
    expect(runLifecycle(state, new Date(T0 + 3 * DAY)).map((e) => e.key)).toEqual(['free']);
    expect(versions(state)).toEqual(['locked:null:data:latest']);
    expect(hook).toHaveBeenCalled();
    state.close();
  });

  it('a bucket whose run fails is reported; the other buckets still run', () => {
    const state = setup({ name: 'a' });
    state.meta.putBucket({ name: 'b', accountId: '000000000000', region: 'us-east-1', creationDate: T0, lifecycle: EXPIRE_ALL });
    put(state, 'k', 'null', T0);
    const listVersions = state.meta.listVersions.bind(state.meta);
    jest.spyOn(state.meta, 'listVersions').mockImplementation((bucket, cursor, limit) => {
      if (bucket === 'a') throw new Error('broken bucket');
      return listVersions(bucket, cursor, limit);
    });
    const reported: unknown[] = [];
    expect(runLifecycle(state, new Date(T0 + 3 * DAY), (err) => reported.push(err)).map((e) => `${e.bucket}/${e.key}`)).toEqual(['b/k']);
    expect(reported).toHaveLength(1);
    state.close();
  });
});

describe('startLifecycle', () => {
  it('runs at start and whenever the clock is advanced, until stopped', async () => {
    let wall = T0;
    const clock = new VirtualClock(
      () => wall,
      async (ms) => {
        wall += ms;
      },
    );
    const state = setup({});
    put(state, 'old', 'null', T0 - 3 * DAY);
    put(state, 'new', 'null', T0);
    const stop = startLifecycle(state, clock, (err) => {
      throw err;
    });
    // At start: what fell due while Sealbox was not running.
    expect(versions(state)).toEqual(['new:null:data:latest']);
    await clock.advance(2 * 86_400);
    expect(versions(state)).toEqual([]);
    stop();
    put(state, 'later', 'null', clock.now().getTime());
    await clock.advance(3 * 86_400);
    expect(versions(state)).toEqual(['later:null:data:latest']);
    state.close();
  });
});
