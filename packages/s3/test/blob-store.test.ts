import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BlobStore } from '../src/store/blob-store';
import { MetadataStore } from '../src/store/metadata-store';
import type { BucketRecord } from '../src/store/model';

const files = (root: string) => readdirSync(join(root, 'blobs')).flatMap((d) => readdirSync(join(root, 'blobs', d)));

describe('BlobStore whole-blob writes', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sealbox-blobs-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a file under its final name on disk, reads ranges of it, deletes it', async () => {
    const store = new BlobStore(dir);
    const bytes = Buffer.from('0123456789abcdef');
    const id = store.writeNow(bytes);
    expect(files(dir)).toEqual([id]);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    expect(store.readNow(id, 0, 15).equals(bytes)).toBe(true);
    expect(store.readNow(id, 3, 5).toString()).toBe('345');
    expect(Buffer.concat(await store.read(id, 10, 11).toArray()).toString()).toBe('ab');
    // A second blob in the same shard directory, and one whose directory was removed by hand.
    expect(store.writeNow(Buffer.from('x'))).toMatch(/^[0-9a-f]{32}$/);
    rmSync(join(dir, 'blobs'), { recursive: true });
    const again = store.writeNow(Buffer.from('y'));
    expect(store.readNow(again, 0, 0).toString()).toBe('y');
    store.delete(again);
    expect(files(dir)).toEqual([]);
    expect(store.removeOrphans(new Set())).toBe(0);
  });

  it('writes a blob given as pieces (writev) on disk and in memory, and reads into a scratch buffer', () => {
    for (const ephemeral of [false, true]) {
      const store = new BlobStore(dir, ephemeral);
      // More pieces than one writev takes (512 a call), of uneven sizes, one of them empty.
      const pieces = Array.from({ length: 1300 }, (_, i) => Buffer.alloc(i % 7 === 0 ? 0 : (i % 13) + 1, i & 0xff));
      const whole = Buffer.concat(pieces);
      const id = store.writeNow(pieces);
      expect(store.readNow(id, 0, whole.length - 1).equals(whole)).toBe(true);
      const scratch = Buffer.alloc(whole.length + 10);
      const read = store.readNow(id, 5, 104, scratch);
      expect(read.equals(whole.subarray(5, 105))).toBe(true);
      if (!ephemeral) expect(read.buffer).toBe(scratch.buffer);
      // A scratch buffer too small is not used.
      expect(store.readNow(id, 0, whole.length - 1, Buffer.alloc(4)).equals(whole)).toBe(true);
      store.delete(id);
      if (!ephemeral) expect(files(dir)).toEqual([]);
      store.close();
    }
  });

  it('keeps whole blobs in memory when ephemeral (--in-memory), streamed ones on disk', async () => {
    const store = new BlobStore(dir, true);
    const id = store.writeNow(Buffer.from('held in memory'));
    expect(files(dir)).toEqual([]);
    expect(store.readNow(id, 5, 6).toString()).toBe('in');
    expect(Buffer.concat(await store.read(id).toArray()).toString()).toBe('held in memory');
    expect(Buffer.concat(await store.read(id, 0, 3).toArray()).toString()).toBe('held');
    const streamed = await store.write(Readable.from([Buffer.from('streamed')]));
    expect(files(dir)).toEqual([streamed.blobId]);
    expect(streamed.md5?.toString('hex')).toBe(createHash('md5').update('streamed').digest('hex'));
    expect((await store.write(Readable.from([Buffer.from('no md5')]), undefined, undefined, [], false)).md5).toBeUndefined();
    store.delete(id);
    expect(() => store.readNow(id, 0, 0)).toThrow();
    store.close();
  });
});

describe('MetadataStore bucket cache', () => {
  const bucket = (name: string, region: string): BucketRecord => ({ name, accountId: '000000000000', region, created: 0 }) as unknown as BucketRecord;

  it('shows writes, deletes and failed transactions through', () => {
    const meta = new MetadataStore(':memory:');
    expect(meta.getBucket('b')).toBeUndefined();
    meta.putBucket(bucket('b', 'us-east-1'));
    expect(meta.getBucket('b')?.region).toBe('us-east-1');
    meta.getBucket('b')!.region = 'changed locally';
    expect(meta.getBucket('b')?.region).toBe('us-east-1');
    expect(() =>
      meta.transaction(() => {
        meta.putBucket(bucket('b', 'eu-west-1'));
        expect(meta.getBucket('b')?.region).toBe('eu-west-1');
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(meta.getBucket('b')?.region).toBe('us-east-1');
    meta.deleteBucket('b');
    expect(meta.getBucket('b')).toBeUndefined();
    meta.close();
  });
});

describe('BlobStore streamed writes that fail', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sealbox-blobs-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves no temporary file when the source has already failed (a client gone right after its headers)', async () => {
    const store = new BlobStore(dir);
    for (let i = 0; i < 50; i++) {
      const source = new Readable({ read() {} });
      source.destroy(new Error('aborted'));
      await expect(store.write(source)).rejects.toThrow('aborted');
      // At once, not after some later event: the file the write created is gone when it rejects.
      expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    }
    // Nor when it fails mid-stream, or on its size limit.
    const midway = new Readable({ read() {} });
    midway.push(Buffer.alloc(1024));
    setImmediate(() => midway.destroy(new Error('reset')));
    await expect(store.write(midway)).rejects.toThrow('reset');
    await expect(store.write(Readable.from([Buffer.alloc(2048)]), undefined, 1024)).rejects.toThrow('blob larger than 1024 bytes');
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    expect(files(dir)).toEqual([]);
  });
});
