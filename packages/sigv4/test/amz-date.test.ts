import { parseAmzDate, toAmzDate } from '../src/canonical';

describe('parseAmzDate', () => {
  it('parses valid dates, the same string again from its memory, as separate Date objects', () => {
    const a = parseAmzDate('20261127T115958Z')!;
    expect(a.toISOString()).toBe('2026-11-27T11:59:58.000Z');
    a.setTime(0);
    const b = parseAmzDate('20261127T115958Z')!;
    expect(b.toISOString()).toBe('2026-11-27T11:59:58.000Z');
    expect(b).not.toBe(a);
    expect(toAmzDate(parseAmzDate('20261127T115959Z')!)).toBe('20261127T115959Z');
  });

  it('rejects malformed and overflowing values, before and after a valid one', () => {
    for (const bad of ['20261327T115958Z', '20261127T116058Z', '20261127T115958', '2026-11-27T11:59:58Z', '']) {
      expect(parseAmzDate(bad)).toBeUndefined();
      expect(parseAmzDate('20261127T115958Z')).toBeDefined();
      expect(parseAmzDate(bad)).toBeUndefined();
    }
  });
});
