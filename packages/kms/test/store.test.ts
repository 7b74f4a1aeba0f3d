import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { KeyRecord } from '../src/model';
import { SqliteKmsStore } from '../src/store/sqlite-store';

const key = (keyId: string, region: string): KeyRecord => ({
  keyId,
  accountId: '000000000000',
  region,
  arn: `arn:aws:kms:${region}:000000000000:key/${keyId}`,
  creationDate: 0,
  description: '',
  keyUsage: 'ENCRYPT_DECRYPT',
  keySpec: 'SYMMETRIC_DEFAULT',
  origin: 'AWS_KMS',
  keyManager: 'CUSTOMER',
  state: 'Enabled',
  rotationEnabled: false,
  onDemandRotations: 0,
  policy: '{}',
  tags: [],
  currentMaterialId: 'm',
  multiRegion: true,
  primaryRegion: 'us-east-1',
});

describe('SqliteKmsStore', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sealbox-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps one row per Region for a multi-Region key; its material goes with the last Region', () => {
    const store = new SqliteKmsStore(':memory:');
    const id = `mrk-${'a'.repeat(32)}`;
    store.putKey(key(id, 'us-east-1'));
    store.putKey(key(id, 'eu-west-1'));
    store.addMaterial({ handle: Buffer.alloc(32, 1), keyId: id, materialId: 'm', wrapped: Buffer.alloc(8), createdAt: 0, seq: 0 });
    expect(store.keysWithId(id).map((k) => k.region)).toEqual(['eu-west-1', 'us-east-1']);
    expect(store.getKey(id, 'eu-west-1')?.arn).toContain('eu-west-1');
    store.deleteKey(id, 'eu-west-1');
    expect(store.getKey(id, 'eu-west-1')).toBeUndefined();
    expect(store.listMaterials(id)).toHaveLength(1);
    store.deleteKey(id, 'us-east-1');
    expect(store.listMaterials(id)).toHaveLength(0);
    store.close();
  });

  it('serves key documents from its cache only as committed: writes, deletes and failed transactions show through', () => {
    const store = new SqliteKmsStore(':memory:');
    const id = `mrk-${'c'.repeat(32)}`;
    expect(store.getKey(id, 'us-east-1')).toBeUndefined(); // a cached miss
    store.putKey(key(id, 'us-east-1'));
    expect(store.getKey(id, 'us-east-1')?.description).toBe('');
    // Callers change the record they get; the next read is unaffected until it is put back.
    const got = store.getKey(id, 'us-east-1')!;
    got.description = 'changed locally';
    expect(store.getKey(id, 'us-east-1')?.description).toBe('');
    store.putKey({ ...key(id, 'us-east-1'), description: 'v2' });
    expect(store.getKey(id, 'us-east-1')?.description).toBe('v2');
    // A transaction that fails after a write (and a read that cached it) leaves the committed one.
    expect(() =>
      store.transaction(() => {
        store.putKey({ ...key(id, 'us-east-1'), description: 'rolled back' });
        expect(store.getKey(id, 'us-east-1')?.description).toBe('rolled back');
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(store.getKey(id, 'us-east-1')?.description).toBe('v2');
    store.deleteKey(id, 'us-east-1');
    expect(store.getKey(id, 'us-east-1')).toBeUndefined();
    store.close();
  });

  it('migrates a data directory whose keys table was keyed by key id alone', () => {
    const path = join(dir, 'kms.db');
    const old = new Database(path);
    old.exec('CREATE TABLE keys (key_id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, due INTEGER, doc TEXT NOT NULL)');
    const id = `mrk-${'b'.repeat(32)}`;
    old.prepare('INSERT INTO keys VALUES (?, ?, ?, NULL, ?)').run(id, '000000000000', 'us-east-1', JSON.stringify(key(id, 'us-east-1')));
    old.close();
    const store = new SqliteKmsStore(path);
    expect(store.getKey(id, 'us-east-1')?.keyId).toBe(id);
    store.putKey(key(id, 'eu-west-1'));
    expect(store.keysWithId(id)).toHaveLength(2);
    store.close();
  });
});

describe('takeUnflushedChanges (kms.db\'s WAL is flushed before answering calls only when it says so)', () => {
  it('is set by every write of state and cleared when asked; inserting events does not set it', () => {
    const store = new SqliteKmsStore(':memory:');
    expect(store.takeUnflushedChanges()).toBe(true); // opening may have written (a migration)
    expect(store.takeUnflushedChanges()).toBe(false);
    const event = { eventId: 'e', time: 0, accountId: 'a', recipientAccountId: 'a', region: 'r', eventName: 'Encrypt', username: 'u', accessKeyId: '', readOnly: false, resources: [], record: '{}' };
    store.appendEvents([event]);
    expect(store.takeUnflushedChanges()).toBe(false);
    const handle = Buffer.alloc(32, 1);
    const material = { handle, keyId: 'k', materialId: 'm', wrapped: Buffer.alloc(8), createdAt: 0, seq: 0 };
    const alias = { accountId: '000000000000', region: 'us-east-1', aliasName: 'alias/a', targetKeyId: 'k', creationDate: 0, lastUpdatedDate: 0 };
    const grant = { grantId: 'g', keyId: 'k', region: 'us-east-1' } as unknown as Parameters<SqliteKmsStore['putGrant']>[0];
    const keyStore = { id: 'cks-1', accountId: '000000000000', region: 'us-east-1', name: 'n' } as unknown as Parameters<SqliteKmsStore['putCustomKeyStore']>[0];
    const writes: [string, () => void][] = [
      ['putKey', () => store.putKey(key('k', 'us-east-1'))],
      ['addMaterial', () => store.addMaterial(material)],
      ['updateMaterial', () => store.updateMaterial(material)],
      ['removeMaterial', () => store.removeMaterial(handle)],
      ['putAlias', () => store.putAlias(alias)],
      ['deleteAlias', () => store.deleteAlias(alias.accountId, alias.region, alias.aliasName)],
      ['putGrant', () => store.putGrant(grant)],
      ['deleteGrant', () => store.deleteGrant('g')],
      ['putCustomKeyStore', () => store.putCustomKeyStore(keyStore)],
      ['deleteCustomKeyStore', () => store.deleteCustomKeyStore('cks-1')],
      ['deleteKey', () => store.deleteKey('k', 'us-east-1')],
    ];
    for (const [name, write] of writes) {
      write();
      expect([name, store.takeUnflushedChanges()]).toEqual([name, true]);
      expect([name, store.takeUnflushedChanges()]).toEqual([name, false]);
    }
    store.close();
  });
});

describe('lastUses', () => {
  const ARNS = ['arn:aws:kms:us-east-1:000000000000:key/a', 'arn:aws:kms:us-east-1:000000000000:key/b', 'arn:aws:kms:us-east-1:000000000000:key/c'];
  const TRACKED = ['Encrypt', 'Decrypt'];
  let n = 0;
  const event = (eventName: string, time: number, arn: string, errorCode?: string) => ({
    eventId: `e${++n}`,
    time,
    accountId: '000000000000',
    recipientAccountId: '000000000000',
    region: 'us-east-1',
    eventName,
    username: 'root',
    accessKeyId: 'test',
    readOnly: false,
    ...(errorCode ? { errorCode } : {}),
    resources: [arn],
    record: '{}',
  });

  it('reads only the events since the last call and agrees with lastUse for every key', () => {
    const store = new SqliteKmsStore(':memory:');
    const agree = () => {
      const all = store.lastUses(TRACKED);
      for (const arn of ARNS) {
        const one = store.lastUse(arn, TRACKED);
        expect(all.get(arn)).toEqual(one && { eventName: one.eventName, time: one.time, eventId: one.eventId });
      }
    };
    agree();
    store.appendEvents([event('Encrypt', 10, ARNS[0]!), event('DescribeKey', 20, ARNS[0]!), event('Decrypt', 15, ARNS[1]!)]);
    agree();
    // A failed call and an untracked operation change nothing; of equal times the later event wins.
    store.appendEvents([event('Decrypt', 30, ARNS[0]!, 'AccessDeniedException'), event('Encrypt', 15, ARNS[1]!), event('Decrypt', 40, ARNS[2]!)]);
    agree();
    expect(store.lastUses(TRACKED).get(ARNS[1]!)?.eventName).toBe('Encrypt');
    store.appendEvents([event('DescribeKey', 50, ARNS[2]!)]);
    agree();
    // Asked about other operations, it starts over from the whole log.
    expect(store.lastUses(['DescribeKey']).get(ARNS[2]!)?.time).toBe(50);
    agree();
    store.close();
  });
});
