// Sealbox console: renders the JSON API of the server that serves this file. Every value from
// the API reaches the page as text (textContent), never as markup. What is shown (the view, the
// selected key, bucket or request, the filters) lives in the URL's query string, so a link
// reproduces it and back/forward walk through it.
'use strict';

const EVENT_POLL_MS = 1000;
const STATE_POLL_MS = 3000;
const MAX_EVENTS_SHOWN = 500;
const REQUESTS_SHOWN = 200;

const VIEWS = ['keys', 'buckets', 'events', 'requests', 'identities', 'whatif'];
const EVENT_FILTERS = ['key', 'eventName', 'user', 'error'];
const REQUEST_FILTERS = ['service', 'failed', 'q'];
const WHATIF_FIELDS = ['service', 'principal', 'action', 'resource', 'context'];
/** Condition keys a simulation works out itself: left out when a record is asked "what if". */
const DERIVED_KEYS = new Set(['aws:currenttime', 'aws:epochtime', 'aws:principalarn', 'aws:principalaccount', 'aws:principaltype', 'aws:userid', 'aws:username', 'aws:principalisawsservice', 'aws:requestedregion']);
const COMMON_ACTIONS = [
  'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:DescribeKey', 'kms:CreateGrant', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:Sign', 'kms:Verify',
  's3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket', 's3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:CreateBucket', 's3:DeleteBucket', 's3:PutObjectAcl',
];

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

async function getJson(path, init) {
  const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store', ...init });
  const body = await res.json();
  if (!res.ok) throw Object.assign(new Error(body.error || `HTTP ${res.status}`), { status: res.status });
  return body;
}

/** Replaces an element's children, only when what they show changed (open details stay open). */
const shown = new Map();
function renderRows(el, data, rows) {
  const key = JSON.stringify(data);
  if (shown.get(el.id) === key) return;
  shown.set(el.id, key);
  el.replaceChildren(...rows().flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
}

function setStatus(message) {
  $('status').textContent = message;
  $('status').hidden = !message;
}

/** The header's live badge: green while Sealbox answers, red while it does not. */
function setLive(up) {
  const live = $('live');
  live.classList.toggle('down', !up);
  live.textContent = up ? 'live' : 'offline';
  live.title = up ? 'refreshing every second' : 'Sealbox does not answer: is it still running?';
}

/** A navigation link: the page's own URL for another state, followed without a reload. */
function link(text, view, values, attrs) {
  return h('a', { ...attrs, href: urlFor(view, values), onclick: (e) => { e.preventDefault(); go(view, values); } }, text);
}

// ---- URL state ---------------------------------------------------------------------------------

/** What each view last showed, so the navigation returns to it. */
const remembered = {};

function urlFor(view, values) {
  const p = new URLSearchParams();
  p.set('view', view);
  for (const [k, v] of Object.entries(values || {})) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  return `?${p}`;
}

function urlState() {
  const p = new URLSearchParams(location.search);
  const view = VIEWS.includes(p.get('view')) ? p.get('view') : 'keys';
  p.delete('view');
  return { view, values: Object.fromEntries(p) };
}

/** Shows `view` with `values`: a new history entry (or, while typing, the same one). */
function go(view, values, options = {}) {
  const url = urlFor(view, values);
  if (url !== location.search) history[options.replace ? 'replaceState' : 'pushState'](null, '', url);
  applyUrl();
}

function setFields(form, names, values) {
  for (const name of names) {
    const field = form.elements[name];
    const value = values[name] ?? '';
    if (field.value !== value) field.value = value;
  }
}

function fieldValues(form, names) {
  const out = {};
  for (const name of names) {
    const value = form.elements[name].value.trim();
    if (value) out[name] = value;
  }
  return out;
}

/** Makes the page what the URL says. */
function applyUrl() {
  const { view, values } = urlState();
  remembered[view] = values;
  for (const v of VIEWS) $(v).hidden = v !== view;
  for (const a of $('nav').querySelectorAll('a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `Sealbox console: ${$('nav').querySelector(`a[data-view="${view}"]`).firstChild.textContent.trim()}`;
  renderEmptyHint();
  const quietly = (p) => p.catch(showError);
  if (view === 'keys') {
    selectedKey = values.arn || null;
    quietly(Promise.all([loadKeys(), loadKeyDetail()]));
  } else if (view === 'buckets') {
    selectedBucket = values.bucket || null;
    quietly(loadBuckets());
  } else if (view === 'events') {
    setFields($('filters'), EVENT_FILTERS, values);
    const wanted = JSON.stringify(fieldValues($('filters'), EVENT_FILTERS));
    if (wanted !== eventFilterShown) restartEvents();
  } else if (view === 'requests') {
    setFields($('request-filters'), REQUEST_FILTERS, values);
    selectedRequest = values.id || null;
    quietly(Promise.all([loadRequests(), loadDecision()]));
  } else if (view === 'identities') {
    quietly(loadIdentities());
  } else if (view === 'whatif') {
    setFields($('whatif-form'), WHATIF_FIELDS, { service: 'kms', ...values });
    quietly(loadIdentities());
    if (values.principal && values.action) quietly(runWhatIf());
    else $('whatif-result').hidden = true;
  }
}

// ---- Overview and the empty sandbox ------------------------------------------------------------

let overview = null;
let keyList = null;
let bucketList = null;

async function loadOverview() {
  const o = await getJson('/api/overview');
  overview = o;
  const item = (name, value) => [h('dt', {}, name), h('dd', {}, value)];
  $('overview').replaceChildren(...item('KMS', o.kms), ...item('S3', o.s3), ...item('Region', o.region), ...item('Sealbox time', time(o.now)));
}

/** With no key and no bucket yet: the AWS CLI commands that create the first ones, for this Sealbox. */
function renderEmptyHint() {
  const { view } = urlState();
  const empty = keyList !== null && bucketList !== null && keyList.length === 0 && bucketList.length === 0 && overview !== null;
  $('empty-hint').hidden = !(empty && (view === 'keys' || view === 'buckets'));
  if (!empty) return;
  const cli = overview.cli || { kms: overview.kms, s3: overview.s3 };
  const ca = cli.caBundle ? ` --ca-bundle ${cli.caBundle}` : '';
  const lines = [
    `aws --endpoint-url ${cli.kms}${ca} kms create-key --description "my first key"`,
    `aws --endpoint-url ${cli.kms}${ca} kms create-alias --alias-name alias/my-first-key --target-key-id KEY_ID`,
    `aws --endpoint-url ${cli.s3}${ca} s3 mb s3://my-first-bucket`,
  ];
  $('empty-commands').textContent = lines.join('\n');
}

// ---- Keys -------------------------------------------------------------------------------------

const STATE_KIND = { Enabled: 'ok', Disabled: 'warn', PendingDeletion: 'bad', PendingReplicaDeletion: 'bad', PendingImport: 'warn', Unavailable: 'bad' };

let selectedKey = null;
/** Key ARN -> its aliases: events show them next to key ids. */
let aliasesByArn = new Map();

function multiRegionBadges(k) {
  const m = k.multiRegionConfiguration;
  if (!m) return k.multiRegion ? badge('multi-Region') : null;
  return m.role === 'PRIMARY'
    ? [badge('multi-Region primary', 'primary'), h('div', { class: 'dim small' }, m.replicaRegions.length ? `replicas in ${m.replicaRegions.join(', ')}` : 'no replicas')]
    : [badge('multi-Region replica', 'replica'), h('div', { class: 'dim small' }, `primary in ${m.primaryRegion}`)];
}

function keyRow(k) {
  const rotation = k.rotation;
  const rotationText = rotation.enabled ? `every ${rotation.periodDays} days, next ${time(rotation.nextRotationDate)}` : 'off';
  const history = rotation.history.length
    ? details(`${rotation.history.length} rotation(s)`, rotation.history.map((r) => `${time(r.date)}  ${r.type}  ${r.keyMaterialId}`).join('\n'))
    : null;
  return h(
    'tr',
    { 'data-key-id': k.keyId, 'data-key-arn': k.arn, class: k.arn === selectedKey ? 'selected' : null },
    h(
      'td',
      {},
      k.aliases.map((a) => h('div', { class: 'alias' }, a)),
      h('div', { class: 'mono' }, link(k.keyId, 'keys', { arn: k.arn }, { class: 'key-link', title: 'show its policy, grants and tags' })),
      h('div', { class: 'dim mono small' }, k.arn),
      k.keyManager === 'AWS' ? badge('AWS managed') : null,
      multiRegionBadges(k),
      h('div', { class: 'small' }, link('events', 'events', { key: k.keyId }, { title: 'show this key’s events' })),
    ),
    h(
      'td',
      {},
      badge(k.state, STATE_KIND[k.state]),
      // ScheduleKeyDeletion's DeletionDate: the key is gone after it, and its ciphertexts with it.
      k.deletionDate ? h('div', { class: 'small deletes' }, `deletes on ${time(k.deletionDate)}`) : null,
    ),
    h('td', {}, h('div', {}, k.keySpec), h('div', { class: 'dim small' }, k.keyUsage), k.origin !== 'AWS_KMS' ? h('div', { class: 'dim small' }, k.origin) : null),
    h('td', {}, k.description),
    h('td', { class: 'wide' }, h('div', {}, rotationText), rotation.onDemandRotations ? h('div', { class: 'dim small' }, `${rotation.onDemandRotations} on demand`) : null, history),
    h('td', { class: 'nowrap wide' }, time(k.creationDate), h('div', { class: 'dim small' }, `${k.accountId} ${k.region}`)),
    h('td', { class: 'nowrap' }, k.lastUse ? [h('div', {}, k.lastUse.operation), h('div', { class: 'dim small' }, time(k.lastUse.time))] : h('span', { class: 'dim' }, 'never')),
  );
}

async function loadKeys() {
  const { keys } = await getJson('/api/keys');
  keyList = keys;
  aliasesByArn = new Map(keys.map((k) => [k.arn, k.aliases]));
  $('key-count').textContent = `(${keys.length})`;
  renderRows($('key-rows'), { keys, selectedKey }, () => (keys.length ? keys.map(keyRow) : [emptyRow(7, 'No keys yet.')]));
  const options = keys.flatMap((k) => [...k.aliases, k.keyId]);
  renderRows($('key-options'), options, () => options.map((o) => h('option', { value: o })));
  renderEmptyHint();
}

function tableOf(headings, rows, attrs) {
  return h('table', attrs || {}, h('thead', {}, h('tr', {}, headings.map((t) => h('th', {}, t)))), h('tbody', {}, rows));
}

function none(text) {
  return h('p', { class: 'dim small' }, text);
}

function constraintText(c) {
  if (!c) return 'none';
  const parts = [];
  if (c.EncryptionContextEquals) parts.push(`EncryptionContextEquals ${JSON.stringify(c.EncryptionContextEquals)}`);
  if (c.EncryptionContextSubset) parts.push(`EncryptionContextSubset ${JSON.stringify(c.EncryptionContextSubset)}`);
  return parts.join('\n');
}

function keyDetail(a) {
  const m = a.multiRegionConfiguration;
  return [
    h('div', { class: 'detail-head' }, h('h3', {}, 'Access to ', h('span', { class: 'mono' }, a.aliases[0] || a.keyId)), link('close', 'keys', {}, { class: 'small' })),
    h('div', { class: 'dim mono small' }, a.arn),
    h('h4', {}, 'Aliases'),
    a.aliases.length ? h('div', { id: 'key-aliases' }, a.aliases.map((x) => h('div', { class: 'alias' }, x))) : none('No aliases.'),
    m ? [h('h4', {}, 'Multi-Region'), h('p', { id: 'key-multi-region' }, m.role === 'PRIMARY' ? `Primary key; replicas in ${m.replicaRegions.join(', ') || 'no other Region'}.` : `Replica of the primary key in ${m.primaryRegion}.`)] : null,
    h('h4', {}, 'Key policy'),
    h('pre', { id: 'key-policy', class: 'policy' }, prettyPolicy(a.policy)),
    h('h4', {}, `Grants (${a.grants.length})`),
    a.grants.length
      ? tableOf(
          ['Grant', 'Grantee', 'Operations', 'Constraints', 'Retiring principal', 'Created'],
          a.grants.map((g) =>
            h(
              'tr',
              { 'data-grant-id': g.grantId },
              h('td', {}, g.name ? h('div', { class: 'alias' }, g.name) : null, h('div', { class: 'mono small' }, g.grantId)),
              h('td', { class: 'mono small' }, g.granteePrincipal),
              h('td', { class: 'small' }, g.operations.join(', ')),
              h('td', {}, g.constraints ? h('pre', { class: 'context' }, constraintText(g.constraints)) : h('span', { class: 'dim' }, 'none')),
              h('td', { class: 'mono small' }, g.retiringPrincipal || ''),
              h('td', { class: 'nowrap small' }, time(g.creationDate)),
            ),
          ),
          { id: 'key-grants' },
        )
      : none('No grants.'),
    h('h4', {}, `Tags (${a.tags.length})`),
    a.tags.length ? tableOf(['Key', 'Value'], a.tags.map((t) => h('tr', {}, h('td', {}, t.TagKey), h('td', {}, t.TagValue))), { id: 'key-tags' }) : none('No tags.'),
  ];
}

async function loadKeyDetail() {
  const panel = $('key-detail');
  const arn = selectedKey;
  if (!arn) {
    panel.hidden = true;
    return;
  }
  let access;
  try {
    access = await getJson(`/api/key?arn=${encodeURIComponent(arn)}`);
  } catch (err) {
    if (err.status !== 404) throw err;
    access = null;
  }
  if (arn !== selectedKey) return;
  panel.hidden = false;
  renderRows(panel, access, () => (access ? keyDetail(access) : [none(`There is no key ${arn} (any more).`)]));
}

// ---- Buckets and objects ----------------------------------------------------------------------

let selectedBucket = null;

function encryptionText(e) {
  if (e.algorithm === 'AES256') return 'SSE-S3 (AES256)';
  if (e.algorithm === 'aws:kms') return 'SSE-KMS';
  if (e.algorithm === 'aws:kms:dsse') return 'DSSE-KMS';
  return e.algorithm;
}

function encryptionCell(e) {
  return [
    h('div', {}, encryptionText(e)),
    e.kmsMasterKeyId ? h('div', { class: 'mono small' }, e.kmsMasterKeyId) : null,
    e.algorithm.startsWith('aws:kms') && !e.kmsMasterKeyId ? h('div', { class: 'dim small' }, 'aws/s3 (AWS managed key)') : null,
    e.bucketKeyEnabled ? badge('Bucket Key') : null,
  ];
}

function bucketRow(b) {
  return h(
    'tr',
    { class: b.name === selectedBucket ? 'selected' : null, 'data-bucket': b.name },
    h('td', {}, link(b.name, 'buckets', { bucket: b.name }, { class: 'bucket-link' }), h('div', { class: 'dim small' }, `${b.accountId} ${b.region}`)),
    h('td', {}, b.versioning || h('span', { class: 'dim' }, 'never enabled'), b.lifecycle ? h('div', {}, badge(`lifecycle: ${b.lifecycle.enabled} of ${b.lifecycle.rules} rules on`)) : null),
    h('td', {}, encryptionCell(b.encryption)),
    h('td', {}, b.policy ? details('policy', prettyPolicy(b.policy)) : h('span', { class: 'dim' }, 'none')),
    h('td', {}, String(b.objectCount)),
    h('td', { class: 'nowrap wide' }, time(b.creationDate)),
  );
}

function prettyPolicy(text) {
  try {
    return json(JSON.parse(text));
  } catch {
    return text;
  }
}

const BPA_SETTINGS = [
  ['blockPublicAcls', 'BlockPublicAcls'],
  ['ignorePublicAcls', 'IgnorePublicAcls'],
  ['blockPublicPolicy', 'BlockPublicPolicy'],
  ['restrictPublicBuckets', 'RestrictPublicBuckets'],
];

function bpaCell(config, setting) {
  if (!config) return h('td', { class: 'dim' }, 'not set');
  return h('td', {}, config[setting] ? badge('on', 'ok') : badge('off', 'warn'));
}

function bucketDetail(a) {
  return [
    h('div', { class: 'detail-head' }, h('h3', {}, 'Access to ', h('span', { class: 'mono' }, a.name)), link('close', 'buckets', {}, { class: 'small' })),
    h('h4', {}, 'Bucket policy'),
    a.policy ? h('pre', { id: 'bucket-policy', class: 'policy' }, prettyPolicy(a.policy)) : none('No bucket policy.'),
    h('h4', {}, 'Block Public Access'),
    tableOf(
      ['Setting', 'Bucket', `Account ${a.accountId}`],
      BPA_SETTINGS.map(([field, name]) => h('tr', { 'data-setting': name }, h('td', {}, name), bpaCell(a.publicAccessBlock, field), bpaCell(a.accountPublicAccessBlock, field))),
      { id: 'bucket-bpa' },
    ),
    h('p', { class: 'dim small' }, 'A setting applies when the bucket or its account turns it on.'),
    h('h4', {}, 'Object Ownership'),
    h('p', { id: 'bucket-ownership' }, a.objectOwnership || 'not set', ' ', a.aclsEnabled ? badge('ACLs honoured', 'warn') : badge('ACLs disabled', 'ok')),
    h('h4', {}, 'Bucket ACL'),
    tableOf(['Grantee', 'Type', 'Permission'], a.acl.map((g) => h('tr', {}, h('td', {}, g.grantee), h('td', { class: 'small' }, g.granteeType), h('td', {}, g.permission))), { id: 'bucket-acl' }),
    h('h4', {}, 'CORS'),
    a.cors ? h('pre', { id: 'bucket-cors' }, json(a.cors)) : none('No CORS configuration.'),
    h('h4', {}, 'Default encryption'),
    h('div', { id: 'bucket-encryption' }, encryptionCell(a.encryption)),
    a.tags.length ? [h('h4', {}, 'Tags'), tableOf(['Key', 'Value'], a.tags.map((t) => h('tr', {}, h('td', {}, t.key), h('td', {}, t.value))))] : null,
  ];
}

async function loadBuckets() {
  const { buckets } = await getJson('/api/buckets');
  bucketList = buckets;
  $('bucket-count').textContent = `(${buckets.length})`;
  renderRows($('bucket-rows'), { buckets, selectedBucket }, () => (buckets.length ? buckets.map(bucketRow) : [emptyRow(6, 'No buckets yet.')]));
  const resources = [...(keyList || []).flatMap((k) => [k.arn, ...k.aliases]), ...buckets.flatMap((b) => [`arn:aws:s3:::${b.name}`, `arn:aws:s3:::${b.name}/*`])];
  renderRows($('resource-options'), resources, () => resources.map((r) => h('option', { value: r })));
  renderEmptyHint();
  if (urlState().view === 'buckets') await Promise.all([loadBucketDetail(), loadObjects()]);
}

async function loadBucketDetail() {
  const panel = $('bucket-detail');
  const name = selectedBucket;
  if (!name) {
    panel.hidden = true;
    return;
  }
  let access;
  try {
    access = await getJson(`/api/bucket?name=${encodeURIComponent(name)}`);
  } catch (err) {
    if (err.status !== 404) throw err;
    access = null;
  }
  if (name !== selectedBucket) return;
  panel.hidden = false;
  renderRows(panel, access, () => (access ? bucketDetail(access) : [none(`There is no bucket ${name} (any more).`)]));
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
      h('td', { class: 'nowrap wide' }, time(v.lastModified)),
      h('td', {}, e ? encryptionText(e) : ''),
      h('td', { class: 'mono small' }, e && e.kmsKeyArn ? e.kmsKeyArn : ''),
      h('td', { class: 'wide' }, e && e.algorithm.startsWith('aws:kms') ? (e.bucketKeyEnabled ? 'enabled' : 'no') : ''),
      h('td', {}, e && e.context ? h('pre', { class: 'context' }, json(e.context)) : e && e.customerKeyMd5 ? h('span', { class: 'small' }, `SSE-C key MD5 ${e.customerKeyMd5}`) : ''),
    );
  });
}

async function loadObjects() {
  $('objects').hidden = !selectedBucket;
  if (!selectedBucket) return;
  const bucket = selectedBucket;
  let listed;
  try {
    listed = await getJson(`/api/objects?bucket=${encodeURIComponent(bucket)}`);
  } catch (err) {
    if (err.status !== 404) throw err;
    $('objects').hidden = true;
    return;
  }
  if (bucket !== selectedBucket) return;
  const { objects, truncated } = listed;
  $('objects-bucket').textContent = bucket + (truncated ? ' (the first 1000 versions)' : '');
  renderRows($('object-rows'), { bucket, objects }, () => (objects.length ? objects.flatMap(versionRows) : [emptyRow(8, 'This bucket is empty.')]));
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
let eventFilterShown = null;
const seenEventNames = new Set(['Decrypt', 'Encrypt', 'GenerateDataKey', 'CreateKey', 'CreateAlias', 'DescribeKey']);

/** Who made the call: the caller, or a service on the caller's behalf. */
function callerCell(e) {
  if (e.identityType === 'AWSService' || (e.invokedBy && e.invokedBy !== 'AWS Internal')) {
    return h('td', { class: 'caller' }, badge(`via ${e.invokedBy}`, 'service'), h('div', { class: 'dim small' }, `on behalf of ${e.principalArn || e.username}`));
  }
  if (e.invokedBy === 'AWS Internal') return h('td', { class: 'caller' }, badge('KMS itself', 'internal'));
  return h('td', { class: 'caller' }, h('span', { class: 'small' }, e.principalArn || ''));
}

/** A key in an event: its alias(es) beside its id, the ARN on hover. */
function keyCell(arn) {
  const aliases = aliasesByArn.get(arn) || [];
  return h('div', { title: arn, class: 'event-key' }, aliases.length ? h('span', { class: 'alias' }, aliases.join(', ')) : null, aliases.length ? ' ' : null, h('span', { class: 'mono small' }, shortArn(arn)));
}

function eventRows(e) {
  const row = h(
    'tr',
    { class: `event ${e.errorCode ? 'error' : ''}`, 'data-event-name': e.eventName, 'data-event-id': e.eventId },
    h('td', { class: 'nowrap' }, time(e.time)),
    h('td', {}, h('strong', {}, e.eventName)),
    h('td', { class: 'wide' }, e.username),
    callerCell(e),
    h('td', {}, e.keyArns.map(keyCell)),
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
  const aliases = [...new Set(newestFirst.flatMap((e) => e.keyArns))].map((arn) => aliasesByArn.get(arn) || []);
  renderRows($('event-rows'), { ids: newestFirst.map((e) => e.eventId), aliases }, () => (newestFirst.length ? newestFirst.flatMap(eventRows) : [emptyRow(6, 'No events match.')]));
  const names = [...seenEventNames].sort();
  renderRows($('event-options'), names, () => names.map((n) => h('option', { value: n })));
}

async function loadEvents() {
  const mine = generation;
  const params = new URLSearchParams(fieldValues($('filters'), EVENT_FILTERS));
  params.set('after', String(cursor));
  const body = await getJson(`/api/events?${params}`);
  // A filter changed while this request was out: its answer belongs to the old filter.
  if (mine !== generation) return;
  cursor = Math.max(cursor, body.cursor);
  // Two requests may overlap (a poll and a filter change): keep each event once.
  const lastSeq = events.length ? events[events.length - 1].seq : 0;
  const fresh = body.events.filter((e) => e.seq > lastSeq);
  for (const e of fresh) seenEventNames.add(e.eventName);
  events = events.concat(fresh).slice(-MAX_EVENTS_SHOWN);
  renderEvents();
}

function restartEvents() {
  generation += 1;
  events = [];
  cursor = 0;
  eventFilterShown = JSON.stringify(fieldValues($('filters'), EVENT_FILTERS));
  loadEvents().catch(showError);
}

// ---- Requests and decision records -------------------------------------------------------------

let selectedRequest = null;

function principalText(r) {
  if (r.principal) return r.principal;
  return r.accessKeyId ? 'not authenticated' : 'anonymous';
}

function requestRow(r) {
  const failed = r.status >= 400;
  const values = { ...fieldValues($('request-filters'), REQUEST_FILTERS), id: r.requestId };
  return h(
    'tr',
    { class: `request ${failed ? 'failed' : ''} ${r.requestId === selectedRequest ? 'selected' : ''}`, 'data-request-id': r.requestId, 'data-operation': r.operation, 'data-service': r.service },
    h('td', { class: 'nowrap' }, time(Date.parse(r.time))),
    h('td', {}, badge(r.service === 's3' ? 'S3' : 'KMS', r.service)),
    h('td', {}, link(r.operation, 'requests', values, { class: 'request-link', title: 'open its decision record' }), h('div', { class: 'dim mono small' }, r.requestId)),
    h('td', {}, h('div', { class: 'small principal' }, principalText(r)), r.accessKeyId ? h('div', { class: 'dim mono small' }, r.accessKeyId) : null),
    h('td', {}, badge(String(r.status), failed ? 'bad' : 'ok'), r.errorCode ? badge(r.errorCode, 'bad') : null, r.message ? h('div', { class: 'small' }, r.message) : null),
    h('td', {}, r.decision ? badge(r.decision, r.decision === 'Allow' ? 'ok' : 'bad') : h('span', { class: 'dim small' }, 'none')),
  );
}

async function loadRequests() {
  const filters = fieldValues($('request-filters'), REQUEST_FILTERS);
  const params = new URLSearchParams({ ...filters, limit: String(REQUESTS_SHOWN) });
  const { requests } = await getJson(`/api/requests?${params}`);
  if (JSON.stringify(fieldValues($('request-filters'), REQUEST_FILTERS)) !== JSON.stringify(filters)) return;
  $('request-count').textContent = `(${requests.length}${requests.length >= REQUESTS_SHOWN ? ', newest shown' : ''})`;
  renderRows($('request-rows'), { requests, selectedRequest, filters }, () => (requests.length ? requests.map(requestRow) : [emptyRow(6, 'No requests match.')]));
}

/** The failures among the recent requests, beside the navigation's Requests link. */
async function loadFailedCount() {
  const { requests } = await getJson('/api/requests?failed=1&limit=1000');
  $('failed-count').textContent = requests.length ? `${requests.length >= 1000 ? '1000+' : requests.length} failed` : '';
}

async function loadDecision() {
  const panel = $('decision');
  const id = selectedRequest;
  if (!id) {
    panel.hidden = true;
    return;
  }
  let doc;
  try {
    doc = await getJson(`/api/decisions?id=${encodeURIComponent(id)}`);
  } catch (err) {
    if (err.status !== 404) throw err;
    doc = null;
  }
  if (id !== selectedRequest) return;
  panel.hidden = false;
  renderRows(panel, doc, () => (doc ? decisionDocument(doc) : [none(`Request ${id} is not among the recent requests of either service (a reset clears them).`)]));
}

function decisionDocument(doc) {
  const r = doc.request;
  const filters = fieldValues($('request-filters'), REQUEST_FILTERS);
  return [
    h(
      'div',
      { class: 'detail-head' },
      h('h3', {}, `${r.service === 's3' ? 'S3' : 'KMS'} ${doc.operation} `, h('span', { class: 'mono small' }, doc.requestId)),
      link('close', 'requests', filters, { class: 'small' }),
    ),
    h('p', {}, badge(String(r.status), r.status >= 400 ? 'bad' : 'ok'), r.errorCode ? badge(r.errorCode, 'bad') : null, ' ', r.message || '', ' ', h('span', { class: 'dim small' }, time(Date.parse(r.time)))),
    doc.decisions.length
      ? doc.decisions.map((d, i) => decisionView(d, doc.decisions.length > 1 ? `Authorization ${i + 1} of ${doc.decisions.length}` : undefined))
      : none('No authorization was recorded for this request: it failed before one was made, or needs none.'),
    doc.kmsRequests && doc.kmsRequests.length
      ? [
          h('h4', {}, 'KMS requests S3 made for it'),
          h(
            'ul',
            { class: 'kms-requests' },
            doc.kmsRequests.map((k) => h('li', {}, link(`${k.operation} ${k.status}${k.errorCode ? ` ${k.errorCode}` : ''}`, 'requests', { ...filters, id: k.requestId }), ' ', h('span', { class: 'dim mono small' }, k.requestId))),
          ),
        ]
      : null,
  ];
}

/** Whether this source is the one the reason names (the deciding policy, grant or rule). */
function isDeciding(source, reason) {
  if (!reason.source || source.source !== reason.source) return false;
  if (reason.grantId) return source.grantId === reason.grantId;
  if (reason.policy) return source.name === reason.policy;
  return source.decision !== 'NotApplicable' || source.source === 'signature' || source.source === 'transport';
}

const mark = (ok) => h('span', { class: ok ? 'yes' : 'no' }, ok ? '✓' : '✗');

function statementTable(source, deciding, reason) {
  const decidingIndex = deciding && reason.statement ? reason.statement.index : -1;
  return tableOf(
    ['Statement', 'Effect', 'Applies', 'Principal / Action / Resource', 'Conditions'],
    source.statements.map((st) => {
      const classes = [st.applies ? 'applies' : 'skipped', st.index === decidingIndex ? 'deciding' : ''].join(' ');
      return h(
        'tr',
        { class: `statement ${classes}`, 'data-statement': st.index, 'data-sid': st.sid },
        h('td', {}, st.sid ? h('strong', {}, st.sid) : null, h('div', { class: 'dim small' }, `#${st.index}`), st.index === decidingIndex ? badge('deciding', 'decides') : null),
        h('td', {}, badge(st.effect, st.effect === 'Allow' ? 'ok' : 'bad')),
        h('td', {}, mark(st.applies), h('div', { class: 'small' }, st.text)),
        h('td', {}, (st.elements || []).map((e) => h('div', { class: `element small ${e.satisfied ? '' : 'failed'}` }, mark(e.satisfied), ' ', e.text))),
        h(
          'td',
          {},
          st.conditions && st.conditions.length
            ? tableOf(
                ['Condition', 'Expected (policy)', 'Actual (request)', ''],
                st.conditions.map((c) =>
                  h(
                    'tr',
                    { class: `condition ${c.result ? '' : 'failed'}`, 'data-key': c.key },
                    h('td', { class: 'small' }, h('div', {}, c.operator), h('div', { class: 'mono' }, c.key)),
                    h('td', { class: 'mono small expected' }, c.policyValues.join(', ')),
                    h('td', { class: 'mono small actual' }, c.requestValues === null ? h('span', { class: 'dim' }, 'absent') : c.requestValues.join(', ')),
                    h('td', {}, mark(c.result)),
                  ),
                ),
                { class: 'conditions' },
              )
            : h('span', { class: 'dim small' }, 'none'),
        ),
      );
    }),
    { class: 'statements' },
  );
}

function sourceView(source, reason) {
  const deciding = isDeciding(source, reason);
  const kind = source.decision === 'Allow' ? 'ok' : source.decision === 'Deny' ? 'bad' : '';
  const extra = [];
  if (source.operations) extra.push(h('div', { class: 'small' }, `Operations: ${source.operations.join(', ')}`));
  if (source.granteePrincipal) extra.push(h('div', { class: 'small' }, `Grantee: ${source.granteePrincipal}`));
  if (source.constraints) extra.push(h('pre', { class: 'context' }, constraintText(source.constraints)));
  if (source.grants) extra.push(h('div', { class: 'small' }, `Grants: ${source.grants.join('; ')}`));
  return h(
    'div',
    { class: `source ${deciding ? 'deciding' : ''}`, 'data-source': source.source, 'data-name': source.name },
    h('div', { class: 'source-head' }, h('strong', {}, source.name), ' ', badge(source.decision, kind), deciding ? badge('decided', 'decides') : null),
    source.text ? h('div', { class: 'small' }, source.text) : null,
    extra,
    source.statements && source.statements.length ? statementTable(source, deciding, reason) : null,
  );
}

function whatIfValues(d) {
  const context = {};
  for (const [k, v] of Object.entries(d.context || {})) if (!DERIVED_KEYS.has(k.toLowerCase())) context[k] = v.length === 1 ? v[0] : v;
  const service = /^s3:/i.test(d.action) ? 's3' : 'kms';
  return { service, principal: d.principal.arn || 'anonymous', action: d.action, resource: d.resource === '*' ? '' : d.resource, context: Object.keys(context).length ? JSON.stringify(context) : '' };
}

function decisionView(d, title) {
  const r = d.reason;
  const decidingName = r.statement ? `${r.statement.sid !== undefined ? `statement '${r.statement.sid}'` : `statement #${r.statement.index}`} of the ${r.policy}` : undefined;
  const contextRows = Object.entries(d.context || {}).map(([k, v]) => h('tr', {}, h('td', { class: 'mono small' }, k), h('td', { class: 'mono small' }, v.join(', '))));
  return h(
    'div',
    { class: `decision ${d.outcome === 'Allow' ? 'allow' : 'deny'}` },
    title ? h('h4', {}, title) : null,
    h('p', { class: 'reason' }, badge(d.outcome === 'Allow' ? 'Allowed' : 'Denied', d.outcome === 'Allow' ? 'ok' : 'bad'), ' ', h('span', { class: 'reason-text' }, r.text)),
    decidingName ? h('p', { class: 'small deciding-name' }, 'Deciding: ', h('strong', {}, decidingName)) : null,
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Principal'),
      h('dd', { class: 'mono' }, d.principal.arn || d.principal.type, d.principal.arn ? h('span', { class: 'dim small' }, ` (${d.principal.type})`) : null),
      h('dt', {}, 'Action'),
      h('dd', { class: 'mono' }, d.action),
      h('dt', {}, 'Resource'),
      h('dd', { class: 'mono' }, d.resource),
    ),
    contextRows.length ? h('details', { class: 'context-keys' }, h('summary', {}, `Context keys (${contextRows.length})`), tableOf(['Key', 'Values'], contextRows)) : null,
    h('h4', {}, 'Policies and rules considered'),
    d.sources.map((s) => sourceView(s, r)),
    h('p', {}, link('What if…', 'whatif', whatIfValues(d), { class: 'whatif-link', title: 'ask the same question with other values' })),
  );
}

// ---- Identities -------------------------------------------------------------------------------

async function loadIdentities() {
  const { accounts } = await getJson('/api/identities');
  const count = accounts.reduce((n, a) => n + a.identities.length, 0);
  $('identity-count').textContent = `(${count} in ${accounts.length} account${accounts.length === 1 ? '' : 's'})`;
  renderRows($('identity-rows'), accounts, () =>
    accounts.flatMap((a) =>
      a.identities.map((id, i) =>
        h(
          'tr',
          { 'data-identity': id.arn, 'data-kind': id.kind },
          h('td', { class: 'mono' }, i === 0 ? a.accountId : ''),
          h(
            'td',
            {},
            badge(id.kind === 'root' ? 'root user' : id.kind === 'user' ? 'IAM user' : 'role session'),
            h('div', { class: 'mono small' }, id.arn),
            id.sessionArn ? h('div', { class: 'dim mono small' }, `session ${id.sessionArn}`) : null,
            id.sessionToken ? badge('session token required') : null,
          ),
          h('td', { class: 'mono small' }, id.accessKeyId),
          h(
            'td',
            {},
            id.kind === 'root'
              ? h('span', { class: 'dim small' }, 'none needed: the root user may do anything its account may, unless a resource policy denies it')
              : id.policies.length
                ? id.policies.map((p, n) => details(`identity policy ${n + 1}`, prettyPolicy(p)))
                : h('span', { class: 'dim small' }, 'none: only resource policies and grants can allow it anything'),
          ),
        ),
      ),
    ),
  );
  const principals = accounts.flatMap((a) => a.identities.flatMap((id) => [id.arn, id.accessKeyId])).concat(['anonymous']);
  renderRows($('principal-options'), principals, () => principals.map((p) => h('option', { value: p })));
}

// ---- What if ----------------------------------------------------------------------------------

async function runWhatIf() {
  const form = $('whatif-form');
  const values = fieldValues(form, WHATIF_FIELDS);
  const result = $('whatif-result');
  const question = { service: values.service || 'kms', principal: values.principal, action: values.action };
  if (values.resource) question.resource = values.resource;
  if (values.context) {
    try {
      question.context = JSON.parse(values.context);
    } catch {
      result.hidden = false;
      renderRows(result, { error: 'context' }, () => [h('p', { class: 'error' }, 'The context keys must be a JSON object: {"aws:SecureTransport": "false"}.')]);
      return;
    }
  }
  let answer;
  try {
    answer = await getJson('/api/simulate', { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify(question) });
  } catch (err) {
    if (!err.status) throw err;
    result.hidden = false;
    renderRows(result, { error: err.message }, () => [h('p', { class: 'error' }, err.message)]);
    return;
  }
  result.hidden = false;
  renderRows(result, answer, () => [h('h3', {}, 'If this request were made:'), decisionView(answer)]);
}

// ---- Polling ----------------------------------------------------------------------------------

function showError(err) {
  setStatus(`Cannot reach Sealbox: ${err.message}`);
  setLive(false);
}

function emptyRow(columns, text) {
  return h('tr', {}, h('td', { colspan: columns, class: 'dim empty' }, text));
}

function poll(load, ms) {
  const run = () =>
    load()
      .then(() => {
        setStatus('');
        setLive(true);
      })
      .catch(showError)
      .finally(() => setTimeout(run, ms));
  run();
}

function watchFilters(form, names, view) {
  let typing;
  const update = (replace) => go(view, { ...(remembered[view] || {}), ...Object.fromEntries(names.map((n) => [n, undefined])), ...fieldValues(form, names) }, { replace });
  form.addEventListener('input', (e) => {
    clearTimeout(typing);
    // Typing replaces the history entry; a choice in a list is a step back/forward can return to.
    if (e.target.tagName === 'SELECT') update(false);
    else typing = setTimeout(() => update(true), 250);
  });
  form.addEventListener('reset', () => setTimeout(() => update(false), 0));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    update(false);
  });
}

document.addEventListener('DOMContentLoaded', () => {
  for (const a of $('nav').querySelectorAll('a')) {
    a.addEventListener('click', (e) => {
      e.preventDefault();
      go(a.dataset.view, remembered[a.dataset.view] || {});
    });
  }
  watchFilters($('filters'), EVENT_FILTERS, 'events');
  // A selected request stays open while the filters change.
  watchFilters($('request-filters'), REQUEST_FILTERS, 'requests');
  const form = $('whatif-form');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const values = fieldValues(form, WHATIF_FIELDS);
    // Asked again with the same values: the URL does not change, the answer is fetched anew.
    if (urlFor('whatif', values) === location.search) runWhatIf().catch(showError);
    else go('whatif', values);
  });
  renderRows($('action-options'), COMMON_ACTIONS, () => COMMON_ACTIONS.map((a) => h('option', { value: a })));
  window.addEventListener('popstate', applyUrl);
  applyUrl();
  const view = () => urlState().view;
  poll(async () => {
    await Promise.all([loadOverview(), loadKeys(), loadFailedCount()]);
    await loadBuckets();
    if (view() === 'buckets') await loadLifecycle();
    if (view() === 'keys') await loadKeyDetail();
  }, STATE_POLL_MS);
  poll(async () => {
    if (view() === 'events') await loadEvents();
    else if (view() === 'requests') await Promise.all([loadRequests(), loadDecision()]);
    else await fetch('/api/overview', { cache: 'no-store' }).then((res) => {
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    });
  }, EVENT_POLL_MS);
});
