import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from '../src/store/blob-store';
import { MetadataStore } from '../src/store/metadata-store';
import type { ObjectVersion } from '../src/store/model';
import { referencedBlobIds, s3DatabaseCounts } from '../src/store/snapshot';

/**
 * Attacks on the performance round's shortcuts (issue 21) that a unit test shows best.
 */

function version(key: string, blobId: unknown): ObjectVersion {
  return {
    bucket: 'b', key, versionId: 'null', seq: 1, isLatest: true, deleteMarker: false, lastModified: 0, etag: 'e', size: 4,
    ownerAccountId: '000000000000', parts: [{ blobId: blobId as string, size: 4 }], meta: { userMetadata: [] },
  };
}

describe('blob ids read from an imported database', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sealbox-blob-ids-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // SQLite's LIKE ignores ASCII case: "NOT LIKE 'i%'" let ids starting with "I" (which are not
  // inline ids: those start with a lower-case "i") skip the file id check, path separators and
  // all; a NULL id skipped it too.
  it.each([['I/../../../secret'], ['I0'], ['i/../../secret'], ['i12345678901234'], [null], [7]])('a row naming blob %j is refused', (id) => {
    const path = join(dir, 's3.db');
    const meta = new MetadataStore(path);
    meta.putLatest(version('k', id));
    meta.close();
    expect(() => [...referencedBlobIds(path)]).toThrow(/malformed blob id/);
    expect(s3DatabaseCounts(path).blobs).toBe(1);
  });

  it('inline ids (lower-case i, hex) are not files: neither listed nor refused', () => {
    const path = join(dir, 's3.db');
    const meta = new MetadataStore(path);
    meta.putLatest(version('k', 'i1f'));
    meta.putLatest({ ...version('f', 'ab'.repeat(16)) });
    meta.close();
    expect([...referencedBlobIds(path)]).toEqual(['ab'.repeat(16)]);
    expect(s3DatabaseCounts(path).blobs).toBe(1);
  });

  it('the blob store never reads or removes a file outside its blobs directory', async () => {
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'not yours');
    const blobs = new BlobStore(join(dir, 's3'), false);
    for (const id of ['I/../../../../secret', 'I/../../../secret', 'I./../../secret', '../../secret', '../../../secret']) {
      expect(() => blobs.readNow(id, 0, 3)).toThrow(/ENOENT/);
      blobs.delete(id);
      const stream = blobs.read(id);
      await expect(new Promise((resolve, reject) => stream.on('data', resolve).on('error', reject))).rejects.toThrow(/ENOENT/);
    }
    expect(readFileSync(secret, 'utf8')).toBe('not yours');
  });
});

describe('BlobStore.pin', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sealbox-pin-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['a file blob', false],
    ['an in-memory blob', true],
  ])('holds %s deleted while pinned until the last release, once', (_name, ephemeral) => {
    const blobs = new BlobStore(join(dir, 's3'), ephemeral);
    const id = blobs.writeNow(Buffer.from('bytes'));
    const first = blobs.pin([{ blobId: id }]);
    const second = blobs.pin([{ blobId: id }, { blobId: id }]);
    blobs.delete(id);
    expect(blobs.readNow(id, 0, 4).toString()).toBe('bytes');
    first();
    first();
    expect(blobs.readNow(id, 0, 4).toString()).toBe('bytes');
    second();
    expect(() => blobs.readNow(id, 0, 4)).toThrow(/ENOENT/);
    // Not deleted while pinned: a release deletes nothing.
    const other = blobs.writeNow(Buffer.from('kept'));
    blobs.pin([{ blobId: other }])();
    expect(blobs.readNow(other, 0, 3).toString()).toBe('kept');
    blobs.close();
  });
});
