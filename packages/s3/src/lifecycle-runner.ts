/**
 * Carries out the lifecycle rules of every bucket as time passes: when the virtual clock is
 * advanced (POST /_sealbox/clock), once a minute of real time, and at start. Each run removes
 * what has fallen due, as S3 would have by then:
 *  - current versions past their expiration: deleted in an unversioned bucket; in a versioned
 *    bucket a delete marker becomes current (Suspended: the null delete marker, replacing the null
 *    version);
 *  - noncurrent versions NoncurrentDays after they became noncurrent, keeping the
 *    NewerNoncurrentVersions newest;
 *  - expired object delete markers (the only version left of a key): at once with
 *    ExpiredObjectDeleteMarker, once old enough under an Expiration Days or Date rule;
 *  - multipart uploads DaysAfterInitiation days after they started.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ManagingDelMarkers.html
 *
 * Every removal is recorded in the lifecycle log (the console's S3 view). A version under Object
 * Lock is never removed: isDeletionBlocked decides.
 */
import type { VirtualClock } from '@sealbox/runtime';
import { isDeletionBlocked } from './deletion-guard';
import { dueAfterDays, expirationDue, filterMatches, objectExpiration, uploadAbort, type LifecycleConfiguration, type LifecycleRule } from './lifecycle';
import { newVersionId } from './operations/objects';
import type { S3State } from './state';
import type { BucketRecord, LifecycleEvent, ObjectVersion } from './store/model';

const PAGE = 1000;
/** Real time passing: rules fall due at midnight UTC, so a check a minute is plenty. */
const INTERVAL_MS = 60_000;

const subject = (v: ObjectVersion) => ({ key: v.key, tags: v.meta.tags, size: v.size, lastModified: v.lastModified });

/**
 * Runs every bucket's rules once, as of `now`; returns what was removed. A bucket whose run fails
 * is reported and the others still run.
 */
export function runLifecycle(state: S3State, now: Date, report: (err: unknown) => void = (err) => { throw err; }): LifecycleEvent[] {
  const events: LifecycleEvent[] = [];
  for (const _ of lifecycleSteps(state, now, events, report));
  return events;
}

/** How long a run may hold the event loop before it lets other requests in. */
const SLICE_MS = 20;

/**
 * The same run in slices of SLICE_MS, letting requests in between: ten thousand expirations in
 * one advance would otherwise hold every other request for a second or more. Each key is
 * decided and changed in one transaction on its versions as they are then (see runKey), so
 * writes that land between slices are never undone.
 */
export async function runLifecycleSliced(state: S3State, now: Date, report: (err: unknown) => void): Promise<LifecycleEvent[]> {
  const events: LifecycleEvent[] = [];
  let sliceStart = performance.now();
  for (const _ of lifecycleSteps(state, now, events, report)) {
    if (performance.now() - sliceStart < SLICE_MS) continue;
    await new Promise((resolve) => setImmediate(resolve));
    sliceStart = performance.now();
  }
  return events;
}

/** The run as steps: one per key (or upload) handled. */
function* lifecycleSteps(state: S3State, now: Date, events: LifecycleEvent[], report: (err: unknown) => void): Generator<void> {
  for (const bucket of state.meta.allBuckets()) {
    try {
      // The configuration as it is now: it may have been changed or removed between slices.
      const config = state.meta.getBucket(bucket.name)?.lifecycle;
      if (!config?.rules.some((r) => r.status === 'Enabled')) continue;
      yield* runObjects(state, bucket, config, now, events);
      yield* runUploads(state, bucket, config, now, events);
    } catch (err) {
      report(err);
    }
  }
}

/** Every key's versions, newest first, a key at a time. */
function* runObjects(state: S3State, bucket: BucketRecord, config: LifecycleConfiguration, now: Date, events: LifecycleEvent[]): Generator<void> {
  let cursor = { key: '', seq: Infinity };
  let lastKey: string | undefined;
  for (;;) {
    const page = state.meta.listVersions(bucket.name, cursor, PAGE);
    for (const v of page) {
      if (v.key === lastKey) continue;
      lastKey = v.key;
      runKey(state, bucket, config, v.key, now, events);
      yield;
    }
    if (page.length < PAGE) break;
    const last = page[page.length - 1]!;
    // Past every version of the last key seen (its versions were all read by runKey).
    cursor = { key: last.key, seq: 0 };
  }
}

/** A key's versions, newest first, as they are now. */
function versionsOf(state: S3State, bucket: string, key: string): ObjectVersion[] {
  // Small pages: the listing runs on past the key into the next ones, which are not wanted here.
  const size = 8;
  const out: ObjectVersion[] = [];
  let cursor = { key, seq: Infinity };
  for (;;) {
    const page = state.meta.listVersions(bucket, cursor, size);
    const own = page.filter((v) => v.key === key);
    out.push(...own);
    if (own.length < size) return out;
    cursor = { key, seq: own[own.length - 1]!.seq };
  }
}

/** One key: expire the current version, then noncurrent versions, then a lone delete marker. */
function runKey(state: S3State, bucket: BucketRecord, config: LifecycleConfiguration, key: string, now: Date, events: LifecycleEvent[]): void {
  const meta = state.meta;
  const t = now.getTime();
  const removedBlobs: string[] = [];
  const record = (e: Omit<LifecycleEvent, 'at' | 'bucket'>) => {
    const event = { at: t, bucket: bucket.name, ...e };
    meta.addLifecycleEvent(event);
    events.push(event);
  };
  const remove = (v: ObjectVersion) => {
    meta.deleteVersion(v);
    removedBlobs.push(...v.parts.map((p) => p.blobId));
  };
  const blocked = (v: ObjectVersion) => isDeletionBlocked(state, bucket, v, now);

  meta.transaction(() => {
    // Read in the transaction that acts on them: a write between two slices of a run is seen.
    let group = versionsOf(state, bucket.name, key);
    const current = group[0];
    if (!current) return;

    // 1. The current version, past its expiration.
    if (current.isLatest && !current.deleteMarker) {
      const due = objectExpiration(config, subject(current));
      if (due && t >= due.due) group = expireCurrent(state, bucket, group, now, due.ruleId, record, remove, blocked);
    }

    // Nothing left of the key (an unversioned object expired).
    if (!group.length) return;

    // 2. Noncurrent versions: counted from when the next newer version was made; the
    // NewerNoncurrentVersions newest noncurrent versions are kept whatever their age.
    const kept: ObjectVersion[] = [group[0]!];
    for (let i = 1; i < group.length; i++) {
      const v = group[i]!;
      const becameNoncurrent = group[i - 1]!.lastModified;
      const rule = config.rules.find((r) => noncurrentDue(r, v, i - 1, becameNoncurrent, t));
      if (rule && !blocked(v)) {
        remove(v);
        record({ key: v.key, versionId: v.versionId, action: 'noncurrent-expired', ruleId: rule.id });
      } else kept.push(v);
    }

    // 3. An expired object delete marker: the only version left.
    const marker = kept[0]!;
    if (kept.length === 1 && marker.deleteMarker && marker.isLatest && bucket.versioning) {
      const rule = config.rules.find((r) => markerDue(r, marker, t));
      if (rule && !blocked(marker)) {
        remove(marker);
        record({ key: marker.key, versionId: marker.versionId, action: 'delete-marker-removed', ruleId: rule.id });
      }
    }
  });
  for (const id of removedBlobs) state.blobs.delete(id);
}

/**
 * Expires the current version; returns the key's versions afterwards, newest first.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html
 */
function expireCurrent(
  state: S3State,
  bucket: BucketRecord,
  group: ObjectVersion[],
  now: Date,
  ruleId: string,
  record: (e: Omit<LifecycleEvent, 'at' | 'bucket'>) => void,
  remove: (v: ObjectVersion) => void,
  blocked: (v: ObjectVersion) => boolean,
): ObjectVersion[] {
  const current = group[0]!;
  if (!bucket.versioning) {
    // Nonversioned bucket: "Amazon S3 permanently removes the object".
    if (blocked(current)) return group;
    remove(current);
    record({ key: current.key, versionId: current.versionId, action: 'expired', ruleId });
    return group.slice(1);
  }
  // Versioning-enabled: a delete marker becomes the current version. Suspended: the delete
  // marker has the null version id and "replaces any object version with a null version ID".
  const nullVersion = bucket.versioning === 'Suspended' ? group.find((v) => v.versionId === 'null') : undefined;
  if (nullVersion && blocked(nullVersion)) return group;
  if (nullVersion) remove(nullVersion);
  const marker: ObjectVersion = {
    bucket: bucket.name,
    key: current.key,
    versionId: bucket.versioning === 'Enabled' ? newVersionId() : 'null',
    seq: state.meta.nextSeq(),
    isLatest: true,
    deleteMarker: true,
    lastModified: now.getTime(),
    etag: '',
    size: 0,
    ownerAccountId: bucket.accountId,
    parts: [],
    meta: { userMetadata: [] },
  };
  state.meta.putLatest(marker);
  record({ key: current.key, versionId: marker.versionId, action: 'delete-marker-added', ruleId });
  return [marker, ...group.filter((v) => v !== nullVersion).map((v) => ({ ...v, isLatest: false }))];
}

/** Whether this rule removes a noncurrent version, `rank` newest among the key's noncurrent versions. */
function noncurrentDue(rule: LifecycleRule, v: ObjectVersion, rank: number, becameNoncurrent: number, t: number): boolean {
  const e = rule.noncurrentVersionExpiration;
  if (rule.status !== 'Enabled' || !e || !filterMatches(rule.filter, subject(v))) return false;
  if (e.newerNoncurrentVersions !== undefined && rank < e.newerNoncurrentVersions) return false;
  return e.noncurrentDays === undefined || t >= dueAfterDays(becameNoncurrent, e.noncurrentDays);
}

/**
 * Whether this rule removes an expired object delete marker: ExpiredObjectDeleteMarker at once;
 * "When you specify the Days tag, Amazon S3 automatically performs ExpiredObjectDeleteMarker
 * cleanup when the delete markers are old enough to satisfy the age criteria" (and Date, once passed).
 */
function markerDue(rule: LifecycleRule, marker: ObjectVersion, t: number): boolean {
  if (rule.status !== 'Enabled' || !rule.expiration || !filterMatches(rule.filter, subject(marker))) return false;
  if (rule.expiration.expiredObjectDeleteMarker) return true;
  const due = expirationDue(rule, marker.lastModified);
  return due !== undefined && t >= due;
}

/** AbortIncompleteMultipartUpload: uploads started DaysAfterInitiation days ago (rounded to midnight UTC). */
function* runUploads(state: S3State, bucket: BucketRecord, config: LifecycleConfiguration, now: Date, events: LifecycleEvent[]): Generator<void> {
  const t = now.getTime();
  for (const listed of state.meta.listUploads(bucket.name)) {
    yield;
    // Completed or aborted since it was listed: nothing to do.
    const upload = state.meta.getUpload(listed.uploadId);
    if (!upload) continue;
    const abort = uploadAbort(config, upload.key, upload.initiated);
    if (!abort || t < abort.due) continue;
    const parts = state.meta.listParts(upload.uploadId);
    const event: LifecycleEvent = { at: t, bucket: bucket.name, key: upload.key, uploadId: upload.uploadId, action: 'upload-aborted', ruleId: abort.ruleId };
    state.meta.transaction(() => {
      state.meta.deleteUpload(upload.uploadId);
      state.meta.addLifecycleEvent(event);
    });
    events.push(event);
    for (const p of parts) state.blobs.delete(p.blobId);
  }
}

/**
 * Runs the rules now, whenever the clock is advanced, and once a minute; returns the function
 * that stops it (before the state is closed).
 */
export function startLifecycle(state: S3State, clock: VirtualClock, report: (err: unknown) => void): () => void {
  let stopped = false;
  // Runs never overlap: an advance during the minute's run waits for it, then runs as of its own time.
  let queue: Promise<unknown> = Promise.resolve();
  const run = (): Promise<unknown> => {
    queue = queue.then(async () => {
      if (stopped) return;
      try {
        await runLifecycleSliced(state, clock.now(), report);
      } catch (err) {
        report(err);
      }
    });
    return queue;
  };
  // The advance answers once this run is over (VirtualClock awaits its listeners).
  const unsubscribe = clock.onAdvance(() => run());
  const timer = setInterval(() => void run(), INTERVAL_MS);
  timer.unref();
  // At start nothing else runs yet: what fell due while Sealbox was stopped goes at once.
  try {
    runLifecycle(state, clock.now(), report);
  } catch (err) {
    report(err);
  }
  return () => {
    stopped = true;
    clearInterval(timer);
    unsubscribe();
  };
}
