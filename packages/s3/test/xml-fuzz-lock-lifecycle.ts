/**
 * Schema-valid documents for the four S3 request-document parsers the shared grammar
 * (packages/e2e/test/fuzz-xml.ts) does not cover: PutBucketLifecycleConfiguration,
 * PutObjectLockConfiguration, PutObjectRetention and PutObjectLegalHold, each with what the parser
 * must make of it, and the targeted mutations that need more than one element changed (a second
 * filter predicate, an expiration before a transition, ...), each with S3's error code.
 *
 * The valid documents stay inside what AWS documents as valid, not only inside what Sealbox accepts:
 * a rule's Expiration and Transitions use Days or Date, never both ("Found mixed 'Date' and 'Days'
 * based Expiration and Transition actions" is AWS's answer); transitions follow the storage-class
 * waterfall with 30 days between an IA class and the next; ExpiredObjectDeleteMarker and
 * AbortIncompleteMultipartUpload only with filters that name no tag and no size.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLockConfiguration.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectRetention.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectLegalHold.html
 */
import type { Rng } from '../../e2e/test/fuzz-random';
import { type Doc, type El, objectKey, tagKey, xmlString } from '../../e2e/test/fuzz-xml';
import type { LifecycleConfiguration, LifecycleFilter, LifecycleRule, LifecycleTag } from '../src/lifecycle';
import type { BucketObjectLock, ObjectLockState } from '../src/store/model';

const DAY_MS = 86_400_000;
const TAG_VALUE_ALPHABET = 'abcdefXYZ0129 +-=._:/@éÅß漢字ñ';

/** Pads an xs:int, xs:long, xs:boolean or xs:dateTime with white space, which the parsers collapse. */
function padded(rng: Rng, v: string): string {
  return rng.chance(0.3) ? `${rng.pick(['', ' ', '\n  '])}${v}${rng.pick(['', ' ', '\t'])}` : v;
}

/** An integer as xs:int may write it: sometimes with a plus sign, sometimes padded. */
const intText = (rng: Rng, n: number): string => padded(rng, rng.chance(0.1) ? `+${n}` : String(n));

/** Siblings in random order; the elements of each group keep their order among themselves. */
function interleave(rng: Rng, groups: El[][]): El[] {
  const queues = groups.filter((g) => g.length > 0).map((g) => [...g]);
  const out: El[] = [];
  while (queues.some((q) => q.length > 0)) out.push(rng.pick(queues.filter((q) => q.length > 0)).shift()!);
  return out;
}

// ---------------------------------------------------------------- lifecycle

/** The order S3 lets objects move down (lifecycle-transition-general-considerations.html). */
const WATERFALL = ['STANDARD_IA', 'INTELLIGENT_TIERING', 'ONEZONE_IA', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'] as const;
const IA = new Set(['STANDARD_IA', 'ONEZONE_IA']);
export const MAX_FILTER_SIZE = 5 * 1024 ** 4;

/** A midnight UTC, written in one of the xs:dateTime forms S3 reads as that instant. */
function midnight(rng: Rng, ms: number): { text: string; iso: string } {
  const iso = new Date(ms).toISOString();
  const day = iso.slice(0, 10);
  return { iso, text: padded(rng, rng.pick([`${day}T00:00:00Z`, `${day}T00:00:00.000Z`, `${day}T00:00:00+00:00`])) };
}

function lifecycleTag(rng: Rng, key = tagKey(rng)): { tag: LifecycleTag; el: El } {
  const value = rng.text(TAG_VALUE_ALPHABET, 0, 20);
  return { tag: { key, value }, el: { name: 'Tag', children: rng.shuffle([{ name: 'Key', text: key }, { name: 'Value', text: value }]) } };
}

function filterSize(rng: Rng): number {
  return rng.chance(0.1) ? rng.pick([0, MAX_FILTER_SIZE - 1, 128 * 1024]) : rng.int(0, 50_000_000);
}

/** The rule's filter: as a legacy Prefix, a Filter with one predicate or an And, or none. */
function lifecycleFilter(rng: Rng): { filter: LifecycleFilter; els: El[] } {
  const kind = rng.pick(['none', 'legacy-prefix', 'empty', 'prefix', 'prefix', 'tag', 'tag', 'greater', 'less', 'and', 'and', 'and'] as const);
  switch (kind) {
    case 'none':
      return { filter: { kind }, els: [] };
    case 'legacy-prefix': {
      const prefix = rng.chance(0.1) ? '' : objectKey(rng);
      return { filter: { kind, prefix }, els: [{ name: 'Prefix', text: prefix }] };
    }
    case 'empty':
      return { filter: { kind }, els: [{ name: 'Filter', children: [] }] };
    case 'prefix': {
      const prefix = rng.chance(0.1) ? '' : objectKey(rng);
      return { filter: { kind, prefix }, els: [{ name: 'Filter', children: [{ name: 'Prefix', text: prefix }] }] };
    }
    case 'tag': {
      const { tag, el } = lifecycleTag(rng);
      return { filter: { kind, tag }, els: [{ name: 'Filter', children: [el] }] };
    }
    case 'greater':
    case 'less': {
      const size = kind === 'less' ? filterSize(rng) + 1 : filterSize(rng);
      return { filter: { kind, size }, els: [{ name: 'Filter', children: [{ name: kind === 'greater' ? 'ObjectSizeGreaterThan' : 'ObjectSizeLessThan', text: intText(rng, size) }] }] };
    }
    default: {
      // Two predicates or more: a prefix, distinct tag keys, one size bound or both (greater < less).
      for (;;) {
        const prefix = rng.chance(0.6) ? objectKey(rng) : undefined;
        const keys = new Set<string>();
        for (let n = rng.int(0, 3); keys.size < n; ) keys.add(tagKey(rng));
        const tags = [...keys].map((k) => lifecycleTag(rng, k));
        const greater = rng.chance(0.4) ? filterSize(rng) : undefined;
        const less = rng.chance(0.4) ? Math.min(MAX_FILTER_SIZE, (greater ?? 0) + rng.int(1, 10_000_000)) : undefined;
        const count = (prefix !== undefined ? 1 : 0) + tags.length + (greater !== undefined ? 1 : 0) + (less !== undefined ? 1 : 0);
        if (count < 2) continue;
        const groups: El[][] = [tags.map((t) => t.el)];
        if (prefix !== undefined) groups.push([{ name: 'Prefix', text: prefix }]);
        if (greater !== undefined) groups.push([{ name: 'ObjectSizeGreaterThan', text: intText(rng, greater) }]);
        if (less !== undefined) groups.push([{ name: 'ObjectSizeLessThan', text: intText(rng, less) }]);
        return {
          filter: { kind: 'and', prefix, tags: tags.map((t) => t.tag), greater, less },
          els: [{ name: 'Filter', children: [{ name: 'And', children: interleave(rng, groups) }] }],
        };
      }
    }
  }
}

const filterHasTags = (f: LifecycleFilter) => f.kind === 'tag' || (f.kind === 'and' && f.tags.length > 0);
const filterHasSize = (f: LifecycleFilter) => f.kind === 'greater' || f.kind === 'less' || (f.kind === 'and' && (f.greater !== undefined || f.less !== undefined));

/** Storage classes in waterfall order, with their day counts: 30 days at least in an IA class before the next. */
function waterfallDays(rng: Rng, count: number): Array<{ storageClass: string; days: number }> {
  const classes = rng.subset(WATERFALL, count, count).sort((a, b) => WATERFALL.indexOf(a) - WATERFALL.indexOf(b));
  let days = rng.int(0, 60);
  return classes.map((storageClass, i) => {
    if (i > 0) days += rng.int(30, 120);
    if (IA.has(storageClass) && days < 30) days = 30 + rng.int(0, 30);
    return { storageClass, days };
  });
}

/** The rule, its element, and its ID as the intent holds it (absent: any string S3 made up). */
function lifecycleRule(rng: Rng, id: string | undefined): { el: El; rule: LifecycleRule } {
  const status = rng.pick(['Enabled', 'Disabled'] as const);
  const { filter, els: filterEls } = lifecycleFilter(rng);
  const plain = !filterHasTags(filter) && !filterHasSize(filter);
  const byDate = rng.chance(0.3);
  // Days after now (2026) or dates from 2027, so every date is midnight UTC of a real day.
  const base = Date.UTC(2027, 0, 1) + rng.int(0, 1500) * DAY_MS;
  const rule: LifecycleRule = { id: id ?? (expect.any(String) as unknown as string), status, filter, transitions: [], noncurrentVersionTransitions: [] };
  const groups: El[][] = [[{ name: 'Status', text: status }], filterEls];
  if (id !== undefined) groups.push([{ name: 'ID', text: id }]);

  let lastTransition = -1;
  if (rng.chance(0.35)) {
    const steps = waterfallDays(rng, rng.int(1, 3));
    lastTransition = steps[steps.length - 1]!.days;
    groups.push(
      steps.map((s) => {
        if (byDate) {
          const { text, iso } = midnight(rng, base + s.days * DAY_MS);
          rule.transitions.push({ date: iso, storageClass: s.storageClass });
          return { name: 'Transition', children: rng.shuffle([{ name: 'Date', text }, { name: 'StorageClass', text: s.storageClass }]) };
        }
        rule.transitions.push({ days: s.days, storageClass: s.storageClass });
        return { name: 'Transition', children: rng.shuffle([{ name: 'Days', text: intText(rng, s.days) }, { name: 'StorageClass', text: s.storageClass }]) };
      }),
    );
  }
  if (rng.chance(0.55)) {
    const marker = plain && rng.chance(0.25);
    let child: El;
    if (marker) {
      const v = rng.chance(0.8);
      rule.expiration = { expiredObjectDeleteMarker: v };
      child = { name: 'ExpiredObjectDeleteMarker', text: padded(rng, rng.pick(v ? ['true', 'TRUE', '1'] : ['false', '0'])) };
    } else if (byDate) {
      const { text, iso } = midnight(rng, base + (lastTransition + rng.int(1, 400)) * DAY_MS);
      rule.expiration = { date: iso };
      child = { name: 'Date', text };
    } else {
      const days = Math.max(lastTransition, 0) + rng.int(1, 400);
      rule.expiration = { days };
      child = { name: 'Days', text: intText(rng, days) };
    }
    groups.push([{ name: 'Expiration', children: [child] }]);
  }
  let lastNoncurrent = 0;
  if (rng.chance(0.2)) {
    const steps = waterfallDays(rng, rng.int(1, 2));
    lastNoncurrent = steps[steps.length - 1]!.days;
    groups.push(
      steps.map((s) => {
        const newer = rng.chance(0.3) ? rng.int(1, 100) : undefined;
        rule.noncurrentVersionTransitions.push({ noncurrentDays: s.days, newerNoncurrentVersions: newer, storageClass: s.storageClass });
        const kids: El[] = [{ name: 'NoncurrentDays', text: intText(rng, s.days) }, { name: 'StorageClass', text: s.storageClass }];
        if (newer !== undefined) kids.push({ name: 'NewerNoncurrentVersions', text: intText(rng, newer) });
        return { name: 'NoncurrentVersionTransition', children: rng.shuffle(kids) };
      }),
    );
  }
  if (rng.chance(0.3)) {
    const noncurrentDays = lastNoncurrent + rng.int(1, 400);
    const newer = rng.chance(0.4) ? rng.int(1, 100) : undefined;
    rule.noncurrentVersionExpiration = { noncurrentDays, newerNoncurrentVersions: newer };
    const kids: El[] = [{ name: 'NoncurrentDays', text: intText(rng, noncurrentDays) }];
    if (newer !== undefined) kids.push({ name: 'NewerNoncurrentVersions', text: intText(rng, newer) });
    groups.push([{ name: 'NoncurrentVersionExpiration', children: rng.shuffle(kids) }]);
  }
  const noAction = !rule.expiration && !rule.noncurrentVersionExpiration && !rule.transitions.length && !rule.noncurrentVersionTransitions.length;
  if (plain && (rng.chance(0.3) || noAction)) {
    const days = rng.int(1, 365);
    rule.abortIncompleteMultipartUpload = { daysAfterInitiation: days };
    groups.push([{ name: 'AbortIncompleteMultipartUpload', children: [{ name: 'DaysAfterInitiation', text: intText(rng, days) }] }]);
  } else if (noAction) {
    const noncurrentDays = rng.int(1, 400);
    rule.noncurrentVersionExpiration = { noncurrentDays };
    groups.push([{ name: 'NoncurrentVersionExpiration', children: [{ name: 'NoncurrentDays', text: intText(rng, noncurrentDays) }] }]);
  }
  return { el: { name: 'Rule', children: interleave(rng, groups) }, rule };
}

export function lifecycleDocument(rng: Rng): Doc<LifecycleConfiguration> {
  const ids = new Set<string>();
  const made = rng.many(1, 4, () => {
    let id: string | undefined;
    if (rng.chance(0.85)) {
      do id = rng.chance(0.05) ? rng.text('abcXYZ019-_.', 255, 255) : xmlString(rng, 1, 40);
      while (ids.has(id));
      ids.add(id);
    }
    return lifecycleRule(rng, id);
  });
  return {
    root: { name: 'LifecycleConfiguration', children: made.map((m) => m.el) },
    intent: { rules: made.map((m) => m.rule), transitionDefaultMinimumObjectSize: 'all_storage_classes_128K' },
  };
}

/** What the valid documents of a property exercised, for counters. */
export function lifecycleFeatures(config: LifecycleConfiguration): string[] {
  const out: string[] = [`rules ${Math.min(config.rules.length, 3)}`];
  for (const r of config.rules) {
    out.push(`filter ${r.filter.kind}`);
    if (r.filter.kind === 'and' && r.filter.tags.length > 1) out.push('and with tags');
    if (r.expiration?.days !== undefined) out.push('expiration days');
    if (r.expiration?.date !== undefined) out.push('expiration date');
    if (r.expiration?.expiredObjectDeleteMarker !== undefined) out.push('expiration marker');
    if (r.transitions.some((t) => t.days !== undefined)) out.push('transition days');
    if (r.transitions.some((t) => t.date !== undefined)) out.push('transition date');
    if (r.transitions.length > 1) out.push('transitions');
    if (r.noncurrentVersionTransitions.length) out.push('noncurrent transition');
    if (r.noncurrentVersionExpiration) out.push('noncurrent expiration');
    if (r.abortIncompleteMultipartUpload) out.push('abort');
    if (typeof r.id !== 'string') out.push('no id');
  }
  return out;
}

export const LIFECYCLE_FEATURES = [
  'rules 1', 'rules 2', 'rules 3',
  'filter none', 'filter legacy-prefix', 'filter empty', 'filter prefix', 'filter tag', 'filter greater', 'filter less', 'filter and', 'and with tags',
  'expiration days', 'expiration date', 'expiration marker', 'transition days', 'transition date', 'transitions',
  'noncurrent transition', 'noncurrent expiration', 'abort', 'no id',
];

// ---- lifecycle mutations that change more than one element

type Mutation = (rng: Rng, root: El) => [string, string] | null;

const kids = (el: El, name: string) => (el.children ?? []).filter((c) => c.name === name);
const first = (el: El, name: string) => kids(el, name)[0];
const rulesOf = (root: El) => kids(root, 'Rule');
const without = (el: El, ...names: string[]) => {
  el.children = (el.children ?? []).filter((c) => !names.includes(c.name));
};
const insert = (rng: Rng, parent: El, child: El) => parent.children!.splice(rng.int(0, parent.children!.length), 0, child);
const tagEl = (key: string, value: string): El => ({ name: 'Tag', children: [{ name: 'Key', text: key }, { name: 'Value', text: value }] });
const ACTIONS = ['Expiration', 'Transition', 'NoncurrentVersionExpiration', 'NoncurrentVersionTransition', 'AbortIncompleteMultipartUpload'];
const PREDICATES = ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan', 'And'];
const intOf = (el: El | undefined) => (el?.text === undefined ? undefined : Number(el.text.trim()));

/**
 * An And of the document, or one made in a rule's place of its filter (a filter is parsed before
 * the rule's actions, so what is wrong in it is what S3 answers, whatever the actions).
 */
function someAnd(rng: Rng, root: El): El {
  const ands = rulesOf(root).flatMap((r) => kids(r, 'Filter')).flatMap((f) => kids(f, 'And'));
  if (ands.length && rng.chance(0.6)) return rng.pick(ands);
  const rule = rng.pick(rulesOf(root));
  without(rule, 'Filter', 'Prefix');
  const and: El = { name: 'And', children: rng.shuffle([{ name: 'Prefix', text: 'logs/' }, { name: 'ObjectSizeLessThan', text: '1000000' }]) };
  insert(rng, rule, { name: 'Filter', children: [and] });
  return and;
}

export const LIFECYCLE_MUTATIONS: Record<string, Mutation> = {
  // "A Filter can have exactly one of Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan, or And".
  'filter-two-predicates': (rng, root) => {
    const filters = rulesOf(root).flatMap((r) => kids(r, 'Filter')).filter((f) => f.children!.some((c) => PREDICATES.includes(c.name)));
    if (!filters.length) return null;
    const f = rng.pick(filters);
    const has = new Set(f.children!.map((c) => c.name));
    const add = rng.pick(PREDICATES.filter((p) => !has.has(p)));
    const el: El = add === 'Tag' ? tagEl('k', 'v') : add === 'And' ? { name: 'And', children: [{ name: 'Prefix', text: 'a' }, tagEl('k', 'v')] } : { name: add, text: add === 'Prefix' ? 'p/' : '10' };
    insert(rng, f, el);
    return ['filter-two-predicates', 'MalformedXML'];
  },
  // "Filter is required if the LifecycleRule does not contain a Prefix element": not both.
  'filter-and-prefix': (rng, root) => {
    const rules = rulesOf(root).filter((r) => first(r, 'Filter') !== undefined);
    if (!rules.length) return null;
    insert(rng, rng.pick(rules), { name: 'Prefix', text: rng.pick(['', 'logs/']) });
    return ['filter-and-prefix', 'MalformedXML'];
  },
  // And joins two predicates or more.
  'and-one-predicate': (rng, root) => {
    const and = someAnd(rng, root);
    const predicates = and.children!.filter((c) => ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan'].includes(c.name));
    const keep = rng.pick(predicates);
    and.children = and.children!.filter((c) => c === keep || !predicates.includes(c));
    return ['and-one-predicate', 'MalformedXML'];
  },
  // AWS: InvalidRequest "Duplicate Tag Keys are not allowed."
  'and-duplicate-tag-key': (rng, root) => {
    const and = someAnd(rng, root);
    const tags = kids(and, 'Tag');
    const key = tags.length ? first(rng.pick(tags), 'Key')!.text! : 'k';
    if (!tags.length) insert(rng, and, tagEl(key, 'one value'));
    insert(rng, and, tagEl(key, rng.pick(['another value', ''])));
    return ['and-duplicate-tag-key', 'InvalidRequest'];
  },
  // "ObjectSizeGreaterThan must be less than ObjectSizeLessThan".
  'and-sizes-reversed': (rng, root) => {
    const and = someAnd(rng, root);
    const g = intOf(first(and, 'ObjectSizeGreaterThan')) ?? intOf(first(and, 'ObjectSizeLessThan')) ?? rng.int(1, 1000);
    const l = g - rng.int(0, Math.min(g, 1000));
    without(and, 'ObjectSizeGreaterThan', 'ObjectSizeLessThan');
    insert(rng, and, { name: 'ObjectSizeGreaterThan', text: String(g) });
    insert(rng, and, { name: 'ObjectSizeLessThan', text: String(l) });
    return ['and-sizes-reversed', 'InvalidArgument'];
  },
  // Exactly one of Days, Date and ExpiredObjectDeleteMarker (API_LifecycleExpiration.html).
  'expiration-two-kinds': (rng, root) => {
    const exps = rulesOf(root).flatMap((r) => kids(r, 'Expiration'));
    if (!exps.length) return null;
    const exp = rng.pick(exps);
    const has = exp.children!.find((c) => ['Days', 'Date', 'ExpiredObjectDeleteMarker'].includes(c.name))!.name;
    const add = rng.pick(['Days', 'Date', 'ExpiredObjectDeleteMarker'].filter((n) => n !== has));
    insert(rng, exp, { name: add, text: add === 'Days' ? '3650' : add === 'Date' ? '2040-01-01T00:00:00Z' : rng.pick(['true', 'false']) });
    return ['expiration-two-kinds', 'MalformedXML'];
  },
  'transition-days-and-date': (rng, root) => {
    const ts = rulesOf(root).flatMap((r) => kids(r, 'Transition'));
    if (!ts.length) return null;
    const t = rng.pick(ts);
    insert(rng, t, first(t, 'Days') ? { name: 'Date', text: '2040-01-01T00:00:00Z' } : { name: 'Days', text: '400' });
    return ['transition-days-and-date', 'MalformedXML'];
  },
  // AWS: InvalidArgument "Rule ID must be unique. Found same ID for more than one rule".
  'duplicate-rule-id': (rng, root) => {
    const rules = rulesOf(root);
    const named = rules.filter((r) => first(r, 'ID') !== undefined);
    if (!named.length || rules.length < 2) return null;
    const source = rng.pick(named);
    const target = rng.pick(rules.filter((r) => r !== source));
    without(target, 'ID');
    insert(rng, target, { name: 'ID', text: first(source, 'ID')!.text });
    return ['duplicate-rule-id', 'InvalidArgument'];
  },
  // AWS: InvalidRequest "At least one action needs to be specified in a rule".
  'no-action': (rng, root) => {
    without(rng.pick(rulesOf(root)), ...ACTIONS);
    return ['no-action', 'InvalidRequest'];
  },
  // "When you use the ExpiredObjectDeleteMarker S3 Lifecycle action, the rule cannot specify a tag-based filter."
  'marker-with-tags': (rng, root) => {
    const rule = rng.pick(rulesOf(root));
    without(rule, 'Filter', 'Prefix', 'Expiration', 'Transition');
    insert(rng, rule, { name: 'Filter', children: rng.chance(0.5) ? [tagEl('k', 'v')] : [{ name: 'And', children: [{ name: 'Prefix', text: 'p/' }, tagEl('k', 'v')] }] });
    insert(rng, rule, { name: 'Expiration', children: [{ name: 'ExpiredObjectDeleteMarker', text: 'true' }] });
    return ['marker-with-tags', 'InvalidRequest'];
  },
  // AWS: InvalidRequest "AbortIncompleteMultipartUpload cannot be specified with Tags."
  'abort-with-tags': (rng, root) => {
    const rule = rng.pick(rulesOf(root));
    without(rule, 'Filter', 'Prefix', 'AbortIncompleteMultipartUpload');
    if (kids(rule, 'Expiration').some((e) => first(e, 'ExpiredObjectDeleteMarker'))) without(rule, 'Expiration');
    insert(rng, rule, { name: 'Filter', children: rng.chance(0.5) ? [tagEl('k', 'v')] : [{ name: 'And', children: [tagEl('a', '1'), tagEl('b', '2')] }] });
    insert(rng, rule, { name: 'AbortIncompleteMultipartUpload', children: [{ name: 'DaysAfterInitiation', text: '7' }] });
    return ['abort-with-tags', 'InvalidRequest'];
  },
  // AWS: InvalidArgument "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'".
  // The rule's transitions (and a dated expiration, which would mix Date and Days) give way to it.
  'ia-before-30-days': (rng, root) => {
    const rule = rng.pick(rulesOf(root));
    without(rule, 'Transition');
    if (kids(rule, 'Expiration').some((e) => first(e, 'Date'))) without(rule, 'Expiration');
    const t: El = { name: 'Transition', children: [{ name: 'Days', text: String(rng.int(0, 29)) }, { name: 'StorageClass', text: rng.pick(['STANDARD_IA', 'ONEZONE_IA']) }] };
    insert(rng, rule, t);
    return ['ia-before-30-days', 'InvalidArgument'];
  },
  // AWS: InvalidArgument "'Days' in the Expiration action for filter '(prefix=logs/)' must be greater than 'Days' in the Transition action".
  'expiration-not-after-transition': (rng, root) => {
    const rule = rng.pick(rulesOf(root));
    without(rule, 'Transition', 'Expiration');
    const days = rng.int(1, 365);
    insert(rng, rule, { name: 'Transition', children: rng.shuffle([{ name: 'Days', text: String(days) }, { name: 'StorageClass', text: rng.pick(['GLACIER', 'DEEP_ARCHIVE', 'GLACIER_IR']) }]) });
    insert(rng, rule, { name: 'Expiration', children: [{ name: 'Days', text: String(rng.int(1, days)) }] });
    return ['expiration-not-after-transition', 'InvalidArgument'];
  },
  // Guess (lifecycle.ts): one transition per storage class in a rule.
  'transition-class-twice': (rng, root) => {
    const rules = rulesOf(root).filter((r) => kids(r, 'Transition').length > 0);
    if (!rules.length) return null;
    const rule = rng.pick(rules);
    const t = rng.pick(kids(rule, 'Transition'));
    insert(rng, rule, JSON.parse(JSON.stringify(t)) as El);
    return ['transition-class-twice', 'InvalidRequest'];
  },
};

// ---------------------------------------------------------------- object lock

export function objectLockDocument(rng: Rng): Doc<BucketObjectLock> {
  const intent: BucketObjectLock = { enabled: true };
  const children: El[] = [{ name: 'ObjectLockEnabled', text: 'Enabled' }];
  if (rng.chance(0.75)) {
    const mode = rng.pick(['GOVERNANCE', 'COMPLIANCE'] as const);
    const years = rng.chance(0.4);
    const period = years ? rng.pick([1, 100, rng.int(1, 100)]) : rng.pick([1, 36_500, rng.int(1, 3650)]);
    intent.defaultRetention = years ? { mode, years: period } : { mode, days: period };
    const retention: El = { name: 'DefaultRetention', children: rng.shuffle([{ name: 'Mode', text: mode }, { name: years ? 'Years' : 'Days', text: intText(rng, period) }]) };
    children.push({ name: 'Rule', children: [retention] });
  }
  return { root: { name: 'ObjectLockConfiguration', children: rng.shuffle(children) }, intent };
}

export const OBJECT_LOCK_MUTATIONS: Record<string, Mutation> = {
  // A default retention names Days or Years, not both.
  'days-and-years': (rng, root) => {
    const retention = kids(root, 'Rule').flatMap((r) => kids(r, 'DefaultRetention'))[0];
    if (!retention) return null;
    insert(rng, retention, first(retention, 'Days') ? { name: 'Years', text: '1' } : { name: 'Days', text: '1' });
    return ['days-and-years', 'MalformedXML'];
  },
  // "Rule ... DefaultRetention": a Rule without one does not validate.
  'empty-rule': (rng, root) => {
    const rule = first(root, 'Rule');
    if (!rule) return null;
    rule.children = rng.chance(0.5) ? [] : [{ name: 'DefaultRetention', children: [] }];
    return ['empty-rule', 'MalformedXML'];
  },
};

// ---------------------------------------------------------------- retention and legal hold

/** `ms` as xs:dateTime: UTC with or without fractions, or another offset. */
function isoDateTime(rng: Rng, ms: number): string {
  const form = rng.int(0, 3);
  const iso = new Date(ms).toISOString();
  if (form === 0) return iso;
  if (form === 1 && ms % 1000 === 0) return iso.replace('.000Z', 'Z');
  if (form === 2) return iso.replace('Z', '000Z');
  const offset = rng.pick([60, -300, 330, 0, -720]);
  const local = new Date(ms + offset * 60_000).toISOString().slice(0, 23);
  const sign = offset < 0 ? '-' : '+';
  const hh = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
  const mm = String(Math.abs(offset) % 60).padStart(2, '0');
  return `${local}${sign}${hh}${rng.chance(0.8) ? ':' : ''}${mm}`;
}

/** Retention: a mode and a date after `now`, or neither (which removes a retention). */
export function retentionDocument(rng: Rng, now: number): Doc<ObjectLockState> {
  if (rng.chance(0.1)) return { root: { name: 'Retention', children: [] }, intent: {} };
  const mode = rng.pick(['GOVERNANCE', 'COMPLIANCE'] as const);
  const until = now + rng.pick([1000, rng.int(1, 3650) * DAY_MS, rng.int(1, 100 * 365 * DAY_MS)]);
  // Whole seconds (as botocore writes them) or with milliseconds.
  const ms = rng.chance(0.5) ? Math.ceil(until / 1000) * 1000 : until;
  return {
    root: { name: 'Retention', children: rng.shuffle([{ name: 'Mode', text: mode }, { name: 'RetainUntilDate', text: padded(rng, isoDateTime(rng, ms)) }]) },
    intent: { mode, retainUntil: ms },
  };
}

export function legalHoldDocument(rng: Rng): Doc<ObjectLockState> {
  const status = rng.pick(['ON', 'OFF'] as const);
  return { root: { name: 'LegalHold', children: [{ name: 'Status', text: status }] }, intent: { legalHold: status } };
}
