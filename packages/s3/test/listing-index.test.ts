import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastModified } from '../src/operations/listing';
import { type ListingEntry, MetadataStore } from '../src/store/metadata-store';
import type { ObjectVersion } from '../src/store/model';
import { TextBuffer, el, escapeXml } from '../src/xml';

/**
 * Listings read each object's LastModified and the rest of its `<Contents>` (ETag, checksum, Size,
 * StorageClass, owner) from the objects_listing index (expressions over the row's document) instead
 * of parsing whole documents. These tests hold that index to the documents and to the text el()
 * builds from them: after every kind of write, on the very next call, and in databases made before
 * the index existed.
 */

let n = 0;
function version(key: string, over: Partial<ObjectVersion> = {}, meta: Partial<ObjectVersion['meta']> = {}): ObjectVersion {
  n += 1;
  return {
    bucket: 'b',
    key,
    versionId: 'null',
    seq: 0,
    isLatest: true,
    deleteMarker: false,
    lastModified: 1_796_566_549_000 + n,
    etag: `etag-${n}`,
    size: n,
    ownerAccountId: '000000000000',
    parts: [{ blobId: `${n}`.padStart(32, '0'), size: n }],
    meta: { userMetadata: [], ...meta },
    ...over,
  };
}

const owner = (accountId: string) => `<Owner>${accountId}</Owner>`;

/** What a listing must show of a document: the elements as the listing built them from whole documents. */
const expected = (v: ObjectVersion, withOwner = false): ListingEntry => ({
  key: v.key,
  lastModified: v.lastModified,
  rest:
    [
      el('ETag', `"${v.etag}"`),
      v.meta.checksum ? el('ChecksumAlgorithm', v.meta.checksum.algorithm) : '',
      v.meta.checksum ? el('ChecksumType', v.meta.checksum.type) : '',
      el('Size', v.size),
      withOwner ? owner(v.ownerAccountId) : '',
      el('StorageClass', v.meta.storageClass ?? 'STANDARD'),
    ].join('') + '</Contents>',
});

/** Every current object, from the documents (the reference), in the listing's order. */
function fromDocuments(meta: MetadataStore, keys: string[], withOwner = false): ListingEntry[] {
  return [...new Set(keys)]
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map((k) => meta.latest('b', k))
    .filter((v): v is ObjectVersion => v !== undefined && !v.deleteMarker)
    .map((v) => expected(v, withOwner));
}

function put(meta: MetadataStore, v: ObjectVersion): ObjectVersion {
  meta.transaction(() => {
    const replaced = meta.version(v.bucket, v.key, v.versionId);
    v.seq = meta.nextSeq();
    meta.putLatest(v, replaced?.isLatest === true);
  });
  return v;
}

describe('the listing index', () => {
  it('shows every write on the very next listing: overwrites, versions, delete markers, in-place updates, deletions', () => {
    const meta = new MetadataStore(':memory:');
    const keys: string[] = [];
    const check = () => {
      expect(meta.listLatest('b', { after: '' }, 1000)).toEqual(fromDocuments(meta, keys));
      expect(meta.listLatest('b', { from: '' }, 1000, owner)).toEqual(fromDocuments(meta, keys, true));
    };
    for (const k of ['a', 'b&<>"\'', 'c/d', 'é', '𝄞']) {
      keys.push(k);
      put(meta, version(k));
    }
    check();
    // Overwriting the null version changes every listed field.
    put(meta, version('a', { ownerAccountId: '111111111111' }, { storageClass: 'STANDARD_IA', checksum: { algorithm: 'SHA256', value: 'x', type: 'FULL_OBJECT' } }));
    check();
    expect(meta.listLatest('b', { after: '' }, 1, owner)[0]?.rest).toMatch(/<ChecksumAlgorithm>SHA256<.*<Owner>111111111111<\/Owner><StorageClass>STANDARD_IA</);
    // Text that needs escaping, in every field the index renders.
    put(meta, version('a', { etag: `e&<>"'\r` }, { storageClass: `s&<>"'\r`, checksum: { algorithm: `a&<>"'\r`, value: 'x', type: `t&<>"'\r` as 'COMPOSITE' } }));
    check();
    expect(meta.listLatest('b', { after: '' }, 1)[0]?.rest).toContain('<StorageClass>s&amp;&lt;&gt;&quot;&apos;&#13;</StorageClass>');
    // A new version (versioned bucket): the old one is no longer latest, the new one is listed.
    const v1 = put(meta, version('c/d', { versionId: 'v1' }, { checksum: { algorithm: 'CRC32', value: 'y', type: 'COMPOSITE' } }));
    check();
    // A delete marker hides the key; removing the marker brings the version back.
    const marker = put(meta, version('c/d', { versionId: 'dm', deleteMarker: true, etag: '', size: 0 }));
    check();
    expect(meta.listLatest('b', { after: '' }, 1000).map((e) => e.key)).not.toContain('c/d');
    meta.deleteVersion(marker);
    check();
    expect(meta.listLatest('b', { from: 'c' }, 1)[0]).toEqual(expected(v1));
    // Deleting the latest version makes the previous one latest (setLatest), listed at once.
    meta.deleteVersion({ ...v1, isLatest: true });
    check();
    expect(meta.listLatest('b', { from: 'c' }, 1)[0]?.rest).not.toContain(v1.etag);
    // An in-place rewrite of a document (tags, Object Lock, ...) that changed a listed field.
    const e = meta.latest('b', 'é')!;
    e.meta.storageClass = 'GLACIER';
    e.size = 42;
    meta.updateVersion(e);
    check();
    expect(meta.listLatest('b', { from: 'é' }, 1)[0]?.rest).toMatch(/<Size>42<\/Size><StorageClass>GLACIER</);
    // A rolled-back write is not listed.
    expect(() =>
      meta.transaction(() => {
        put(meta, version('a', {}, { storageClass: 'ONEZONE_IA' }));
        throw new Error('abort');
      }),
    ).toThrow('abort');
    check();
    meta.close();
  });

  it('answers a page from the index alone (no table row, no document parsed)', () => {
    const meta = new MetadataStore(':memory:');
    expect(meta.listLatestPlans()).toEqual(Array(4).fill('SEARCH objects USING COVERING INDEX objects_listing (bucket=? AND is_latest=? AND key>?)'));
    meta.close();
  });

  describe('in a database made before it (objects_latest, no objects_listing)', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sealbox-listing-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /** A database as the previous release left it, with the given objects. */
    function oldDatabase(path: string, versions: ObjectVersion[], listingIndex?: string): void {
      const meta = new MetadataStore(path);
      for (const v of versions) put(meta, v);
      meta.close();
      const db = new Database(path);
      db.exec('DROP INDEX objects_listing; CREATE INDEX objects_latest ON objects (bucket, is_latest, key)');
      if (listingIndex) db.exec(listingIndex);
      db.close();
    }
    const indexes = (path: string) => {
      const db = new Database(path, { readonly: true });
      const names = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'objects_%' ORDER BY name").all();
      db.close();
      return names.map((r) => r.name);
    };

    it('builds the index when the data directory opens, and lists the same objects', () => {
      const path = join(dir, 's3.db');
      const versions = ['x', 'y', 'z/1'].map((k) => version(k, {}, { storageClass: k === 'y' ? 'STANDARD_IA' : undefined }));
      oldDatabase(path, versions);
      expect(indexes(path)).toEqual(['objects_latest', 'objects_versions']);
      const meta = new MetadataStore(path);
      expect(meta.listLatestPlans()).toEqual(Array(4).fill('SEARCH objects USING COVERING INDEX objects_listing (bucket=? AND is_latest=? AND key>?)'));
      expect(meta.listLatest('b', { after: '' }, 1000)).toEqual(versions.map((v) => expected(v)));
      // Still right on the next write.
      put(meta, version('y', {}, { checksum: { algorithm: 'SHA1', value: 'z', type: 'FULL_OBJECT' } }));
      expect(meta.listLatest('b', { after: '' }, 1000)).toEqual(fromDocuments(meta, ['x', 'y', 'z/1']));
      meta.close();
      expect(indexes(path)).toEqual(['objects_listing', 'objects_versions']);
    });

    it('opens a database image (an in-memory sandbox snapshot) made before it', () => {
      const path = join(dir, 's3.db');
      const versions = ['p', 'q'].map((k) => version(k));
      oldDatabase(path, versions);
      const db = new Database(path);
      db.pragma('journal_mode = DELETE'); // as the sandbox's images are (rollbackJournal)
      const image = db.serialize();
      db.close();
      const meta = new MetadataStore(image);
      expect(meta.listLatestPlans()).toEqual(Array(4).fill('SEARCH objects USING COVERING INDEX objects_listing (bucket=? AND is_latest=? AND key>?)'));
      expect(meta.listLatest('b', { after: '' }, 1000)).toEqual(versions.map((v) => expected(v)));
      meta.close();
    });

    it("replaces an objects_listing that is not this release's (another release, an imported archive)", () => {
      const path = join(dir, 's3.db');
      const versions = ['m', 'n'].map((k) => version(k));
      oldDatabase(path, versions, 'CREATE INDEX objects_listing ON objects (bucket, key)');
      const meta = new MetadataStore(path);
      expect(meta.listLatestPlans()).toEqual(Array(4).fill('SEARCH objects USING COVERING INDEX objects_listing (bucket=? AND is_latest=? AND key>?)'));
      expect(meta.listLatest('b', { after: '' }, 1000)).toEqual(versions.map((v) => expected(v)));
      meta.close();
    });
  });
});

describe('listing text', () => {
  it('formats LastModified as toISOString does, from the per-second memo', () => {
    const values = [0, 1, 999, 1000, -1, -999, -1000, -1001, 1_796_566_549_016, 253_402_300_799_999, 253_402_300_800_000, -62_167_219_200_001, 8.64e15, -8.64e15, 1.5];
    for (let i = 0; i < 2000; i++) values.push(Math.floor((Math.random() - 0.5) * 2 * 8.64e15), 1_796_566_549_000 + Math.floor(Math.random() * 5000));
    for (const ms of values) expect(lastModified(ms)).toBe(new Date(ms).toISOString());
    for (const ms of [8.64e15 + 1, NaN, Infinity]) expect(() => lastModified(ms)).toThrow(RangeError);
  });

  it('escapes exactly the characters it did, and returns text that needs none unchanged', () => {
    expect(escapeXml(`a&b<c>d"e'f\rg`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f&#13;g');
    expect(escapeXml('key-000123/é𝄞\t\n')).toBe('key-000123/é𝄞\t\n');
    expect(escapeXml('')).toBe('');
  });
});

describe('TextBuffer', () => {
  it('gives back exactly the text added, in the bytes Buffer.from would encode (ASCII, other scripts, lone surrogates), across growth', () => {
    const pieces = ['<a>', 'key-000001', 'é', '日本', '𝄞', '\ud800', 'x\udc00y', '\r&', 'ÿ', '', 'z'.repeat(5000)];
    for (let round = 0; round < 200; round++) {
      const out = new TextBuffer(round % 2 ? 1 : 64);
      let expectedText = '';
      const count = 1 + (round % 17);
      for (let i = 0; i < count; i++) {
        const piece = round < 20 ? 'ascii-only/' + i : pieces[(round * 7 + i * 3) % pieces.length]!;
        out.add(piece);
        expectedText += piece;
      }
      const text = out.toString();
      expect(Buffer.from(text, 'utf8').equals(Buffer.from(expectedText, 'utf8'))).toBe(true);
      if (!/[\ud800-\udfff]/.test(expectedText)) expect(text).toBe(expectedText);
    }
  });
});
