// Sealbox console: renders the JSON API of the server that serves this file. Every value from
// the API reaches the page as text (textContent), never as markup.
'use strict';

const EVENT_POLL_MS = 1000;
const STATE_POLL_MS = 3000;
const MAX_EVENTS_SHOWN = 500;

const $ = (id) => document.getElementById(id);

/** An element with attributes and children; strings become text nodes. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'onclick') el.addEventListener('click', value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return el;
}

const time = (ms) => (ms === undefined || ms === null ? '' : new Date(ms).toISOString().slice(0, 19).replace('T', ' ') + 'Z');
const json = (value) => JSON.stringify(value, null, 2);
const shortArn = (arn) => (arn || '').replace(/^arn:aws:kms:[^:]+:\d+:key\//, '');

function badge(text, kind) {
  return h('span', { class: `badge ${kind || ''}` }, text);
}

function details(summary, body) {
  return h('details', {}, h('summary', {}, summary), h('pre', {}, body));
}

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

/** Replaces a table body's rows, only when what they show changed (open details stay open). */
const shown = new Map();
function renderRows(tbody, data, rows) {
  const key = JSON.stringify(data);
  if (shown.get(tbody.id) === key) return;
  shown.set(tbody.id, key);
  tbody.replaceChildren(...rows());
}

function setStatus(message) {
  $('status').textContent = message;
  $('status').hidden = !message;
}

// ---- Overview -------------------------------------------------------------------------------

async function loadOverview() {
  const o = await getJson('/api/overview');
  const item = (name, value) => [h('dt', {}, name), h('dd', {}, value)];
  $('overview').replaceChildren(...item('KMS', o.kms), ...item('S3', o.s3), ...item('Region', o.region), ...item('Sealbox time', time(o.now)));
}

// ---- Keys -------------------------------------------------------------------------------------

const STATE_KIND = { Enabled: 'ok', Disabled: 'warn', PendingDeletion: 'bad', PendingReplicaDeletion: 'bad', PendingImport: 'warn', Unavailable: 'bad' };

function keyRow(k) {
  const rotation = k.rotation;
  const rotationText = rotation.enabled ? `every ${rotation.periodDays} days, next ${time(rotation.nextRotationDate)}` : 'off';
  const history = rotation.history.length
    ? details(`${rotation.history.length} rotation(s)`, rotation.history.map((r) => `${time(r.date)}  ${r.type}  ${r.keyMaterialId}`).join('\n'))
    : null;
  return h(
    'tr',
    { 'data-key-id': k.keyId },
    h(
      'td',
      {},
      k.aliases.map((a) => h('div', { class: 'alias' }, a)),
      h('div', { class: 'mono' }, h('a', { href: '#events', title: 'show this key’s events', onclick: () => filterBy('key', k.keyId) }, k.keyId)),
      h('div', { class: 'dim mono small' }, k.arn),
      k.keyManager === 'AWS' ? badge('AWS managed') : null,
      k.multiRegion ? badge('multi-Region') : null,
    ),
    h('td', {}, badge(k.state, STATE_KIND[k.state]), k.deletionDate ? h('div', { class: 'small' }, `deleted ${time(k.deletionDate)}`) : null),
    h('td', {}, h('div', {}, k.keySpec), h('div', { class: 'dim small' }, k.keyUsage), k.origin !== 'AWS_KMS' ? h('div', { class: 'dim small' }, k.origin) : null),
    h('td', {}, k.description),
    h('td', {}, h('div', {}, rotationText), rotation.onDemandRotations ? h('div', { class: 'dim small' }, `${rotation.onDemandRotations} on demand`) : null, history),
    h('td', { class: 'nowrap' }, time(k.creationDate), h('div', { class: 'dim small' }, `${k.accountId} ${k.region}`)),
    h('td', { class: 'nowrap' }, k.lastUse ? [h('div', {}, k.lastUse.operation), h('div', { class: 'dim small' }, time(k.lastUse.time))] : h('span', { class: 'dim' }, 'never')),
  );
}

async function loadKeys() {
  const { keys } = await getJson('/api/keys');
  $('key-count').textContent = `(${keys.length})`;
  renderRows($('key-rows'), keys, () => (keys.length ? keys.map(keyRow) : [emptyRow(7, 'No keys yet.')]));
  const options = keys.flatMap((k) => [...k.aliases, k.keyId]);
  renderRows($('key-options'), options, () => options.map((o) => h('option', { value: o })));
}

// ---- Buckets and objects ----------------------------------------------------------------------

let selectedBucket = null;

function encryptionText(e) {
  if (e.algorithm === 'AES256') return 'SSE-S3 (AES256)';
  if (e.algorithm === 'aws:kms') return 'SSE-KMS';
  if (e.algorithm === 'aws:kms:dsse') return 'DSSE-KMS';
  return e.algorithm;
}

function bucketRow(b) {
  const e = b.encryption;
  return h(
    'tr',
    { class: b.name === selectedBucket ? 'selected' : null, 'data-bucket': b.name },
    h('td', {}, h('a', { href: '#objects', class: 'bucket-link', onclick: () => selectBucket(b.name) }, b.name), h('div', { class: 'dim small' }, `${b.accountId} ${b.region}`)),
    h('td', {}, b.versioning || h('span', { class: 'dim' }, 'never enabled'), b.lifecycle ? h('div', {}, badge(`lifecycle: ${b.lifecycle.enabled} of ${b.lifecycle.rules} rules on`)) : null),
    h(
      'td',
      {},
      h('div', {}, encryptionText(e)),
      e.kmsMasterKeyId ? h('div', { class: 'mono small' }, e.kmsMasterKeyId) : null,
      e.algorithm.startsWith('aws:kms') && !e.kmsMasterKeyId ? h('div', { class: 'dim small' }, 'aws/s3 (AWS managed key)') : null,
      e.bucketKeyEnabled ? badge('Bucket Key') : null,
    ),
    h('td', {}, b.policy ? details('policy', prettyPolicy(b.policy)) : h('span', { class: 'dim' }, 'none')),
    h('td', {}, String(b.objectCount)),
    h('td', { class: 'nowrap' }, time(b.creationDate)),
  );
}

function prettyPolicy(text) {
  try {
    return json(JSON.parse(text));
  } catch {
    return text;
  }
}

async function loadBuckets() {
  const { buckets } = await getJson('/api/buckets');
  $('bucket-count').textContent = `(${buckets.length})`;
  if (selectedBucket && !buckets.some((b) => b.name === selectedBucket)) selectedBucket = null;
  renderRows($('bucket-rows'), { buckets, selectedBucket }, () => (buckets.length ? buckets.map(bucketRow) : [emptyRow(6, 'No buckets yet.')]));
  await loadObjects();
}

function versionRows(object) {
  return object.versions.map((v, i) => {
    const e = v.encryption;
    return h(
      'tr',
      { class: v.isLatest ? 'latest' : 'older', 'data-object-key': object.key },
      h('td', { class: 'mono' }, i === 0 ? object.key : ''),
      h('td', { class: 'mono small' }, v.versionId, v.isLatest ? badge('latest') : null, v.deleteMarker ? badge('delete marker', 'warn') : null),
      h('td', {}, v.deleteMarker ? '' : String(v.size)),
      h('td', { class: 'nowrap' }, time(v.lastModified)),
      h('td', {}, e ? encryptionText(e) : ''),
      h('td', { class: 'mono small' }, e && e.kmsKeyArn ? e.kmsKeyArn : ''),
      h('td', {}, e && e.algorithm.startsWith('aws:kms') ? (e.bucketKeyEnabled ? 'enabled' : 'no') : ''),
      h('td', {}, e && e.context ? h('pre', { class: 'context' }, json(e.context)) : e && e.customerKeyMd5 ? h('span', { class: 'small' }, `SSE-C key MD5 ${e.customerKeyMd5}`) : ''),
    );
  });
}

async function loadObjects() {
  $('objects').hidden = !selectedBucket;
  if (!selectedBucket) return;
  const bucket = selectedBucket;
  const { objects, truncated } = await getJson(`/api/objects?bucket=${encodeURIComponent(bucket)}`);
  if (bucket !== selectedBucket) return;
  $('objects-bucket').textContent = bucket + (truncated ? ' (the first 1000 versions)' : '');
  renderRows($('object-rows'), { bucket, objects }, () => (objects.length ? objects.flatMap(versionRows) : [emptyRow(8, 'This bucket is empty.')]));
}

function selectBucket(name) {
  selectedBucket = name;
  loadBuckets().catch(showError);
}

// ---- Lifecycle removals -------------------------------------------------------------------------

const LIFECYCLE_ACTIONS = {
  expired: 'object expired (deleted)',
  'delete-marker-added': 'expired: delete marker added',
  'noncurrent-expired': 'noncurrent version deleted',
  'delete-marker-removed': 'expired delete marker removed',
  'upload-aborted': 'multipart upload aborted',
};
let lifecycleEvents = [];
let lifecycleCursor = 0;

function lifecycleRow(e) {
  return h(
    'tr',
    { 'data-lifecycle-action': e.action },
    h('td', { class: 'nowrap' }, time(e.at)),
    h('td', {}, e.bucket),
    h('td', { class: 'mono' }, e.key),
    h('td', { class: 'mono small' }, e.uploadId ? `upload ${e.uploadId}` : e.versionId || ''),
    h('td', {}, LIFECYCLE_ACTIONS[e.action] || e.action),
    h('td', { class: 'mono small' }, e.ruleId),
  );
}

async function loadLifecycle() {
  const body = await getJson(`/api/lifecycle?after=${lifecycleCursor}`);
  // A reset starts the log again: its cursor goes back.
  if (body.cursor < lifecycleCursor) lifecycleEvents = [];
  lifecycleCursor = body.cursor;
  if (!body.events.length && lifecycleEvents.length) return;
  lifecycleEvents = lifecycleEvents.concat(body.events).slice(-MAX_EVENTS_SHOWN);
  $('lifecycle-count').textContent = `(${lifecycleEvents.length})`;
  const newestFirst = lifecycleEvents.slice().reverse();
  renderRows($('lifecycle-rows'), newestFirst.map((e) => e.seq), () => (newestFirst.length ? newestFirst.map(lifecycleRow) : [emptyRow(6, 'Nothing removed by lifecycle rules yet.')]));
}

// ---- Events -----------------------------------------------------------------------------------

let events = [];
let cursor = 0;
let generation = 0;
const seenEventNames = new Set(['Decrypt', 'Encrypt', 'GenerateDataKey', 'CreateKey', 'CreateAlias', 'DescribeKey']);

function filterParams() {
  const form = $('filters');
  const params = new URLSearchParams();
  for (const name of ['key', 'eventName', 'user', 'error']) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  return params;
}

function filterBy(name, value) {
  $('filters').elements[name].value = value;
  restartEvents();
}

/** Who made the call: the caller, or a service on the caller's behalf. */
function callerCell(e) {
  if (e.identityType === 'AWSService' || (e.invokedBy && e.invokedBy !== 'AWS Internal')) {
    return h('td', { class: 'caller' }, badge(`via ${e.invokedBy}`, 'service'), h('div', { class: 'dim small' }, `on behalf of ${e.principalArn || e.username}`));
  }
  if (e.invokedBy === 'AWS Internal') return h('td', { class: 'caller' }, badge('KMS itself', 'internal'));
  return h('td', { class: 'caller' }, h('span', { class: 'small' }, e.principalArn || ''));
}

function eventRows(e) {
  const row = h(
    'tr',
    { class: `event ${e.errorCode ? 'error' : ''}`, 'data-event-name': e.eventName, 'data-event-id': e.eventId },
    h('td', { class: 'nowrap' }, time(e.time)),
    h('td', {}, h('strong', {}, e.eventName)),
    h('td', {}, e.username),
    callerCell(e),
    h('td', { class: 'mono small' }, e.keyArns.map((arn) => h('div', { title: arn }, shortArn(arn)))),
    h('td', {}, [
      ...(e.errorCode ? [badge(e.errorCode, 'bad'), e.errorMessage ? h('div', { class: 'small' }, e.errorMessage) : null] : [badge('OK', 'ok')]),
      // A failure or delay a fault rule injected (POST /_sealbox/faults), not one KMS chose.
      e.injectedFault ? h('span', { class: 'badge warn', 'data-injected-fault': e.injectedFault, title: `injected by fault rule ${e.injectedFault}` }, `injected (${e.injectedFault})`) : null,
    ]),
  );
  const record = h('tr', { class: 'record' }, h('td', { colspan: 6 }, details('CloudTrail record', json(e.record))));
  return [row, record];
}

function renderEvents() {
  $('event-count').textContent = `(${events.length}${events.length >= MAX_EVENTS_SHOWN ? ', newest shown' : ''})`;
  const newestFirst = events.slice().reverse();
  renderRows($('event-rows'), newestFirst.map((e) => e.eventId), () => (newestFirst.length ? newestFirst.flatMap(eventRows) : [emptyRow(6, 'No events match.')]));
  const names = [...seenEventNames].sort();
  renderRows($('event-options'), names, () => names.map((n) => h('option', { value: n })));
}

async function loadEvents() {
  const mine = generation;
  const params = filterParams();
  params.set('after', String(cursor));
  const body = await getJson(`/api/events?${params}`);
  // A filter changed while this request was out: its answer belongs to the old filter.
  if (mine !== generation) return;
  cursor = Math.max(cursor, body.cursor);
  // Two requests may overlap (a poll and a filter change): keep each event once.
  const lastSeq = events.length ? events[events.length - 1].seq : 0;
  const fresh = body.events.filter((e) => e.seq > lastSeq);
  for (const e of fresh) seenEventNames.add(e.eventName);
  if (fresh.length || !events.length) {
    events = events.concat(fresh).slice(-MAX_EVENTS_SHOWN);
    renderEvents();
  }
}

function restartEvents() {
  generation += 1;
  events = [];
  cursor = 0;
  loadEvents().catch(showError);
}

// ---- Polling ----------------------------------------------------------------------------------

function showError(err) {
  setStatus(`Cannot reach Sealbox: ${err.message}`);
}

function emptyRow(columns, text) {
  return h('tr', {}, h('td', { colspan: columns, class: 'dim empty' }, text));
}

function poll(load, ms) {
  const run = () =>
    load()
      .then(() => setStatus(''))
      .catch(showError)
      .finally(() => setTimeout(run, ms));
  run();
}

document.addEventListener('DOMContentLoaded', () => {
  let typing;
  $('filters').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(restartEvents, 250);
  });
  $('filters').addEventListener('reset', () => setTimeout(restartEvents, 0));
  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    restartEvents();
  });
  poll(() => Promise.all([loadOverview(), loadKeys(), loadBuckets(), loadLifecycle()]), STATE_POLL_MS);
  poll(loadEvents, EVENT_POLL_MS);
});
