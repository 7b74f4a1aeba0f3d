import { S3Error } from '../src/errors';
import {
  dueAfterDays,
  expirationHeader,
  filterMatches,
  lifecycleConfigurationXml,
  objectExpiration,
  parseLifecycleConfiguration,
  uploadAbort,
  uploadMatches,
  type LifecycleFilter,
} from '../src/lifecycle';

const doc = (...rules: string[]) => `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules.join('')}</LifecycleConfiguration>`;
const rule = (body: string, id = 'r') => `<Rule>${id === '' ? '' : `<ID>${id}</ID>`}<Status>Enabled</Status>${body}</Rule>`;

function errorOf(body: string, minimumSize?: string): { code: string; message: string; status: number } {
  try {
    parseLifecycleConfiguration(body, minimumSize);
  } catch (err) {
    if (err instanceof S3Error) return { code: err.code, message: err.message, status: err.status };
    throw err;
  }
  throw new Error('expected the document to be refused');
}

describe('dueAfterDays: creation + days, rounded up to the next midnight UTC', () => {
  it.each([
    // AWS's own example: created 1/15/2014 10:30 UTC, 3 days: 1/19/2014 00:00 UTC.
    ['2014-01-15T10:30:00Z', 3, '2014-01-19T00:00:00.000Z'],
    ['2014-01-15T00:00:00Z', 1, '2014-01-17T00:00:00.000Z'],
    ['2014-01-15T23:59:59.999Z', 1, '2014-01-17T00:00:00.000Z'],
    ['2014-12-31T12:00:00Z', 1, '2015-01-02T00:00:00.000Z'],
    ['2016-02-28T05:00:00Z', 1, '2016-03-01T00:00:00.000Z'],
  ])('%s + %d day(s) -> %s', (created, days, due) => {
    expect(new Date(dueAfterDays(Date.parse(created), days)).toISOString()).toBe(due);
  });
});

describe('filterMatches', () => {
  const o = { key: 'logs/2024/a.txt', tags: [{ key: 'class', value: 'temp' }, { key: 'team', value: 'x' }], size: 100 };
  it.each<[string, LifecycleFilter, boolean]>([
    ['no filter', { kind: 'none' }, true],
    ['empty filter', { kind: 'empty' }, true],
    ['legacy prefix', { kind: 'legacy-prefix', prefix: 'logs/' }, true],
    ['prefix', { kind: 'prefix', prefix: 'logs/2024/' }, true],
    ['other prefix', { kind: 'prefix', prefix: 'log/2' }, false],
    ['prefix is case-sensitive', { kind: 'prefix', prefix: 'Logs/' }, false],
    ['tag', { kind: 'tag', tag: { key: 'class', value: 'temp' } }, true],
    ['tag, other value', { kind: 'tag', tag: { key: 'class', value: 'keep' } }, false],
    ['tag key alone matches an empty value only', { kind: 'tag', tag: { key: 'class', value: '' } }, false],
    ['size > 99', { kind: 'greater', size: 99 }, true],
    ['size > 100 (strict)', { kind: 'greater', size: 100 }, false],
    ['size < 101', { kind: 'less', size: 101 }, true],
    ['size < 100 (strict)', { kind: 'less', size: 100 }, false],
    ['and: all hold', { kind: 'and', prefix: 'logs/', tags: [{ key: 'class', value: 'temp' }, { key: 'team', value: 'x' }], greater: 10, less: 1000 }, true],
    ['and: one tag missing', { kind: 'and', prefix: 'logs/', tags: [{ key: 'class', value: 'temp' }, { key: 'owner', value: 'me' }] }, false],
    ['and: prefix fails', { kind: 'and', prefix: 'tmp/', tags: [{ key: 'class', value: 'temp' }] }, false],
    ['and: size fails', { kind: 'and', prefix: 'logs/', tags: [], greater: 100, less: 200 }, false],
  ])('%s', (_name, filter, expected) => {
    expect(filterMatches(filter, o)).toBe(expected);
  });

  it('an object without tags matches no tag filter', () => {
    expect(filterMatches({ kind: 'tag', tag: { key: 'class', value: 'temp' } }, { key: 'a', size: 1 })).toBe(false);
  });

  it('uploads match by prefix alone', () => {
    expect(uploadMatches({ kind: 'and', prefix: 'mpu/', tags: [], greater: 10, less: 20 }, 'mpu/x')).toBe(true);
    expect(uploadMatches({ kind: 'prefix', prefix: 'mpu/' }, 'other/x')).toBe(false);
  });
});

describe('parseLifecycleConfiguration: what S3 accepts, and what it gives back', () => {
  it('keeps every element and writes it back as GET answers it', () => {
    const config = parseLifecycleConfiguration(
      doc(
        rule('<Filter><Prefix>logs/</Prefix></Filter><Expiration><Days>30</Days></Expiration><Transition><Days>0</Days><StorageClass>GLACIER</StorageClass></Transition>', 'a'),
        rule('<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>', 'b'),
        rule('<Filter><And><Prefix>p/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>20</ObjectSizeLessThan></And></Filter><NoncurrentVersionExpiration><NoncurrentDays>40</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration><NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>STANDARD_IA</StorageClass></NoncurrentVersionTransition>', 'c'),
        rule('<Prefix>legacy/</Prefix><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>', 'd'),
        rule('<Filter></Filter><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>', 'e'),
        rule('<Filter><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter><Expiration><Days>1</Days></Expiration>', 'f'),
      ),
      'varies_by_storage_class',
    );
    expect(config.transitionDefaultMinimumObjectSize).toBe('varies_by_storage_class');
    expect(config.rules.map((r) => r.filter.kind)).toEqual(['prefix', 'tag', 'and', 'legacy-prefix', 'empty', 'less']);
    const xml = lifecycleConfigurationXml(config);
    expect(xml).toContain('<Rule><ID>a</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Transition><Days>0</Days><StorageClass>GLACIER</StorageClass></Transition><Expiration><Days>30</Days></Expiration></Rule>');
    expect(xml).toContain('<Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration>');
    expect(xml).toContain('<Filter><And><Prefix>p/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>20</ObjectSizeLessThan></And></Filter>');
    expect(xml).toContain('<NoncurrentVersionExpiration><NoncurrentDays>40</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration>');
    expect(xml).toContain('<Rule><ID>d</ID><Prefix>legacy/</Prefix><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>');
    expect(xml).toContain('<Filter></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>');
    // What GET writes, PUT reads back to the same rules.
    expect(parseLifecycleConfiguration(xml, 'varies_by_storage_class')).toEqual(config);
  });

  it('names a rule that has no ID, and defaults the minimum object size', () => {
    const config = parseLifecycleConfiguration(doc(rule('<Filter/><Expiration><Days>1</Days></Expiration>', '')), undefined);
    expect(config.rules[0]!.id).toMatch(/^[A-Za-z0-9+/=]{40,}$/);
    expect(config.transitionDefaultMinimumObjectSize).toBe('all_storage_classes_128K');
  });

  it('takes an empty Value as a tag value (a Tag needs its Value element, not a non-empty one)', () => {
    const config = parseLifecycleConfiguration(doc(rule('<Filter><Tag><Key>k</Key><Value/></Tag></Filter><Expiration><Days>1</Days></Expiration>')), undefined);
    expect(config.rules[0]!.filter).toEqual({ kind: 'tag', tag: { key: 'k', value: '' } });
  });

  it('accepts 1,000 rules and a 255-character ID', () => {
    const rules = Array.from({ length: 1000 }, (_, i) => rule('<Filter/><Expiration><Days>1</Days></Expiration>', i === 0 ? 'x'.repeat(255) : `r${i}`));
    expect(parseLifecycleConfiguration(doc(...rules), undefined).rules).toHaveLength(1000);
  });

  const malformed = { code: 'MalformedXML', status: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema' };
  it.each<[string, string, { code: string; status: number; message: string }]>([
    ['no rule', doc(), malformed],
    ['another root', '<Lifecycle><Rule><Status>Enabled</Status></Rule></Lifecycle>', malformed],
    ['1,001 rules', doc(...Array.from({ length: 1001 }, (_, i) => rule('<Filter/><Expiration><Days>1</Days></Expiration>', `r${i}`))), malformed],
    ['a status in lower case', doc('<Rule><ID>a</ID><Status>enabled</Status><Filter/><Expiration><Days>1</Days></Expiration></Rule>'), malformed],
    ['no status', doc('<Rule><ID>a</ID><Filter/><Expiration><Days>1</Days></Expiration></Rule>'), malformed],
    ['an ID of 256 characters', doc(rule('<Filter/><Expiration><Days>1</Days></Expiration>', 'x'.repeat(256))), { code: 'InvalidArgument', status: 400, message: 'ID length should not exceed allowed limit of 255' }],
    ['two rules with one ID', doc(rule('<Filter/><Expiration><Days>1</Days></Expiration>', 'same'), rule('<Filter/><Expiration><Days>2</Days></Expiration>', 'same')), { code: 'InvalidArgument', status: 400, message: 'Rule ID must be unique. Found same ID for more than one rule' }],
    ['Filter and Prefix', doc(rule('<Prefix>a</Prefix><Filter/><Expiration><Days>1</Days></Expiration>')), malformed],
    ['a Filter with Prefix and Tag', doc(rule('<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Expiration><Days>1</Days></Expiration>')), malformed],
    ['And with one predicate', doc(rule('<Filter><And><Prefix>a</Prefix></And></Filter><Expiration><Days>1</Days></Expiration>')), malformed],
    // Tag's Value is "Required: Yes" (API_Tag.html), as Key is.
    ['a filter Tag with no Value', doc(rule('<Filter><Tag><Key>k</Key></Tag></Filter><Expiration><Days>1</Days></Expiration>')), malformed],
    ['an And Tag with no Value', doc(rule('<Filter><And><Prefix>a</Prefix><Tag><Key>k</Key></Tag></And></Filter><Expiration><Days>1</Days></Expiration>')), malformed],
    ['a filter Tag with no Key', doc(rule('<Filter><Tag><Value>v</Value></Tag></Filter><Expiration><Days>1</Days></Expiration>')), malformed],
    ['And with a tag key twice', doc(rule('<Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></And></Filter><Expiration><Days>1</Days></Expiration>')), { code: 'InvalidRequest', status: 400, message: 'Duplicate Tag Keys are not allowed.' }],
    ['And with sizes the wrong way round', doc(rule('<Filter><And><ObjectSizeGreaterThan>20</ObjectSizeGreaterThan><ObjectSizeLessThan>10</ObjectSizeLessThan></And></Filter><Expiration><Days>1</Days></Expiration>')), { code: 'InvalidArgument', status: 400, message: 'ObjectSizeGreaterThan must be less than ObjectSizeLessThan' }],
    ['no action', doc(rule('<Filter/>')), { code: 'InvalidRequest', status: 400, message: 'At least one action needs to be specified in a rule' }],
    ['Expiration Days 0', doc(rule('<Filter/><Expiration><Days>0</Days></Expiration>')), { code: 'InvalidArgument', status: 400, message: "'Days' for Expiration action must be a positive integer" }],
    ['Expiration Days not a number', doc(rule('<Filter/><Expiration><Days>one</Days></Expiration>')), malformed],
    ['Expiration Days and Date', doc(rule('<Filter/><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>')), malformed],
    ['Expiration Days and ExpiredObjectDeleteMarker', doc(rule('<Filter/><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>')), malformed],
    ['an empty Expiration', doc(rule('<Filter/><Expiration></Expiration>')), malformed],
    ['a Date that is not midnight', doc(rule('<Filter/><Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>')), { code: 'InvalidArgument', status: 400, message: "'Date' must be at midnight GMT" }],
    ['a Date that is midnight elsewhere', doc(rule('<Filter/><Expiration><Date>2030-01-01T00:00:00+02:00</Date></Expiration>')), { code: 'InvalidArgument', status: 400, message: "'Date' must be at midnight GMT" }],
    ['a Date that is no date', doc(rule('<Filter/><Expiration><Date>tomorrow</Date></Expiration>')), malformed],
    ['ExpiredObjectDeleteMarker with a tag filter', doc(rule('<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>')), { code: 'InvalidRequest', status: 400, message: 'ExpiredObjectDeleteMarker cannot be specified with tag-based filter.' }],
    ['NoncurrentDays 0', doc(rule('<Filter/><NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>')), { code: 'InvalidArgument', status: 400, message: "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer" }],
    ['an empty NoncurrentVersionExpiration', doc(rule('<Filter/><NoncurrentVersionExpiration></NoncurrentVersionExpiration>')), malformed],
    ['NewerNoncurrentVersions 101', doc(rule('<Filter/><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>')), { code: 'InvalidArgument', status: 400, message: "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer up to 100" }],
    ['DaysAfterInitiation 0', doc(rule('<Filter/><AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>')), { code: 'InvalidArgument', status: 400, message: "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer" }],
    ['AbortIncompleteMultipartUpload with a tag filter', doc(rule('<Filter><And><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>')), { code: 'InvalidRequest', status: 400, message: 'AbortIncompleteMultipartUpload cannot be specified with Tags.' }],
    ['a transition to STANDARD', doc(rule('<Filter/><Transition><Days>30</Days><StorageClass>STANDARD</StorageClass></Transition>')), malformed],
    ['a transition with Days and Date', doc(rule('<Filter/><Transition><Days>30</Days><Date>2030-01-01T00:00:00Z</Date><StorageClass>GLACIER</StorageClass></Transition>')), malformed],
    ['STANDARD_IA before 30 days', doc(rule('<Filter/><Transition><Days>10</Days><StorageClass>STANDARD_IA</StorageClass></Transition>')), { code: 'InvalidArgument', status: 400, message: "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'" }],
    ['ONEZONE_IA noncurrent before 30 days', doc(rule('<Filter/><NoncurrentVersionTransition><NoncurrentDays>5</NoncurrentDays><StorageClass>ONEZONE_IA</StorageClass></NoncurrentVersionTransition>')), { code: 'InvalidArgument', status: 400, message: "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to 30 for storageClass 'ONEZONE_IA'" }],
    ['expiration before the transition', doc(rule('<Filter><Prefix>logs/</Prefix></Filter><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition><Expiration><Days>30</Days></Expiration>')), { code: 'InvalidArgument', status: 400, message: "'Days' in the Expiration action for filter '(prefix=logs/)' must be greater than 'Days' in the Transition action" }],
  ])('%s', (_name, body, expected) => {
    expect(errorOf(body)).toEqual(expected);
  });

  it('refuses an unknown x-amz-transition-default-minimum-object-size', () => {
    expect(errorOf(doc(rule('<Filter/><Expiration><Days>1</Days></Expiration>')), '64K').code).toBe('InvalidArgument');
  });
});

describe('objectExpiration and uploadAbort: the earliest enabled rule that selects the object', () => {
  const config = parseLifecycleConfiguration(
    doc(
      rule('<Filter><Prefix>logs/</Prefix></Filter><Expiration><Days>10</Days></Expiration>', 'ten days'),
      rule('<Filter><Prefix>logs/tmp/</Prefix></Filter><Expiration><Days>2</Days></Expiration>', 'two days'),
      '<Rule><ID>off</ID><Status>Disabled</Status><Filter/><Expiration><Days>1</Days></Expiration></Rule>',
      rule('<Filter><Prefix>dated/</Prefix></Filter><Expiration><Date>2031-05-01T00:00:00Z</Date></Expiration>', 'dated'),
      rule('<Filter><Prefix>mpu/</Prefix></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload>', 'abort'),
      rule('<Filter/><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>', 'markers'),
    ),
    undefined,
  );
  const created = Date.parse('2030-03-10T15:00:00Z');

  it('picks the earliest of the rules that apply', () => {
    expect(objectExpiration(config, { key: 'logs/tmp/a', size: 1, lastModified: created })).toEqual({ due: Date.parse('2030-03-13T00:00:00Z'), ruleId: 'two days' });
    expect(objectExpiration(config, { key: 'logs/a', size: 1, lastModified: created })).toEqual({ due: Date.parse('2030-03-21T00:00:00Z'), ruleId: 'ten days' });
    expect(objectExpiration(config, { key: 'dated/a', size: 1, lastModified: created })).toEqual({ due: Date.parse('2031-05-01T00:00:00Z'), ruleId: 'dated' });
  });

  it('ignores disabled rules and rules that only clean up delete markers', () => {
    expect(objectExpiration(config, { key: 'other', size: 1, lastModified: created })).toBeUndefined();
  });

  it('gives uploads their abort date', () => {
    expect(uploadAbort(config, 'mpu/x', created)).toEqual({ due: Date.parse('2030-03-14T00:00:00Z'), ruleId: 'abort' });
    expect(uploadAbort(config, 'logs/x', created)).toBeUndefined();
  });

  it('writes x-amz-expiration as AWS does, the rule id URL-encoded', () => {
    expect(expirationHeader({ due: Date.parse('2012-12-23T00:00:00Z'), ruleId: 'picture deletion/rule' })).toBe('expiry-date="Sun, 23 Dec 2012 00:00:00 GMT", rule-id="picture%20deletion%2Frule"');
  });
});
